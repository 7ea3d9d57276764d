"""Bulk work: commission thousands of passports, record thousands of EPCIS events.

Both take rows :mod:`chainpass.rows` has validated (from a CSV file or an EPCIS document),
ask the chain what is there already, and send only the rest, in batches, through a
pipelining sender (:class:`~chainpass.sender.BulkSender` or, for an account whose key is not
known here, :class:`~chainpass.sender.SequentialSender`).

Resuming needs no journal: the chain itself is the record. A passport that exists is
skipped (one batched ``passportOf`` read per 500 rows), and the contract refuses to
commission one twice anyway; an event row is recorded on the passports that do not carry
its CBV 2.0 event hash id yet (the same log query ``chainpass epcis import`` uses). So a run
interrupted anywhere (Ctrl-C, a killed process, a node that went away) is resumed by
running the same command again, and ends with every passport and every event exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from web3.types import TxParams, TxReceipt

from chainpass.chain import Chain, Sender, sender_address
from chainpass.enums import Kind, State
from chainpass.epcis_import import RECORD_BATCH, RECORD_PASSPORTS, recorded_with
from chainpass.errors import ChainpassError, ContractRevert, TransactionFailed
from chainpass.passport import Brand, EpcisEvent, ProductPassports
from chainpass.rows import BadRows, CommissionRow, EventRow, RowProblem
from chainpass.sender import Progress, SenderFactory, SentTx, settle
from chainpass.standards.gs1 import ProductKey

#: Passports per `commission` transaction. Measured (`make bench`): 29.8k gas per passport in a
#: batch of 100, so about 3.0M gas a transaction, a tenth of a 30M block: ten fit in a block,
#: and a batch a node refuses costs little to redo. Smaller if the block gas limit is smaller.
COMMISSION_BATCH = 100
#: `passportOf` reads per JSON-RPC batch request.
READ_BATCH = 500
#: Event ids per log query.
LOG_IDS = 200
#: The gas limit given to a commission batch: its share of the first batch's measured gas, times this.
GAS_MARGIN = 1.25
#: The share of the block gas limit one transaction may take.
BLOCK_SHARE = 4
#: Refusals that concern the sender, not a row: reported before anything is sent.
ACTOR_ERRORS = frozenset({"PassportMissingRole", "PassportActorNotVerified", "PassportZeroAddress"})
# ---------------------------------------------------------------------------- sending

#: What a batch holds: commission rows or planned events.
_Item = TypeVar("_Item")
_Value = TypeVar("_Value")


# ---------------------------------------------------------------------------- reading the chain


def existing(pp: ProductPassports, ids: Iterable[int], block: int | None = None) -> set[int]:
    """Which of ``ids`` are passports already (or were at ``block``)."""
    return set(passport_kinds(pp, ids, block))


def passport_kinds(pp: ProductPassports, ids: Iterable[int], block: int | None = None) -> dict[int, Kind]:
    """The kind of each of ``ids`` that is a passport (or was at ``block``): ``passportOf``
    read in JSON-RPC batches of :data:`READ_BATCH` (one call at a time on the embedded chain,
    which has no batches)."""
    wanted = list(dict.fromkeys(ids))
    found: dict[int, Kind] = {}
    for start in range(0, len(wanted), READ_BATCH):
        chunk = wanted[start : start + READ_BATCH]
        for id_, (kind, state) in zip(chunk, _kinds_and_states(pp, chunk, block), strict=True):
            if state != State.NONE:
                found[id_] = Kind(kind)
    return found


def _kinds_and_states(pp: ProductPassports, ids: Sequence[int], block: int | None = None) -> list[tuple[int, int]]:
    """The kind and state of each passport (the second and third words of `passportOf`)."""
    words = pp.views("passportOf", ids, block)
    return [(int.from_bytes(w[32:64], "big"), int.from_bytes(w[64:96], "big")) for w in words]


@dataclass(frozen=True)
class Standing:
    """Where a stopped bulk run left the chain: what it holds of the rows now (mined, whether
    or not confirmations were awaited) and what the sender sent that is not mined yet."""

    rows: int
    #: Rows whose work the chain holds now (passports commissioned, events wholly recorded).
    on_chain: int
    #: Transactions of the sender the node has but has not mined yet.
    pending: int
    #: The confirmations awaited, and how many of the rows are on chain that deep.
    confirmations: int = 0
    deep: int = 0

    @property
    def left(self) -> int:
        return self.rows - self.on_chain


def steady(chain: Chain, sender: Sender, read: Callable[[], _Value]) -> tuple[_Value, int]:
    """``read()`` and the sender's pending count, taken while none of the sender's
    transactions was mined (else read again): a transaction mined between the two would be
    counted nowhere, or twice."""
    address = sender_address(sender)
    for _attempt in range(5):
        mined = chain.w3.eth.get_transaction_count(address)
        pending = max(0, chain.w3.eth.get_transaction_count(address, "pending") - mined)
        value = read()
        if chain.w3.eth.get_transaction_count(address) == mined:
            break
    return value, pending


def _standing(chain: Chain, sender: Sender, rows: int, read: Callable[[], tuple[int, int]]) -> Standing:
    (on_chain, deep), pending = steady(chain, sender, read)
    return Standing(rows, on_chain, pending, chain.confirmations, deep)


def _deep_block(chain: Chain) -> int | None:
    """The newest block with :attr:`Chain.confirmations` blocks on it (None: none is)."""
    deep = chain.w3.eth.block_number - chain.confirmations
    return deep if deep >= 0 else None


def commission_standing(pp: ProductPassports, rows: Sequence[CommissionRow], sender: Sender) -> Standing:
    """What the chain holds of a commission run over ``rows`` now, and how much of it is as
    many blocks deep as the chain's confirmations."""
    ids = [r.id for r in rows]

    def read() -> tuple[int, int]:
        on_chain = len(existing(pp, ids))
        if not pp.chain.confirmations:
            return on_chain, on_chain
        block = _deep_block(pp.chain)
        return on_chain, len(existing(pp, ids, block)) if block is not None else 0

    return _standing(pp.chain, sender, len(rows), read)


def events_standing(pp: ProductPassports, rows: Sequence[EventRow], sender: Sender) -> Standing:
    """What the chain holds of an events run over ``rows`` now (a row counts once its event
    is on every passport it names), and how much of it is confirmations deep."""

    def read() -> tuple[int, int]:
        whole = plan_events(pp, rows)[1]
        if not pp.chain.confirmations:
            return whole, whole
        block = _deep_block(pp.chain)
        return whole, plan_events(pp, rows, last=block)[1] if block is not None else 0

    return _standing(pp.chain, sender, len(rows), read)


def _preflight(pp: ProductPassports, call: TxParams, sender: Sender) -> int | None:
    """The gas ``call`` would use, or None if the contract would refuse it for a row's sake;
    a refusal that concerns the sender (no role, no identity in force) is raised."""
    try:
        return int(pp.chain.w3.eth.estimate_gas(cast(TxParams, {**call, "from": sender_address(sender)})))
    except Exception as exc:  # web3 raises several kinds for a revert
        error = pp.chain.refusal(exc, sender_address(sender))
        if isinstance(error, ContractRevert) and error.error not in ACTOR_ERRORS:
            return None
        raise error from None


def _block_gas_limit(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["gasLimit"])


# ---------------------------------------------------------------------------- commission run


@dataclass
class BulkResult:
    """What a bulk run did."""

    #: commission or events
    what: str
    rows: int
    #: What the rows are numbered by: "line" (CSV) or "event" (EPCIS document, from 0).
    unit: str = "line"
    #: Items (passports, or events) sent now and mined.
    done: int = 0
    #: Items on chain already before this run (or sent by a run still in flight).
    already: int = 0
    #: Items the chain refused: (line, reason).
    refused: list[tuple[int, str]] = field(default_factory=list)
    transactions: int = 0
    gas_used: int = 0
    seconds: float = 0.0
    tx_hashes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def noun(self) -> str:
        return "passport(s)" if self.what == "commission" else "event(s)"

    def summary(self) -> str:
        verb = "commissioned" if self.what == "commission" else "recorded"
        rows = f"{self.rows} {'row' if self.unit == 'line' else 'event'}(s)"
        text = f"{rows}: {self.done} {self.noun} {verb}, {self.already} already on chain"
        if self.refused:
            text += f", {len(self.refused)} refused"
        text += f"; {self.transactions} transaction(s), {self.gas_used:,} gas; {self.seconds:.1f} s"
        if self.done:
            text += f", {self.rate:,.0f} {self.noun.removesuffix('(s)')}s/s"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "rows": self.rows,
            "done": self.done,
            "already": self.already,
            "refused": [{self.unit: line, "reason": reason} for line, reason in self.refused],
            "transactions": self.transactions,
            "gas_used": self.gas_used,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.rate, 1),
            "tx_hashes": self.tx_hashes,
        }


@dataclass
class _Tracker:
    """Adds the items of mined transactions up for a progress callback."""

    on_progress: Progress | None
    total: int
    base: int = 0

    def for_send(self, sizes: Sequence[int]) -> Progress:
        prefix = [0]
        for size in sizes:
            prefix.append(prefix[-1] + size)

        def progress(done: int, _total: int) -> None:
            if self.on_progress is not None:
                self.on_progress(self.base + prefix[min(done, len(sizes))], self.total)

        return progress


def commission(
    pp: ProductPassports,
    rows: Sequence[CommissionRow],
    *,
    sender: Sender,
    make_sender: SenderFactory,
    metadata_hash: bytes = bytes(32),
    metadata_uri: str = "",
    batch_size: int | None = None,
    on_progress: Progress | None = None,
    source: str = "the CSV",
) -> BulkResult:
    """Commission a passport for each row that has none yet, in batches (one `commission`
    transaction each) sent through ``make_sender(progress)``. ``sender`` is the producer
    (for the pre-flight check). Re-running after an interruption commissions the rest.
    :class:`BadRows` (nothing sent) for rows the producer may not commission: see
    :func:`check_brands`."""
    start = time.monotonic()
    result = BulkResult("commission", len(rows))
    settle(pp.chain, sender)
    there = existing(pp, [r.id for r in rows])
    todo = [r for r in rows if r.id not in there]
    cost, measured = _measure(pp, todo, sender, metadata_hash, metadata_uri)  # the sender first
    check_brands(pp, todo, sender, source)
    result.already = len(rows) - len(todo)
    tracker = _Tracker(on_progress, len(rows), result.already)
    if on_progress is not None:
        on_progress(result.already, len(rows))
    size = batch_size or measured
    for _round in range(3):  # a batch refused because a passport appeared meanwhile is re-planned
        if not todo:
            break
        batches = [todo[i : i + size] for i in range(0, len(todo), size)]
        calls = [
            pp.call("commission", [r.key.row for r in batch], metadata_hash, metadata_uri,
                    gas=cost.limit(len(batch)) if cost else None)
            for batch in batches
        ]  # fmt: skip
        sent = make_sender(tracker.for_send([len(b) for b in batches])).send(calls)
        failed = [(row, error) for batch, error in _tally(result, tracker, batches, sent) for row in batch]
        if not failed:
            todo = []
            break
        now_there = existing(pp, [row.id for row, _ in failed])
        result.already += len(now_there)
        tracker.base += len(now_there)
        todo = [row for row, _ in failed if row.id not in now_there]
        errors = {row.id: error for row, error in failed}
        # Refusals other than "exists already" will not change on a retry: report them.
        final = [r for r in todo if not _retryable(errors[r.id])]
        result.refused += [(r.line, str(errors[r.id])) for r in final]
        todo = [r for r in todo if _retryable(errors[r.id])]
        size = max(1, size // 4)
    result.refused += [(r.line, "still refused after 3 attempts") for r in todo]
    result.seconds = time.monotonic() - start
    return result


def _prefix_digits(key: ProductKey) -> str:
    """Where ``key``'s GS1 company prefix lies, as the contract reads it: a GTIN-14's digits
    2-13; an SSCC's after ``00`` and its extension digit, a GIAI's after ``8004`` (up to 12,
    to the first non-digit)."""
    if key.gtin:
        return key.gtin14[1:13]
    tail = key.serial[3:] if key.serial.startswith("00") else key.serial[4:]
    digits = ""
    for char in tail[:12]:
        if char not in "0123456789":
            break
        digits += char
    return digits


def check_brands(pp: ProductPassports, rows: Sequence[CommissionRow], sender: Sender, source: str = "the CSV") -> None:
    """:class:`BadRows` naming every row whose code the producer ``sender`` may not commission:
    its GS1 company prefix is registered to no brand, or to a brand that is not ``sender`` and
    has not licensed it (for the prefix or the GTIN). The contract refuses such a batch as a
    whole; asked here, per row, a mixed file is refused before anything is sent, each row
    with its reason. The chain is asked once per GTIN (and once per brand for SSCCs and GIAIs,
    whose prefixes are registered ones found so far: prefixes never nest)."""
    account = sender_address(sender)
    prefixes: dict[str, Brand] = {}
    licensed: dict[tuple[str, int], bool] = {}
    problems: list[RowProblem] = []
    for row in rows:
        digits = _prefix_digits(row.key)
        brand = next((b for p, b in prefixes.items() if digits.startswith(p)), None)
        if brand is None:
            brand = pp.brand_of(row.key)
            if brand is not None:
                prefixes[brand.prefix] = brand
        if brand is None:
            problems.append(RowProblem(row.line, "", f"no brand is registered for the GS1 company prefix of "
                                       f"{row.key}: a registrar must register it before anything is commissioned "
                                       "under it"))  # fmt: skip
            continue
        if brand.licensee == account:
            continue
        if (brand.prefix, row.key.gtin) not in licensed:
            gtin = row.key.gtin14 if row.key.gtin else None
            licensed[brand.prefix, row.key.gtin] = pp.is_licensed(brand.prefix, account, gtin=gtin)
        if not licensed[brand.prefix, row.key.gtin]:
            problems.append(RowProblem(row.line, "", f"{row.key} is under GS1 company prefix {brand.prefix}, whose "
                                       f"brand {brand.licensee} has not licensed {account}: ask the brand for a "
                                       "licence"))  # fmt: skip
    if problems:
        raise BadRows(source, problems)


def _tally(
    result: BulkResult, tracker: _Tracker, batches: Sequence[Sequence[_Item]], sent: Sequence[SentTx]
) -> list[tuple[Sequence[_Item], ChainpassError]]:
    """Count each mined batch into ``result`` and the progress; the others, in order, with
    what went wrong."""
    failed: list[tuple[Sequence[_Item], ChainpassError]] = []
    for outcome in sorted(sent, key=lambda s: s.index):
        batch = batches[outcome.index]
        if outcome.receipt is not None and outcome.error is None:
            _count(result, outcome.receipt, len(batch))
            tracker.base += len(batch)
        else:
            failed.append((batch, outcome.error or TransactionFailed("The transaction was not mined.")))
    return failed


def _retryable(error: ChainpassError) -> bool:
    return not isinstance(error, ContractRevert) or error.error == "PassportExists"


def _count(result: BulkResult, receipt: TxReceipt, items: int) -> None:
    result.done += items
    result.transactions += 1
    result.gas_used += int(receipt["gasUsed"])
    result.tx_hashes.append("0x" + bytes(receipt["transactionHash"]).hex())


@dataclass(frozen=True)
class BatchCost:
    """What a `commission` transaction costs: a fixed part (the transaction, the caller's
    checks) and a part per passport, each estimated by the node."""

    fixed: float
    per_passport: float

    def limit(self, count: int) -> int:
        """The gas limit for a batch of ``count`` passports, with :data:`GAS_MARGIN`."""
        return int((self.fixed + self.per_passport * count) * GAS_MARGIN)


def _measure(
    pp: ProductPassports, todo: Sequence[CommissionRow], sender: Sender, metadata_hash: bytes, metadata_uri: str
) -> tuple[BatchCost | None, int]:
    """The cost of a batch (None if it cannot be estimated), from estimates of the first
    passport alone and of the first batch, and the batch size: :data:`COMMISSION_BATCH`, or
    fewer if a batch would take more than 1/:data:`BLOCK_SHARE` of a block. A producer the
    contract would refuse is refused here, before anything is sent."""
    if not todo:
        return None, COMMISSION_BATCH
    first = todo[:COMMISSION_BATCH]

    def estimate(batch: Sequence[CommissionRow]) -> int | None:
        call = pp.call("commission", [r.key.row for r in batch], metadata_hash, metadata_uri)
        return _preflight(pp, call, sender)

    one = estimate(first[:1])
    whole = one if len(first) == 1 else estimate(first)
    if one is None or whole is None:
        return None, COMMISSION_BATCH
    per_passport = max(1.0, (whole - one) / (len(first) - 1)) if len(first) > 1 else float(one)
    cost = BatchCost(fixed=max(0.0, one - per_passport), per_passport=per_passport)
    fits = int((_block_gas_limit(pp.chain) / BLOCK_SHARE - cost.fixed) / per_passport)
    return cost, max(1, min(COMMISSION_BATCH, fits))


# ---------------------------------------------------------------------------- events run


@dataclass(frozen=True)
class _Planned:
    row: EventRow
    #: The passports this run records the row on (those not carrying its id yet).
    ids: tuple[int, ...]

    def record(self) -> tuple[Any, ...]:  # as the contract's Event struct
        r = self.row
        return EpcisEvent(
            self.ids, r.biz_step, r.disposition, r.event_time, r.read_point, bytes(32), r.event_id
        ).as_tuple()


def plan_events(
    pp: ProductPassports,
    rows: Sequence[EventRow],
    source: str = "the CSV",
    unit: str = "line",
    last: int | None = None,
) -> tuple[list[_Planned], int]:
    """What is left to record of ``rows`` (in order), and how many rows are wholly on chain
    already (counting the events recorded up to block ``last``, by default all);
    :class:`BadRows` for rows naming a code without a passport. An item code with no
    passport of its own names the container with that GTIN and serial, as on import."""
    item_ids = {k: ProductPassports.passport_id(k) for r in rows for k in r.keys}
    container_ids = {
        k: ProductPassports.passport_id(ProductKey(k.gtin, Kind.CONTAINER, k.serial, 1))
        for k in item_ids
        if k.kind is Kind.ITEM
    }
    there = existing(pp, [*item_ids.values(), *container_ids.values()])
    problems: list[RowProblem] = []
    resolved: list[tuple[EventRow, tuple[int, ...]]] = []
    for row in rows:
        ids: list[int] = []
        for key in row.keys:
            if item_ids[key] in there:
                ids.append(item_ids[key])
            elif key in container_ids and container_ids[key] in there:
                ids.append(container_ids[key])
            else:
                problems.append(RowProblem(row.line, "code", f"{key} has no passport: commission it first", unit))
        resolved.append((row, tuple(ids)))
    if problems:
        raise BadRows(source, problems)
    done: set[tuple[bytes, int]] = set()
    event_ids = [r.event_id for r in rows]
    for start in range(0, len(event_ids), LOG_IDS):
        done |= recorded_with(pp, event_ids[start : start + LOG_IDS], last)
    planned: list[_Planned] = []
    whole = 0
    for row, row_ids in resolved:
        todo = tuple(i for i in row_ids if (row.event_id, i) not in done)
        if todo:
            planned.append(_Planned(row, todo))
        else:
            whole += 1
    return planned, whole


def _waves(planned: Sequence[_Planned]) -> list[list[_Planned]]:
    """Planned rows in waves that keep each passport's events in file order: a row goes in
    the wave after the last one that holds an earlier row on any of its passports. Rows of
    one wave touch different passports, so their transactions may be mined in any order."""
    waves: list[list[_Planned]] = []
    last: dict[int, int] = {}
    for p in planned:
        wave = max((last[i] + 1 for i in p.ids if i in last), default=0)
        while len(waves) <= wave:
            waves.append([])
        waves[wave].append(p)
        for i in p.ids:
            last[i] = wave
    return waves


def _record_batches(planned: Sequence[_Planned]) -> Iterator[list[_Planned]]:
    batch: list[_Planned] = []
    passports = 0
    for p in planned:
        if batch and (len(batch) >= RECORD_BATCH or passports + len(p.ids) > RECORD_PASSPORTS):
            yield batch
            batch, passports = [], 0
        batch.append(p)
        passports += len(p.ids)
    if batch:
        yield batch


def record_events(
    pp: ProductPassports,
    rows: Sequence[EventRow],
    *,
    sender: Sender,
    make_sender: SenderFactory,
    source: str = "the CSV",
    unit: str = "line",
    on_progress: Progress | None = None,
) -> BulkResult:
    """Record each row's event on the passports that do not carry its id yet, in
    `recordEvents` batches sent through ``make_sender(progress)``. A batch the chain refuses
    is retried row by row, so the refused rows are named and the others recorded."""
    start = time.monotonic()
    result = BulkResult("events", len(rows), unit)
    settle(pp.chain, sender)
    planned, result.already = plan_events(pp, rows, source, unit)
    tracker = _Tracker(on_progress, len(rows), result.already)
    if on_progress is not None:
        on_progress(result.already, len(rows))
    if planned:
        _preflight(pp, _record_call(pp, next(_record_batches(planned))), sender)
    for wave in _waves(planned):
        batches = list(_record_batches(wave))
        calls = [_record_call(pp, batch) for batch in batches]
        sent = make_sender(tracker.for_send([len(b) for b in batches])).send(calls)
        retry = [p for batch, _error in _tally(result, tracker, batches, sent) for p in batch]
        for p in retry:  # one by one, to name the refused rows
            _record_one(pp, p, make_sender, result)
            tracker.base += 1
    result.seconds = time.monotonic() - start
    return result


def _record_one(pp: ProductPassports, planned: _Planned, make_sender: SenderFactory, result: BulkResult) -> None:
    done = recorded_with(pp, [planned.row.event_id])
    todo = tuple(i for i in planned.ids if (planned.row.event_id, i) not in done)
    if not todo:
        result.already += 1
        return
    (outcome,) = make_sender(None).send([_record_call(pp, [_Planned(planned.row, todo)])])
    if outcome.receipt is not None and outcome.error is None:
        _count(result, outcome.receipt, 1)
    else:
        result.refused.append((planned.row.line, str(outcome.error or "not mined")))


def _record_call(pp: ProductPassports, batch: Sequence[_Planned]) -> TxParams:
    return pp.call("recordEvents", [p.record() for p in batch])
