"""Sending many transactions: pipelined from one key at the node's speed, surviving faults;
or one at a time for a key the node holds.

:class:`BulkSender` signs transactions here (EIP-1559, with a fee cap the operator sets),
sends them ``batch`` to a JSON-RPC request, keeps up to ``window`` of them in flight and
waits for their receipts in bulk. It keeps its
own nonce counter behind a lock, so several threads may share one sender (and one key);
the counter is resynced from the node when the node says a nonce is taken. A broadcast
that fails for want of a node is retried with backoff by sending the *same signed bytes*
again, so a transaction can never be recorded twice (the node answers "already known",
which counts as success). A transaction that stays unmined is re-broadcast (a node may
have dropped it) and, after ``replace_after`` seconds, replaced by the same transaction at
the same nonce with fees bumped by the policy's ``bump_percent`` (never above its cap).
A transaction the contract refuses is reported, decoded, in its :class:`Sent`; the others
go on. With ``confirmations``, every receipt is checked again once that deep, and a
transaction a reorganisation took out is broadcast again (same bytes, same nonce).

Every signed transaction is announced to ``on_signed(index, tx_hash, nonce)`` *before* it
is broadcast: a journal of those lets an interrupted run resume without duplicates
(``send(calls, resume=journal)``).

For a key the node holds (nothing can be signed ahead), :class:`SequentialSender` sends one
:meth:`~chainpass.chain.Chain.transact` at a time; :func:`sender_factory` picks the one that
fits a sender. Both report the same :class:`SentTx` records.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import rlp
from coincurve import PrivateKey
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3.contract.contract import ContractFunction
from web3.types import TxParams, TxReceipt

from chainpass.backend import NoAnswer, Rpc, RpcError, as_int, shape_receipt
from chainpass.chain import FEE_REQUESTS, NO_FUNDS_TEXTS, Chain, Sender, fee_inputs, sender_address
from chainpass.errors import (
    ChainpassError,
    ConfirmationTimeout,
    ContractRevert,
    InsufficientFunds,
    InvalidInput,
    NodeUnreachable,
    TransactionFailed,
)
from chainpass.fees import FeePolicy

#: Gas limit = estimate x this (state may change between estimation and mining).
GAS_MARGIN_PERCENT = 25
#: Seconds a base fee and tip read from the node are used before they are asked again.
FEE_REFRESH = 1.0
#: Seconds without any receipt before the lowest waiting transaction is broadcast again.
NUDGE_AFTER = 0.5
#: Seconds ``settle`` waits for a pending transaction to be mined before, on Anvil, it drops it.
STUCK_AFTER = 3.0

_KNOWN = ("already known", "known transaction", "already imported", "alreadyknown")
_NONCE_LOW = ("nonce too low", "invalid transaction nonce", "nonce is too low", "oldnonce", "correct nonce")
_UNDERPRICED = ("underpriced", "fee too low", "less than block base fee", "feecap", "max fee per gas less than")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Sent:
    """What became of one input of :meth:`BulkSender.send`."""

    #: Position in the input.
    index: int
    #: The transaction that was mined (or the last one signed); "" if none was signed.
    tx_hash: str
    #: Its nonce; -1 if none was signed.
    nonce: int
    #: None only if the transaction failed before it was mined.
    receipt: TxReceipt | None
    #: A decoded refusal (:class:`ContractRevert`) or another failure; None on success.
    error: ChainpassError | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Version:
    tx_hash: str
    raw: bytes
    max_fee: int
    tip: int


@dataclass
class _Flight:
    index: int
    to: bytes
    data: bytes
    value: int
    gas: int
    nonce: int = -1
    versions: list[_Version] = field(default_factory=list)
    signed_at: float = 0.0
    broadcast_at: float = 0.0
    receipt: Any = None
    #: Hashes from a journal (an earlier run) whose bytes we do not have.
    journaled: tuple[str, ...] = ()

    @property
    def hashes(self) -> list[str]:
        return [*self.journaled, *(v.tx_hash for v in self.versions)]


@dataclass
class _Run:
    """One call of :meth:`BulkSender.send`: where each item stands."""

    flights: list[_Flight]
    #: Positions not signed yet, last to send first.
    todo: list[int]
    #: Signed and broadcast, no receipt yet.
    in_flight: dict[int, _Flight] = field(default_factory=dict)
    #: Mined, waiting for their confirmations.
    mined: dict[int, _Flight] = field(default_factory=dict)
    results: dict[int, Sent] = field(default_factory=dict)
    deadline_of: dict[int, float] = field(default_factory=dict)
    #: When a receipt last came in (or the run started).
    last_progress: float = field(default_factory=time.monotonic)

    def fly(self, flight: _Flight, timeout: float) -> None:
        self.in_flight[flight.index] = flight
        self.deadline_of[flight.index] = time.monotonic() + timeout

    @property
    def done(self) -> int:
        return len(self.results) + len(self.mined)


def _hash_text(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


# ---------------------------------------------------------------------------- sender


class BulkSender:
    """Sends many transactions from one local account; safe to share between threads."""

    def __init__(
        self,
        chain: Chain,
        account: LocalAccount,
        *,
        fees: FeePolicy | None = None,
        window: int = 400,
        batch: int = 100,
        confirmations: int | None = None,
        receipt_timeout: float | None = None,
        on_signed: Callable[[int, str, int], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        rebroadcast_after: float = 3.0,
        replace_after: float = 30.0,
        retry_for: float = 30.0,
        rpc_timeout: float | None = None,
    ) -> None:
        if window < 1:
            raise InvalidInput("The window (transactions in flight) must be at least 1.")
        if batch < 1:
            raise InvalidInput("A broadcast batch must hold at least 1 transaction.")
        # The connection's own fees, confirmations and wait (the CLI's root options) unless given here.
        fees = chain.fees if fees is None else fees
        confirmations = chain.confirmations if confirmations is None else confirmations
        receipt_timeout = chain.receipt_timeout if receipt_timeout is None else receipt_timeout
        if confirmations < 0:
            raise InvalidInput("Confirmations cannot be negative.")
        self.chain = chain
        self.account = account
        self.fees = fees
        self.window = window
        #: Signed transactions sent in one JSON-RPC request (in nonce order).
        self.batch = batch
        self.confirmations = confirmations
        self.receipt_timeout = receipt_timeout
        self.on_signed = on_signed
        self.on_progress = on_progress
        #: Seconds without a receipt before the same bytes are broadcast again.
        self.rebroadcast_after = rebroadcast_after
        #: Seconds without a receipt before the transaction is replaced with higher fees.
        self.replace_after = replace_after
        #: Seconds to keep retrying a node that stopped answering before giving up.
        self.retry_for = retry_for
        self.address = account.address
        self._key = PrivateKey(bytes(account.key))
        self._node: Rpc = chain.backend.rpc(rpc_timeout)
        self._lock = threading.Lock()
        self._next_nonce: int | None = None
        self._chain_id: int | None = None
        self._fees_cache: tuple[float, int, int] | None = None  # (when, base fee, tip)
        self._anvil: bool | None = None  # whether the node is Anvil (``_on_anvil``), once asked

    # ------------------------------------------------------------------ public

    def send(
        self, calls: Sequence[ContractFunction | TxParams], *, resume: Mapping[int, Sequence[str]] | None = None
    ) -> list[Sent]:
        """Send every call (a contract function, or transaction fields: ``to``, ``data``,
        ``value``, optionally ``gas``) and return what became of each, in input order.

        ``resume`` maps input positions to the hashes an earlier, interrupted run signed for
        them (from ``on_signed``): an item whose transaction the node knows is waited for,
        not sent again; the others are sent afresh.
        """
        total = len(calls)
        if total == 0:
            return []
        # Top the window up a batch at a time (half a window, for windows under two batches).
        top_up_below = max(self.window - self.batch, self.window // 2)
        self._start()
        run = _Run([self._flight(n, call) for n, call in enumerate(calls)], list(range(total)))
        if resume:
            self._resumed(run, resume)
        run.todo.reverse()  # pop() from the end takes them in input order
        reported = -1
        idle = 0.0
        while True:
            if run.todo and len(run.in_flight) <= top_up_below:
                count = min(self.window - len(run.in_flight), len(run.todo))
                for flight in self._launch([run.flights[run.todo.pop()] for _ in range(count)], run.results):
                    run.fly(flight, self.receipt_timeout)
            progressed = self._collect(run)
            if progressed:
                run.last_progress = time.monotonic()
            self._chase(run)
            if self.on_progress is not None and run.done != reported:
                reported = run.done
                self.on_progress(reported, total)
            if not run.todo and not run.in_flight:
                if not run.mined or self._confirm(run):
                    break
                progressed = bool(run.in_flight)
            if progressed or (run.todo and len(run.in_flight) <= top_up_below):
                idle = 0.0
            else:
                idle = min(max(idle * 2, 0.002), 0.25)
                time.sleep(idle)
        for index in list(run.mined):
            run.results[index] = self._outcome(run.mined.pop(index))
        if self.on_progress is not None and reported != total:
            self.on_progress(total, total)
        return [run.results[n] for n in range(total)]

    def estimate(self, calls: Sequence[ContractFunction | TxParams]) -> list[int | ChainpassError]:
        """The gas limit :meth:`send` would give each call, estimated on the chain's state now
        (all in one request), or the refusal (decoded) of a call the contract would refuse.
        Calls given to :meth:`send` with these limits (``gas``) are not estimated again."""
        return self._gas_limits([self._flight(n, call) for n, call in enumerate(calls)])

    # -------------------------------------------------------------- building

    def _flight(self, index: int, call: ContractFunction | TxParams) -> _Flight:
        if isinstance(call, ContractFunction):
            value = int(call.transaction.get("value", 0)) if call.transaction else 0
            return _Flight(
                index, bytes(HexBytes(call.address)), bytes(HexBytes(call._encode_transaction_data())), value, 0
            )
        if not isinstance(call, Mapping):
            raise InvalidInput(f"Item {index} is neither a contract call nor transaction fields.")
        to = call.get("to")
        data = call.get("data", b"")
        target = bytes(HexBytes(cast(Any, to))) if to else b""
        if to and len(target) != 20:
            raise InvalidInput(f"Item {index} is sent to {to!r}, which is not an address.")
        return _Flight(
            index,
            target,
            bytes(HexBytes(cast(Any, data))) if data else b"",
            int(call.get("value", 0)),
            int(call.get("gas", 0)),
        )

    def _start(self) -> None:
        """The first contact of a run: a node that does not answer now is reported at once."""
        try:
            if self._chain_id is None:
                self._chain_id = as_int(self._node.call("eth_chainId", []))
            with self._lock:
                if self._next_nonce is None:
                    self._next_nonce = as_int(self._node.call("eth_getTransactionCount", [self.address, "pending"]))
        except NoAnswer as exc:
            raise NodeUnreachable(
                f"No Ethereum node answers at {self.chain.endpoint} ({exc}): nothing was sent. Start the node, "
                "or check the --rpc URL."
            ) from None
        except RpcError as exc:
            raise TransactionFailed(f"The node at {self.chain.endpoint} refused a basic request: {exc}") from None

    def _resumed(self, run: _Run, resume: Mapping[int, Sequence[str]]) -> None:
        """Attach an earlier run's hashes the node knows; those items are waited for, not sent."""
        journaled = [(i, h) for i, hashes in resume.items() if 0 <= i < len(run.flights) for h in hashes]
        answers = self._retrying_batch([("eth_getTransactionByHash", [h]) for _, h in journaled])
        known: dict[int, list[str]] = {}
        for (index, tx_hash), answer in zip(journaled, answers, strict=True):
            if _answered(answer):
                known.setdefault(index, []).append(tx_hash)
        for index, hashes in known.items():
            flight = run.flights[index]
            flight.journaled = tuple(hashes)
            flight.signed_at = flight.broadcast_at = time.monotonic()
            run.fly(flight, self.receipt_timeout)
        run.todo = [n for n in run.todo if n not in known]

    def _current_fees(self) -> tuple[int, int]:
        """(base fee, suggested tip), asked again every :data:`FEE_REFRESH` seconds."""
        cached = self._fees_cache
        if cached is not None and time.monotonic() - cached[0] < FEE_REFRESH:
            return cached[1], cached[2]
        return self._refresh_fees()

    def _refresh_fees(self) -> tuple[int, int]:
        base, suggested = fee_inputs(self._retrying_batch(FEE_REQUESTS))
        self._fees_cache = (time.monotonic(), base, suggested)
        return base, suggested

    def _launch(self, chunk: list[_Flight], results: dict[int, Sent]) -> list[_Flight]:
        """Estimate, sign and broadcast ``chunk``; return the flights now in the air."""
        base, tip = self._current_fees()
        max_fee, tip = self.fees.fees(base, tip)
        need_gas = [f for f in chunk if f.gas == 0]
        for flight, gas in zip(need_gas, self._gas_limits(need_gas), strict=True):
            if isinstance(gas, ChainpassError):
                results[flight.index] = Sent(flight.index, "", -1, None, gas)
            else:
                flight.gas = gas
        ready = [f for f in chunk if f.gas]
        if not ready:
            return []
        with self._lock:
            self._sign_and_broadcast(ready, max_fee, tip)
        return ready

    def _gas_limits(self, flights: Sequence[_Flight]) -> list[int | ChainpassError]:
        """Each flight's gas limit (its estimate on the node's state now, plus
        GAS_MARGIN_PERCENT), or why the contract refuses it: one request for all."""
        if not flights:
            return []
        answers = self._retrying_batch([("eth_estimateGas", [self._call_fields(f)]) for f in flights])
        margin = 100 + GAS_MARGIN_PERCENT
        return [self._refusal(a) if isinstance(a, RpcError) else as_int(a) * margin // 100 for a in answers]

    def _call_fields(self, flight: _Flight) -> dict[str, Any]:
        fields: dict[str, Any] = {"from": self.address, "data": "0x" + flight.data.hex(), "value": hex(flight.value)}
        if flight.to:
            fields["to"] = to_checksum_address(flight.to)
        return fields

    def _sign(self, flight: _Flight, max_fee: int, tip: int) -> _Version:
        assert self._chain_id is not None
        raw = sign_1559(
            self._key, self._chain_id, flight.nonce, tip, max_fee, flight.gas, flight.to, flight.value, flight.data
        )
        version = _Version("0x" + keccak(raw).hex(), raw, max_fee, tip)
        flight.versions.append(version)
        flight.signed_at = time.monotonic()
        if self.on_signed is not None:
            self.on_signed(flight.index, version.tx_hash, flight.nonce)
        return version

    def _sign_and_broadcast(self, flights: list[_Flight], max_fee: int, tip: int) -> None:
        """Under the lock: give each flight the next nonce, sign, announce, broadcast in one batch.
        Transactions a node refuses for a taken nonce get new nonces; for fees, fresh fees."""
        todo = flights
        for _attempt in range(5):
            if self._next_nonce is None:
                self._next_nonce = self._count("pending")
            for flight in todo:
                flight.nonce = self._next_nonce
                self._next_nonce += 1
                self._sign(flight, max_fee, tip)
            answers = self._broadcast([f.versions[-1] for f in todo])
            retry: list[_Flight] = []
            for flight, answer in zip(todo, answers, strict=True):
                flight.broadcast_at = time.monotonic()
                if not isinstance(answer, RpcError) or _says(answer, _KNOWN):
                    continue
                if _says(answer, _NONCE_LOW) and not self._known(flight.versions[-1].tx_hash):
                    retry.append(flight)
                elif _says(answer, NO_FUNDS_TEXTS):
                    self._next_nonce = None
                    raise InsufficientFunds(
                        f"{self.address} cannot pay for gas ({answer}): fund it and run again; transactions sent "
                        "so far stand (resume from the journal)."
                    )
                elif _says(answer, _UNDERPRICED):
                    retry.append(flight)
                elif not _says(answer, _NONCE_LOW):
                    self._next_nonce = None
                    raise TransactionFailed(f"The node refused transaction {flight.versions[-1].tx_hash}: {answer}")
            if not retry:
                return
            # A taken nonce or a fee the chain outgrew: start again from the node's count and fees.
            self._next_nonce = None
            base, suggested = self._refresh_fees()
            max_fee, tip = self.fees.fees(base, suggested)
            todo = retry
        raise TransactionFailed(
            f"The node kept refusing {len(todo)} transactions from {self.address}: another sender may be using "
            "this key at the same time."
        )

    def _broadcast(self, versions: list[_Version]) -> list[Any]:
        """Send signed transactions in nonce order, ``batch`` to a JSON-RPC request (one request
        each cost Anvil some 2.5 ms, a batch of 100 some 30 ms: docs/bulk.md). A transaction a
        node leaves waiting is seen to by ``_chase`` after ``NUDGE_AFTER``."""
        answers: list[Any] = []
        for start in range(0, len(versions), self.batch):
            chunk = versions[start : start + self.batch]
            answers.extend(self._retrying_batch([("eth_sendRawTransaction", ["0x" + v.raw.hex()]) for v in chunk]))
        return answers

    def _count(self, block: str) -> int:
        """The account's transaction count at ``block`` ("latest": mined, "pending": with the pool)."""
        return as_int(self._retrying("eth_getTransactionCount", [self.address, block]))

    def _known(self, tx_hash: str) -> bool:
        return _answered(self._retrying_batch([("eth_getTransactionByHash", [tx_hash])])[0])

    # ------------------------------------------------------------- receipts

    def _collect(self, run: _Run) -> bool:
        """Fetch the receipts of the in-flight transactions the chain has mined, in one batch,
        and move them on (to the results, or to wait for their confirmations). Nonces are
        mined in order, so the account's mined count says which to ask for."""
        if not run.in_flight:
            return False
        mined_count = self._count("latest")
        asked = [(f, h) for f in run.in_flight.values() if f.nonce < mined_count for h in f.hashes]
        if not asked:
            return False
        answers = self._retrying_batch([("eth_getTransactionReceipt", [h]) for _, h in asked])
        progressed = False
        for (flight, _), answer in zip(asked, answers, strict=True):
            if not _answered(answer) or flight.index not in run.in_flight:
                continue
            flight.receipt = shape_receipt(answer)
            del run.in_flight[flight.index]
            if self.confirmations:
                run.mined[flight.index] = flight
            else:
                run.results[flight.index] = self._outcome(flight)
            progressed = True
        return progressed

    def _chase(self, run: _Run) -> None:
        """Re-broadcast transactions unmined for a while; replace those stuck for longer; put
        back in flight mined ones the chain lost (a reorganisation, a node restarted from an
        older state), which the waiting ones' nonces show."""
        now = time.monotonic()
        in_flight = run.in_flight
        late = [f for f in in_flight.values() if f.versions and now - f.broadcast_at >= self.rebroadcast_after]
        stuck: _Flight | None = None
        if not late and in_flight and now - run.last_progress >= NUDGE_AFTER:
            # Nothing mined for a while: broadcast the next one due again. Some nodes hold a
            # transaction in the pool until another one arrives. Anvil, now and then, keeps
            # the next one due as "queued" for ever (and every one after it): it answers
            # "already imported" to the same bytes, so it gets new ones at once, a
            # replacement with bumped fees, which it takes as ready (foundry-rs/foundry#10122;
            # seen in 1 run in 13 of 2,000 transfers in batches, each waiting 30 s before).
            waiting = [f for f in in_flight.values() if f.versions]
            if waiting:
                lowest = min(waiting, key=lambda f: f.nonce)
                if now - lowest.broadcast_at >= NUDGE_AFTER:
                    late = [lowest]
                    if self._on_anvil():
                        stuck = lowest
        if late:
            self._recover_lost(run)
        for flight in list(in_flight.values()):
            if now > run.deadline_of[flight.index]:
                del in_flight[flight.index]
                run.results[flight.index] = Sent(
                    flight.index,
                    flight.hashes[-1] if flight.hashes else "",
                    flight.nonce,
                    None,
                    TransactionFailed(
                        f"Transaction {flight.hashes[-1] if flight.hashes else '?'} (nonce {flight.nonce}) was not "
                        f"mined within {self.receipt_timeout:.0f} s: it may still be; check it, or run again with "
                        "the journal."
                    ),
                )
        late = [f for f in late if f.index in in_flight]
        if not late:
            return
        with self._lock:
            stale = [f for f in late if now - f.signed_at >= self.replace_after or f is stuck]
            if stale:
                base, suggested = self._refresh_fees()
                for flight in stale:
                    last = flight.versions[-1]
                    bumped = self.fees.bumped(last.max_fee, last.tip, base, suggested)
                    if bumped is not None:
                        self._sign(flight, *bumped)
            answers = self._broadcast([f.versions[-1] for f in late])
            for flight, answer in zip(late, answers, strict=True):
                flight.broadcast_at = now
                if not isinstance(answer, RpcError) or _says(answer, _KNOWN):
                    continue
                if _says(answer, _UNDERPRICED) and len(flight.versions) > 1:
                    # The replacement was refused: keep broadcasting the one the node holds.
                    flight.versions.pop()
                elif _says(answer, _NONCE_LOW) and not any(self._mined(h) for h in flight.hashes):
                    # Someone else's transaction took this nonce: sign ours again with a new one.
                    self._next_nonce = self._count("pending")
                    flight.nonce = self._next_nonce
                    self._next_nonce += 1
                    last = flight.versions[-1]
                    self._sign(flight, last.max_fee, last.tip)
                    self._broadcast([flight.versions[-1]])

    def _on_anvil(self) -> bool:
        """Whether the node is Anvil (asked once): see ``_chase``."""
        if self._anvil is None:
            self._anvil = _is_anvil(self._node)
        return self._anvil

    def _mined(self, tx_hash: str) -> bool:
        return _answered(self._retrying_batch([("eth_getTransactionReceipt", [tx_hash])])[0])

    def _recover_lost(self, run: _Run) -> None:
        """Transactions wait for a nonce below theirs that the chain has not mined: if it is one
        of ours that had a receipt, the chain lost it; broadcast it again (same bytes)."""
        waiting = [f.nonce for f in run.in_flight.values() if f.versions]
        mined_count = self._count("latest")
        if not waiting or mined_count >= min(waiting):
            return
        suspects = [
            f for f in run.flights if f.versions and f.receipt is not None and mined_count <= f.nonce < min(waiting)
        ]
        self._recheck(run, suspects)

    def _recheck(self, run: _Run, flights: list[_Flight]) -> bool:
        """Ask again for ``flights``' receipts; those gone go back in flight. True if all stood."""
        answers = self._retrying_batch(
            [("eth_getTransactionReceipt", [_hash_text(f.receipt["transactionHash"])]) for f in flights]
        )
        settled = True
        for flight, answer in zip(flights, answers, strict=True):
            fresh = shape_receipt(answer) if _answered(answer) else None
            if fresh is not None and bytes(fresh["blockHash"]) == bytes(flight.receipt["blockHash"]):
                continue
            settled = False
            if fresh is not None:
                flight.receipt = fresh  # mined again in another block: check it at depth again
                if flight.index in run.results:
                    run.results[flight.index] = self._outcome(flight)
                continue
            run.mined.pop(flight.index, None)
            run.results.pop(flight.index, None)
            flight.receipt = None
            flight.broadcast_at = 0.0  # broadcast again (same bytes) at the next pass
            run.fly(flight, self.receipt_timeout)
        return settled

    def _confirm(self, run: _Run) -> bool:
        """Once the last receipt is ``confirmations`` deep, check every receipt again: a
        transaction a reorganisation took out goes back in flight (same bytes, same nonce).
        True when every receipt stood at that depth."""
        deepest = max(int(f.receipt["blockNumber"]) for f in run.mined.values())
        head = as_int(self._retrying("eth_blockNumber", []))
        if head < deepest + self.confirmations:
            if time.monotonic() > max(run.deadline_of[i] for i in run.mined):
                raise ConfirmationTimeout(
                    f"The chain did not reach {self.confirmations} confirmations "
                    f"(block {deepest + self.confirmations}, head {head}) within {self.receipt_timeout:.0f} s: "
                    "is the node mining?"
                )
            time.sleep(0.01)
            return False
        return self._recheck(run, list(run.mined.values()))

    def _outcome(self, flight: _Flight) -> Sent:
        receipt = cast(TxReceipt, flight.receipt)
        tx_hash = _hash_text(receipt["transactionHash"])
        if int(receipt["status"]) == 1:
            return Sent(flight.index, tx_hash, flight.nonce, receipt, None)
        return Sent(flight.index, tx_hash, flight.nonce, receipt, self._mined_refusal(flight, receipt))

    def _mined_refusal(self, flight: _Flight, receipt: TxReceipt) -> ChainpassError:
        """Why a mined transaction failed: the call replayed on the state before its block."""
        fields = {**self._call_fields(flight), "gas": hex(flight.gas)}
        block = max(int(receipt["blockNumber"]) - 1, 0)
        try:
            self._node.call("eth_call", [fields, hex(block)])
        except RpcError as exc:
            revert = self._refusal(exc)
            if isinstance(revert, ContractRevert):
                return revert
        except NoAnswer:
            pass
        return TransactionFailed(
            f"Transaction {_hash_text(receipt['transactionHash'])} failed in block {receipt['blockNumber']} after "
            f"using {receipt['gasUsed']} gas."
        )

    def _refusal(self, error: RpcError) -> ChainpassError:
        return self.chain.refusal(error, self.address)

    # ----------------------------------------------------------------- retry

    def _retrying(self, method: str, params: list[Any]) -> Any:
        answer = self._retrying_batch([(method, params)])[0]
        if isinstance(answer, RpcError):
            raise TransactionFailed(f"The node refused {method}: {answer}")
        return answer

    def _retrying_batch(self, requests_: list[tuple[str, list[Any]]]) -> list[Any]:
        """Send a batch; while the node does not answer, retry (backoff) for ``retry_for`` seconds."""
        deadline = time.monotonic() + self.retry_for
        pause = 0.05
        while True:
            try:
                return self._node.batch(requests_)
            except NoAnswer as exc:
                if time.monotonic() + pause > deadline:
                    self._next_nonce = None  # whatever the node holds when it is back, ask it
                    raise NodeUnreachable(
                        f"The node at {self.chain.endpoint} stopped answering ({exc}) and did not come back within "
                        f"{self.retry_for:.0f} s. Transactions already signed are in your journal (on_signed): run "
                        "again with it to resume without duplicates."
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 2.0)


def sign_1559(
    key: PrivateKey, chain_id: int, nonce: int, tip: int, max_fee: int, gas: int, to: bytes, value: int, data: bytes
) -> bytes:
    """The raw bytes of an EIP-1559 transaction signed by ``key``: byte for byte what
    eth-account makes, 3 to 6 times as fast (coincurve signs; docs/bulk.md)."""
    fields = [chain_id, nonce, tip, max_fee, gas, to, value, data, []]
    signature = key.sign_recoverable(keccak(b"\x02" + rlp.encode(fields)), hasher=None)
    r, s, v = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"), signature[64]
    raw: bytes = b"\x02" + rlp.encode([*fields, v, r, s])
    return raw


def _answered(answer: Any) -> bool:
    """A batch answer that carries a result (a transaction, a receipt), not nothing or an error."""
    return answer is not None and not isinstance(answer, RpcError)


def _says(error: BaseException, fragments: tuple[str, ...]) -> bool:
    text = str(error).lower()
    return any(fragment in text for fragment in fragments)


# ------------------------------------------------------------- one at a time, and choosing

#: Progress of a send: (done, total).
Progress = Callable[[int, int], None]


class SentTx(Protocol):
    """What a sender reports for one call (as :class:`Sent`)."""

    @property
    def index(self) -> int: ...
    @property
    def tx_hash(self) -> str: ...
    @property
    def receipt(self) -> TxReceipt | None: ...
    @property
    def error(self) -> ChainpassError | None: ...


class TxSender(Protocol):
    """Sends calls, in order, and reports each one's receipt or error (as :class:`BulkSender`)."""

    def send(self, calls: Sequence[TxParams]) -> Sequence[SentTx]: ...


#: Makes a sender that reports its progress to the given function.
SenderFactory = Callable[[Progress | None], TxSender]


@dataclass(frozen=True)
class Outcome:
    """One call sent by :class:`SequentialSender`."""

    index: int
    tx_hash: str
    receipt: TxReceipt | None
    error: ChainpassError | None


@dataclass
class SequentialSender:
    """One transaction at a time through :meth:`Chain.transact`, each waited for: for senders
    whose key is not here (an account unlocked on the node), where transactions cannot be
    signed ahead."""

    chain: Chain
    sender: Sender
    on_progress: Progress | None = None

    def send(self, calls: Sequence[TxParams]) -> list[Outcome]:
        out: list[Outcome] = []
        for index, call in enumerate(calls):
            try:
                receipt = self.chain.transact(call, self.sender)
                out.append(Outcome(index, "0x" + bytes(receipt["transactionHash"]).hex(), receipt, None))
            except ChainpassError as exc:
                out.append(Outcome(index, "", None, exc))
            if self.on_progress is not None:
                self.on_progress(index + 1, len(calls))
        return out


def sender_factory(chain: Chain, sender: Sender) -> SenderFactory:
    """Makes pipelining :class:`BulkSender` objects if the key of ``sender`` is here (a keystore
    account, a dev account of the embedded chain or of Anvil), else :class:`SequentialSender`
    objects; both with the chain's fees and confirmations."""
    key = chain.local_key(sender)
    if key is None:
        return lambda progress: SequentialSender(chain, sender, progress)
    return lambda progress: BulkSender(chain, key, on_progress=progress)


def settle(chain: Chain, sender: Sender, *, timeout: float = 60.0) -> None:
    """Wait until no transaction of ``sender`` is pending on the node (a run killed a moment
    ago may have left some in flight): what the chain holds is then what later runs build
    on, and an event sent by the killed run cannot be mined after this run checked for it.

    On Anvil, transactions that stay pending without any being mined for ``STUCK_AFTER``
    seconds are dropped from its pool (``anvil_dropTransaction``): Anvil now and then keeps
    the next one due "queued" for ever (see ``BulkSender._chase``), and a killed run is not
    there to replace it. Dropped, they can never be mined; this run sends their items
    afresh, once."""
    address = sender_address(sender)
    deadline = time.monotonic() + timeout
    delay = 0.01
    seen: tuple[int, int] | None = None
    since = time.monotonic()
    while True:
        pending = chain.w3.eth.get_transaction_count(address, "pending")
        mined = chain.w3.eth.get_transaction_count(address, "latest")
        if pending <= mined:
            return
        if (pending, mined) != seen:
            seen, since = (pending, mined), time.monotonic()
        elif time.monotonic() - since > STUCK_AFTER and _drop_on_anvil(chain, address):
            continue
        if time.monotonic() > deadline:
            raise TransactionFailed(
                f"{pending - mined} transaction(s) of {address} are still pending on the node after {timeout:.0f} s: "
                "wait until they are mined (or dropped), then run the same command again."
            )
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def _drop_on_anvil(chain: Chain, address: str) -> bool:
    """On Anvil, drop ``address``'s transactions from the pool; whether any were dropped."""
    node = chain.rpc
    if not _is_anvil(node):
        return False
    try:
        content = node.call("txpool_content", []) or {}
        ours = [
            tx["hash"]
            for part in ("pending", "queued")
            for holder, by_nonce in (content.get(part) or {}).items()
            if holder.lower() == address.lower()
            for tx in by_nonce.values()
        ]
        node.batch([("anvil_dropTransaction", [tx_hash]) for tx_hash in ours])
    except (RpcError, NoAnswer, KeyError, AttributeError):
        return False
    return bool(ours)


def _is_anvil(node: Rpc) -> bool:
    """Whether ``node`` is Anvil (by its client version)."""
    try:
        return str(node.call("web3_clientVersion", [])).lower().startswith("anvil")
    except (RpcError, NoAnswer):
        return False
