"""A local index of one contract's logs in SQLite that follows the chain: traces read it
instead of asking the node.

Why: :meth:`ProductPassports.trace <chainpass.passport.ProductPassports.trace>` rebuilds a
journey from logs, one log query per passport it reaches, and each query walks the chain
from the contract's deployment block in chunks. On a long chain or a remote node that is
slow; the index answers the same queries from a local file in milliseconds.

**One file per chain and contract** (the CLI keeps it at
``<home>/index/<chain id>-<contract address>.sqlite``), SQLite in WAL mode. A meta table
holds the layout (``format``), the chain id, the contract address, the deployment block, the
checkpoint (the last block indexed) and the anchors' contract; a file made for another chain,
contract or anchors is refused with :class:`~chainpass.errors.IndexMismatch`; one of an older
layout is migrated when opened (:data:`MIGRATIONS`).

**The anchors** (``EventAnchor``, given with ``anchors``): their logs are indexed beside the
passports', in the same ranges and under the same rules, for :mod:`chainpass.evidence`, which
keeps the anchored events the index is told in tables of its own. Reads for a trace
(:meth:`TraceIndex.get_logs`) return the passports' logs only. An index opened with anchors
for the first time records them and moves its checkpoint back to their deployment block, so
the next sync indexes their logs (the passports' logs met again are kept once). Tables: ``logs`` (block number and hash,
transaction index and hash, log index, address, topic0..topic3, data, a ``removed``
flag) and ``blocks`` (number, hash) for every block logs were stored from and for every
checkpoint.

**Sync** (:meth:`TraceIndex.sync`) indexes from checkpoint + 1 up to ``head -
confirmations``: only blocks with at least N confirmations are indexed. Events in the
last N blocks are not final yet and are not shown by a trace from the index until more
blocks are mined. ``0`` (the default) suits a local node; on a public chain use the
chain's usual depth (e.g. 12, or more for a chain with slow finality).

- Logs are asked with ``eth_getLogs`` for the contract's address, in block ranges of
  :data:`MAX_RANGE` blocks at first. When the provider refuses a range (any JSON-RPC
  error: providers word it as "query returned more than 10000 results", "block range too
  large", "limit exceeded" and many more; or a timeout) the range is halved and asked
  again, down to a single block (then :class:`~chainpass.errors.LogQueryRefused`); after
  each success the range doubles again, up to the maximum.
- Each range is committed in one SQLite transaction with the new checkpoint and the
  hashes of its blocks that had logs and of its last block. An interrupted sync (an
  exception, the process killed) leaves the file as of the last committed range, and the
  next sync resumes from its checkpoint. A UNIQUE constraint on (block hash, transaction
  index, log index) keeps every log once (the transaction index is part of it because the
  embedded EVM numbers logs per transaction, nodes per block).

**Reorgs.** Before each sync the stored hash of the checkpoint block is compared with the
node's. On a mismatch the stored blocks are searched for the highest one the node still
has (a binary search: a block whose hash still matches vouches for every block before it):
that is the fork point. Logs from the blocks after it are marked removed (kept, and listed
by :meth:`TraceIndex.removed_logs`, but never served to a trace), their block hashes are
forgotten, the checkpoint moves back to the fork point, and the sync indexes the new
blocks. A log a provider returns with ``removed: true`` is stored as removed; one that
comes back in the same block later is live again. A reorg deeper than the confirmations
that happens during a sync is found by the next sync. A chain reset under the index (a
fresh Anvil has the same chain id, and deploys at the same address) is a reorg too: no
stored hash matches, every log is marked removed and the new chain indexed.

**Reading.** :class:`TraceIndex` is a :class:`~chainpass.contract_client.LogSource`: a
client made with ``log_source=index`` (``ProductPassports.from_deployment(chain, deployment,
log_source=index)``) reads its logs from the index, ordered by block, transaction index and log
index and shaped like web3's log receipts, so the trace logic is the same code either
way. A trace still asks the node for what logs do not hold (the producer of a
commissioned passport, one call each).

**The embedded chain.** eth-tester answers ``eth_getLogs`` by reading every block and
receipt of the range, and its cost grows far faster than the chain: about 58 s for the
whole chain at ~760 blocks. Never ask it for the whole chain at once. The index only ever
asks in ranges, but syncing a long embedded chain stays slow: use the index on the
embedded chain for tests with short chains, and on a node for anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import BlockNotFound
from web3.types import LogReceipt

from chainpass.backend import NoAnswer, RpcError, as_int
from chainpass.chain import Chain, parse_address
from chainpass.contract_client import LOG_CHUNK, ContractClient
from chainpass.deployment import genesis_hash
from chainpass.errors import IndexMismatch, InvalidInput, LogQueryRefused, NodeUnreachable
from chainpass.index_store import IndexStore, open_store, schema_name
from chainpass.records import JsonRecord

#: The layout's version, kept in the meta table (:data:`MIGRATIONS` bring older ones to it).
FORMAT = 2
#: The widest block range asked at once (and the first one).
MAX_RANGE = LOG_CHUNK
#: Confirmations a block needs before its logs are indexed, unless told otherwise.
DEFAULT_CONFIRMATIONS = 0
#: What a refused log query raises: an error the node returns, or a timeout.
REFUSALS: tuple[type[BaseException], ...] = (RpcError, NoAnswer)

#: A topic to match: one value (hex or bytes), any of several, or None for anything.
Topic = str | bytes | Sequence[str | bytes] | None

_COLUMNS = (
    "block_number, block_hash, transaction_index, log_index, transaction_hash, address, "
    "topic0, topic1, topic2, topic3, data, removed"
)
_ORDER = "ORDER BY block_number, transaction_index, log_index"
#: The meta rows of an index that follows no anchors' contract (yet).
_NO_ANCHORS = (("anchors", ""), ("anchors_block", "0"))
#: The statements that bring a layout to the next: ``{from: (statements, to)}``, run in one
#: transaction under the write lock when an index is opened. The tables themselves are
#: created by the store (``CREATE TABLE IF NOT EXISTS``) before.
#:
#: - 1 to 2: the anchors' contract (none until a client names it: see ``_check_anchors``),
#:   and the tables of anchored events (:mod:`chainpass.evidence`).
MIGRATIONS: dict[str, tuple[tuple[tuple[str, tuple[str, ...]], ...], str]] = {
    "1": (tuple(("INSERT INTO meta (key, value) VALUES (?, ?)", row) for row in _NO_ANCHORS), "2"),
}


def index_path(home: Path, chain_id: int, address: str, genesis: str | None = None) -> Path:
    """Where the CLI keeps the index of the contract at ``address`` on chain ``chain_id``, whose
    block 0 is ``genesis`` (0x...): two local nodes share a chain id, and often the addresses of
    their contracts too, but never a genesis block."""
    node = "" if genesis is None else f"{genesis.lower().removeprefix('0x')[:16]}-"
    return home / "index" / f"{chain_id}-{node}{parse_address(address, 'contract address')}.sqlite"


@dataclass(frozen=True)
class IndexedLog:
    """One log as the index holds it."""

    block_number: int
    block_hash: str
    transaction_index: int
    log_index: int
    transaction_hash: str
    address: ChecksumAddress
    topics: tuple[str, ...]
    data: str
    #: Its block left the chain (a reorg), or the provider said so.
    removed: bool


@dataclass(frozen=True)
class Reorg(JsonRecord):
    """A fork the index followed: the blocks after ``fork_block`` left the chain."""

    #: The last block the index and the node still agree on.
    fork_block: int
    #: The checkpoint before: blocks ``fork_block + 1`` to it were indexed again.
    old_checkpoint: int
    #: How many logs were marked removed.
    removed_logs: int


@dataclass(frozen=True)
class SyncReport(JsonRecord):
    """What one :meth:`TraceIndex.sync` did."""

    head: int
    confirmations: int
    #: The last block indexed now (the deployment block - 1 while nothing is).
    checkpoint: int
    #: The block ranges committed, in order (inclusive).
    ranges: tuple[tuple[int, int], ...]
    #: The block ranges the provider refused, in order (each was asked again halved).
    refused: tuple[tuple[int, int], ...]
    #: Logs stored.
    logs: int
    reorg: Reorg | None


@dataclass(frozen=True)
class IndexStatus(JsonRecord):
    """Where an index stands against the node."""

    JSON_PROPERTIES = ("behind",)

    #: The SQLite file, or the PostgreSQL server and schema (no password).
    location: str
    chain_id: int
    address: ChecksumAddress
    deployment_block: int
    #: The last block indexed (the deployment block - 1 while nothing is).
    checkpoint: int
    #: The node's latest block.
    head: int
    logs: int
    removed_logs: int
    #: The anchors' contract whose logs are indexed too (None: none), and the anchored events
    #: the index was told (:mod:`chainpass.evidence`).
    anchors: str | None = None
    anchored_events: int = 0

    @property
    def behind(self) -> int:
        """Blocks the node has that the index has not (yet) indexed."""
        return max(0, self.head - self.checkpoint)


class TraceIndex:
    """The logs of the contract at ``address`` on ``chain``, kept at ``location``: a SQLite
    file's path, or a PostgreSQL server's ``postgresql://`` URL (:mod:`chainpass.index_store`).

    Creates the index if it does not exist (unless ``create`` is false); refuses one made for
    another chain or contract. Use it as a context manager, or :meth:`close` it.
    """

    def __init__(
        self,
        location: Path | str,
        chain: Chain,
        address: str,
        *,
        deployment_block: int = 0,
        anchors: tuple[str, int] | None = None,
        max_range: int = MAX_RANGE,
        create: bool = True,
    ) -> None:
        if max_range < 1:
            raise InvalidInput(f"The block range must be at least 1, not {max_range}.")
        self.chain = chain
        #: The connection logs are asked on (the chain's JSON-RPC, without web3's formatting).
        self.rpc = chain.backend.rpc()
        self.address = parse_address(address, "contract address")
        self.deployment_block = deployment_block
        #: The anchors' contract (``EventAnchor``) whose logs are indexed beside the passports',
        #: and its deployment block: as given, else as the index recorded it (None: no anchors).
        self.anchors: tuple[str, int] | None = None
        if anchors is not None:
            self.anchors = (parse_address(anchors[0], "anchors' address"), anchors[1])
        self.max_range = max_range
        #: The block range asked next: halved on refusals, doubled back after successes.
        self.range = max_range
        genesis = genesis_hash(chain)
        #: The tables (:mod:`chainpass.index_store`): :mod:`chainpass.evidence` keeps its own there.
        self.store: IndexStore = open_store(
            location,
            schema=schema_name(chain.chain_id, genesis, self.address),
            description=f"chain {chain.chain_id} (genesis {genesis}), contract {self.address}",
            create=create,
        )
        #: Where the index is, as messages show it (a server's URL without its password).
        self.location = self.store.location
        try:
            self._check_meta()
        except BaseException:
            self.store.close()
            raise

    @classmethod
    def for_client(
        cls, client: ContractClient, location: Path | str, *, anchors: ContractClient | None = None, **options: Any
    ) -> TraceIndex:
        """The index of ``client``'s contract, from its deployment block; with ``anchors`` (the
        deployment's ``EventAnchor``), the anchors' logs too."""
        anchored = None if anchors is None else (anchors.address, anchors.first_block)
        return cls(
            location, client.chain, client.address, deployment_block=client.first_block, anchors=anchored, **options
        )

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> TraceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------------- meta

    def _check_meta(self) -> None:
        expected = {
            "format": str(FORMAT),
            "chain_id": str(self.chain.chain_id),
            "address": self.address,
            "deployment_block": str(self.deployment_block),
        }
        with self.store.transaction():  # a new index's meta is written once, whoever comes first
            stored: dict[str, str] = dict(self.store.query("SELECT key, value FROM meta"))
            if not stored:
                self.store.execute_many(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [*expected.items(), ("checkpoint", str(self.deployment_block - 1)), *_NO_ANCHORS],
                )
                stored = dict(self.store.query("SELECT key, value FROM meta"))
            described = {
                "format": "layout",
                "chain_id": "chain",
                "address": "contract",
                "deployment_block": "contract deployed in block",
            }
            for key, value in expected.items():
                if key == "format" and stored.get(key) in MIGRATIONS:
                    continue
                if stored.get(key) != value:
                    raise IndexMismatch(
                        f"The trace index {self.location} was made for {described[key]} {stored.get(key)}, not "
                        f"{described[key]} {value}: use the index of this chain and contract, or move this one away."
                    )
            while stored["format"] in MIGRATIONS:  # under the write lock: one process migrates
                statements, stored["format"] = MIGRATIONS[stored["format"]]
                for statement, params in statements:
                    self.store.execute(statement, params)
                self.store.execute("UPDATE meta SET value = ? WHERE key = 'format'", (stored["format"],))
                stored = dict(self.store.query("SELECT key, value FROM meta"))
            self._check_anchors(stored)

    def _check_anchors(self, stored: dict[str, str]) -> None:
        """Record the anchors' contract the first time it is given (indexing its logs from its
        deployment block: the checkpoint moves back there if it is beyond); refuse another."""
        recorded = (stored["anchors"], int(stored["anchors_block"])) if stored["anchors"] else None
        if self.anchors is None or recorded == self.anchors:
            self.anchors = recorded
            return
        if recorded is not None:
            raise IndexMismatch(
                f"The trace index {self.location} follows the anchors at {recorded[0]} (block {recorded[1]}), not "
                f"{self.anchors[0]} (block {self.anchors[1]}): use the index of this deployment, or move this one away."
            )
        address, block = self.anchors
        self.store.execute("UPDATE meta SET value = ? WHERE key = 'anchors'", (address,))
        self.store.execute("UPDATE meta SET value = ? WHERE key = 'anchors_block'", (str(block),))
        if self.checkpoint >= block:
            self._set_checkpoint(block - 1)

    @property
    def checkpoint(self) -> int:
        """The last block indexed: the deployment block - 1 while nothing is."""
        ((value,),) = self.store.query("SELECT value FROM meta WHERE key = 'checkpoint'")
        return int(value)

    # -------------------------------------------------------------------- sync

    def sync(self, confirmations: int = DEFAULT_CONFIRMATIONS, *, until: int | None = None) -> SyncReport:
        """Follow a reorg if there was one, then index every block with at least
        ``confirmations`` confirmations (up to ``until`` at most); return what was done."""
        if confirmations < 0:
            raise InvalidInput(f"Confirmations must be 0 or more, not {confirmations}.")
        with self.store.sync_turn():
            return self._sync(confirmations, until)

    def _sync(self, confirmations: int, until: int | None) -> SyncReport:
        head = int(self.chain.w3.eth.block_number)
        reorg = self._follow_reorg()
        target = head - confirmations if until is None else min(head - confirmations, until)
        start = self.checkpoint + 1
        ranges: list[tuple[int, int]] = []
        refused: list[tuple[int, int]] = []
        stored = 0
        while start <= target:
            end = min(start + self.range - 1, target)
            try:
                logs = self._fetch(start, end)
            except REFUSALS as exc:
                if isinstance(exc, NoAnswer) and not exc.timed_out:  # the node is gone, not busy
                    raise NodeUnreachable(f"The node at {self.chain.endpoint} does not answer ({exc}).") from None
                refused.append((start, end))
                if start == end:
                    raise LogQueryRefused(
                        f"The node at {self.chain.endpoint} refused the logs of block {start} alone: {exc}"
                    ) from None
                self.range = max(1, (end - start + 1) // 2)
                continue
            end_hash = self._hash_at(end)
            if end_hash is None:  # the chain got shorter meanwhile: the next sync follows the reorg
                break
            stored += self._store(end, end_hash, logs)
            ranges.append((start, end))
            start = end + 1
            self.range = min(self.max_range, self.range * 2)
        return SyncReport(head, confirmations, self.checkpoint, tuple(ranges), tuple(refused), stored, reorg)

    def _fetch(self, start: int, end: int) -> list[Any]:
        """The contracts' logs in blocks ``start`` to ``end`` as the node sends them: JSON-RPC's
        own shape, read by :func:`_row` without web3's formatting (which took most of a sync)."""
        addresses = [self.address] if self.anchors is None else [self.address, self.anchors[0]]
        params = {"address": addresses, "fromBlock": hex(start), "toBlock": hex(end)}
        return list(self.rpc.call("eth_getLogs", [params]))

    def _hash_at(self, number: int) -> bytes | None:
        try:
            return bytes(self.chain.w3.eth.get_block(number)["hash"])
        except BlockNotFound:
            return None

    def _store(self, end: int, end_hash: bytes, logs: Iterable[Any]) -> int:
        """Store one range's logs and move the checkpoint to ``end``, all or nothing."""
        ours: dict[str, str] = {self.address.lower(): self.address}
        if self.anchors is not None:
            ours[self.anchors[0].lower()] = self.anchors[0]
        rows = [_row(log, ours[str(log["address"]).lower()]) for log in logs if str(log["address"]).lower() in ours]
        blocks = {(row[0], row[1]) for row in rows} | {(end, end_hash)}
        with self.store.transaction():
            self.store.execute_many(
                f"INSERT INTO logs ({_COLUMNS}) VALUES ({', '.join('?' * 12)}) "
                "ON CONFLICT (block_hash, transaction_index, log_index) DO UPDATE SET removed = excluded.removed",
                rows,
            )
            self.store.execute_many(
                "INSERT INTO blocks (number, hash) VALUES (?, ?) "
                "ON CONFLICT (number) DO UPDATE SET hash = excluded.hash",
                sorted(blocks),
            )
            self._set_checkpoint(end)
        return len(rows)

    def _set_checkpoint(self, number: int) -> None:
        self.store.execute("UPDATE meta SET value = ? WHERE key = 'checkpoint'", (str(number),))

    def _follow_reorg(self) -> Reorg | None:
        """If the checkpoint block is no longer the node's, go back to the fork point."""
        checkpoint = self.checkpoint
        rows = self.store.query("SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number", (checkpoint,))
        stored: list[tuple[int, bytes]] = [(int(n), bytes(h)) for n, h in rows]
        if not stored or self._hash_at(stored[-1][0]) == stored[-1][1]:
            return None
        # stored[high] is gone; every block before stored[low] (-1: none) is still there.
        low, high = -1, len(stored) - 1
        while high - low > 1:
            middle = (low + high) // 2
            number, block_hash = stored[middle]
            if self._hash_at(number) == block_hash:
                low = middle
            else:
                high = middle
        fork = stored[low][0] if low >= 0 else self.deployment_block - 1
        with self.store.transaction():
            removed = self.store.execute("UPDATE logs SET removed = 1 WHERE block_number > ? AND removed = 0", (fork,))
            self.store.execute("DELETE FROM blocks WHERE number > ?", (fork,))
            self._set_checkpoint(fork)
        self.range = self.max_range
        return Reorg(fork_block=fork, old_checkpoint=checkpoint, removed_logs=removed)

    # ----------------------------------------------------------------- reading

    def get_logs(self, topics: Sequence[Topic], *, include_removed: bool = False) -> list[LogReceipt]:
        """The indexed logs matching ``topics`` (None matches anything, a list any of its
        values), in chain order, as web3 log receipts; removed logs only if asked."""
        where, params = _where(self.address, topics, include_removed)
        rows = self.store.query(f"SELECT {_COLUMNS} FROM logs {where} {_ORDER}", params)
        return [_receipt(row) for row in rows]

    def logs(
        self, topics: Sequence[Topic] = (), *, include_removed: bool = False, address: str | None = None
    ) -> list[IndexedLog]:
        """The indexed logs of the passports (or of the contract at ``address``: the anchors')
        matching ``topics``, as records."""
        where, params = _where(address or self.address, topics, include_removed)
        return [_record(row) for row in self.store.query(f"SELECT {_COLUMNS} FROM logs {where} {_ORDER}", params)]

    def logs_with_first_word(
        self, topic0: str | bytes, word: bytes, *, limit: int, offset: int = 0, count_up_to: int = 0
    ) -> tuple[list[LogReceipt], int]:
        """The live logs of event ``topic0`` whose data starts with the 32-byte ``word`` (an
        event's first non-indexed argument: a GTIN in ``PassportCommissioned``), in chain order,
        at most ``limit`` from ``offset`` on; and how many there are, counted up to
        ``count_up_to`` (at least the rows read). Both read an index of (topic0, first word), so
        neither scans the table, and neither reads more than it is bounded to."""
        if len(word) != 32:
            raise InvalidInput(f"A data word is 32 bytes, not {len(word)}.")
        if limit < 1 or offset < 0:
            raise InvalidInput(
                f"A page of logs needs a limit of at least 1 and an offset of 0 or more, not {limit} and {offset}."
            )
        where = "WHERE topic0 = ? AND substr(data, 1, 32) = ? AND removed = 0"
        params = (_topic_bytes(topic0), word)
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM logs {where} {_ORDER} LIMIT ? OFFSET ?", (*params, limit, offset)
        )
        logs = [_receipt(row) for row in rows]
        bound = max(count_up_to, offset + len(logs))
        ((count,),) = self.store.query(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM logs {where} LIMIT ?) AS matching", (*params, bound)
        )
        return logs, int(count)

    def removed_logs(self) -> list[IndexedLog]:
        """The logs whose blocks left the chain (or that a provider returned as removed)."""
        return [_record(row) for row in self.store.query(f"SELECT {_COLUMNS} FROM logs WHERE removed = 1 {_ORDER}")]

    def status(self) -> IndexStatus:
        ((live, removed),) = self.store.query(
            "SELECT COUNT(*) FILTER (WHERE removed = 0), COUNT(*) FILTER (WHERE removed = 1) FROM logs"
        )
        return IndexStatus(
            location=self.location,
            chain_id=self.chain.chain_id,
            address=self.address,
            deployment_block=self.deployment_block,
            checkpoint=self.checkpoint,
            head=int(self.chain.w3.eth.block_number),
            logs=int(live),
            removed_logs=int(removed),
            anchors=None if self.anchors is None else self.anchors[0],
            anchored_events=int(self.store.query("SELECT COUNT(*) FROM anchored_events")[0][0]),
        )


def _row(log: Any, address: str) -> tuple[Any, ...]:
    """A log of the contract at ``address`` as a row: from JSON-RPC's hex text, or from web3's
    shapes (the embedded chain's answers)."""
    topics = [_bytes(t) for t in log["topics"]]
    return (
        as_int(log["blockNumber"]),
        _bytes(log["blockHash"]),
        as_int(log["transactionIndex"]),
        as_int(log["logIndex"]),
        _bytes(log["transactionHash"]),
        address,
        *(topics + [None] * 4)[:4],
        _bytes(log["data"]),
        int(bool(log.get("removed", False))),
    )


def _bytes(value: Any) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _receipt(row: tuple[Any, ...]) -> LogReceipt:
    number, block_hash, tx_index, log_index, tx_hash, address, t0, t1, t2, t3, data, removed = row
    return cast(
        LogReceipt,
        {
            "address": address,
            "blockHash": HexBytes(block_hash),
            "blockNumber": number,
            "data": HexBytes(data),
            "logIndex": log_index,
            "removed": bool(removed),
            "topics": [HexBytes(t) for t in (t0, t1, t2, t3) if t is not None],
            "transactionHash": HexBytes(tx_hash),
            "transactionIndex": tx_index,
        },
    )


def _record(row: tuple[Any, ...]) -> IndexedLog:
    number, block_hash, tx_index, log_index, tx_hash, address, t0, t1, t2, t3, data, removed = row
    return IndexedLog(
        block_number=number,
        block_hash="0x" + bytes(block_hash).hex(),
        transaction_index=tx_index,
        log_index=log_index,
        transaction_hash="0x" + bytes(tx_hash).hex(),
        address=to_checksum_address(address),
        topics=tuple("0x" + bytes(t).hex() for t in (t0, t1, t2, t3) if t is not None),
        data="0x" + bytes(data).hex(),
        removed=bool(removed),
    )


def _where(address: str, topics: Sequence[Topic], include_removed: bool) -> tuple[str, list[Any]]:
    if len(topics) > 4:
        raise InvalidInput(f"A log has at most 4 topics; {len(topics)} were given.")
    clauses = ["address = ?"] if include_removed else ["address = ?", "removed = 0"]
    params: list[Any] = [parse_address(address, "contract address")]
    for position, topic in enumerate(topics):
        if topic is None:
            continue
        values = [topic] if isinstance(topic, str | bytes) else list(topic)
        clauses.append(f"topic{position} IN ({', '.join('?' * len(values))})")
        params += [_topic_bytes(value) for value in values]
    return "WHERE " + " AND ".join(clauses), params


def _topic_bytes(value: str | bytes) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    except ValueError:
        raise InvalidInput(f"Topic {value!r} is not hex.") from None
    if len(raw) != 32:
        raise InvalidInput(f"A topic is 32 bytes, not {len(raw)}: {value!r}.")
    return raw
