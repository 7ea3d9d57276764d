"""Anchored events beside lifecycle events: the trace index learns them, traces, exports and
pages show them, marked as evidence.

The chain holds only an anchor's root, its batch's size and its document's hash
(:mod:`chainpass.anchor`), never the events: nothing on chain says which passports an
anchored event concerns. So the index is **told** the events, by whoever holds them: their
proof bundles, or the anchored document itself (:func:`add_anchored`, ``chainpass index
add-anchored``). It keeps an event only if it is proven against an anchor on this chain:

- a bundle's event hashes to its hash (CBV 2.0, with its document's context) and its proof
  leads to its root (:func:`chainpass.anchor.check_bundle`); a document's events are hashed
  and their tree built here, so its root is what the document proves;
- that root was anchored by the organisation named, on this chain, at the anchors' contract
  the index follows: a live ``BatchAnchored`` log in the blocks indexed (the anchors' logs are
  synced with the passports', :class:`~chainpass.index.TraceIndex`).

Anything else is refused whole (nothing added), in one sentence naming the file. The index
keeps each event's bundle (``anchored_events``) and the passports its codes name
(``anchored_codes``: its EPCs, parent, inputs, outputs and quantities' classes that are a
GS1 key); a code that names no passport (a class pattern, a location) is kept in the bundle
only.

**Shown only while proven**: every read joins the events with their anchor's log, live, so an
anchor that a reorg took away takes its events off every trace with it (and brings them back
if it is mined again); the transaction and block shown are the live log's. An anchored event
changes no passport: recalls, sales and custody stay lifecycle events; an anchored event says
that its organisation declared it, in its document, by its anchor's block.

**Which events a journey shows** (:func:`evidence_of`): those naming the passport, those
naming a passport it was made from (as far back as its journey goes), and those naming a
container it was packed in that were anchored while it was inside (between the packing and
the unpacking, in the chain's order). All in the chain's order, by their anchor: when the
chain learnt of them, which may be later than the time each declares.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from chainpass.anchor import (
    BUNDLE_TYPE,
    AnchorPlace,
    MerkleTree,
    ProofBundle,
    bundles_of,
    check_bundle,
)
from chainpass.artifacts import ANCHOR_CONTRACT, event_topic, load_artifact
from chainpass.errors import InvalidInput
from chainpass.index import TraceIndex
from chainpass.passport import ProductPassports
from chainpass.records import PASSPORT_ID, JsonRecord
from chainpass.standards.epcis import EPCIS_CONTEXT, event_hash, events_of
from chainpass.standards.gs1 import parse_code
from chainpass.trace import TraceEntry

#: The lists of an EPCIS event whose members are codes (EPCs), and those whose members'
#: ``epcClass`` is one.
_CODE_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def _batch_anchored() -> bytes:
    return event_topic(load_artifact(ANCHOR_CONTRACT).abi, "BatchAnchored")


@dataclass(frozen=True)
class IndexedAnchor(JsonRecord):
    """An anchor as the index holds it: its live ``BatchAnchored`` log."""

    root: bytes
    organisation: ChecksumAddress
    events: int
    document_hash: bytes
    tx_hash: str
    block_number: int
    transaction_index: int
    log_index: int


_ANCHOR_COLUMNS = "topic1, topic2, data, transaction_hash, block_number, transaction_index, log_index"


def _anchor(row: Sequence[Any]) -> IndexedAnchor:
    root, organisation, data, tx_hash, block, tx_index, log_index = row
    data = bytes(data)
    return IndexedAnchor(
        root=bytes(root),
        organisation=to_checksum_address(bytes(organisation)[12:]),
        events=int.from_bytes(data[:32], "big"),
        document_hash=data[32:64],
        tx_hash="0x" + bytes(tx_hash).hex(),
        block_number=int(block),
        transaction_index=int(tx_index),
        log_index=int(log_index),
    )


def indexed_anchor(index: TraceIndex, root: bytes) -> IndexedAnchor | None:
    """The anchor of ``root`` in the blocks ``index`` holds (None if none is, or the index
    follows no anchors' contract)."""
    if index.anchors is None:
        return None
    rows = index.store.query(
        f"SELECT {_ANCHOR_COLUMNS} FROM logs WHERE address = ? AND topic0 = ? AND topic1 = ? AND removed = 0 "
        "ORDER BY block_number, transaction_index, log_index LIMIT 1",
        (index.anchors[0], _batch_anchored(), root),
    )
    return _anchor(rows[0]) if rows else None


# ------------------------------------------------------------------------ adding


@dataclass(frozen=True)
class AddReport(JsonRecord):
    """What :func:`add_anchored` did."""

    #: Events proven and new to the index.
    added: int
    #: Events proven that the index held already.
    known: int
    #: Of the events proven, how many name at least one passport (and show on its journey).
    on_passports: int
    #: The anchors (roots) the events were proven against.
    roots: tuple[bytes, ...]


def add_anchored(index: TraceIndex, files: Sequence[tuple[str, bytes]]) -> AddReport:
    """Teach ``index`` the anchored events in ``files`` (each a name for messages and its
    bytes): proof bundles (``chainpass epcis anchor --proofs``) or anchored EPCIS documents.
    Every event is proven first (see the module); if one is not, :class:`InvalidInput` names
    its file and why, and nothing is added."""
    _anchors(index)
    proven: list[ProofBundle] = []
    for name, raw in files:
        try:
            proven += _proven(index, raw)
        except InvalidInput as exc:
            raise InvalidInput(f"{name}: {exc}") from None
    return _store(index, proven)


def _proven(index: TraceIndex, raw: bytes) -> list[ProofBundle]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"not JSON ({exc}).") from None
    if isinstance(data, dict) and data.get("type") == BUNDLE_TYPE:
        bundle = ProofBundle.from_json(data)
        check_bundle(bundle)
        anchor = _anchored(index, bundle.root, bundle.chain_id, bundle.contract)
        if anchor.organisation != bundle.organisation:
            raise InvalidInput(
                f"its root was anchored by {anchor.organisation}, not by {bundle.organisation} as the bundle says."
            )
        return [bundle]
    if isinstance(data, dict) and data.get("type") == "EPCISDocument":
        events = events_of(data)
        context = data.get("@context", [EPCIS_CONTEXT])
        digests = [event_hash(event, context) for event in events]
        contract = _anchors(index)
        anchor = _anchored(index, MerkleTree.of(digests).root, index.chain.chain_id, contract)
        place = AnchorPlace(index.chain.chain_id, contract, anchor.tx_hash, anchor.block_number, anchor.organisation)
        return list(bundles_of(events, context, digests, raw, place))
    raise InvalidInput(f"neither an anchored event's proof bundle ({BUNDLE_TYPE}) nor an EPCIS document.")


def _anchors(index: TraceIndex) -> ChecksumAddress:
    """The anchors' contract ``index`` follows."""
    if index.anchors is None:
        raise InvalidInput(
            f"The trace index {index.location} follows no anchors' contract: the deployment has none (run "
            "`chainpass deploy` to add it), or the index was opened without it."
        )
    return to_checksum_address(index.anchors[0])


def _anchored(index: TraceIndex, root: bytes, chain_id: int, contract: str) -> IndexedAnchor:
    ours = _anchors(index)
    if (chain_id, to_checksum_address(contract)) != (index.chain.chain_id, ours):
        raise InvalidInput(
            f"it is anchored on chain {chain_id} at {contract}, not on this chain {index.chain.chain_id} at {ours}."
        )
    anchor = indexed_anchor(index, root)
    if anchor is None:
        raise InvalidInput(
            f"its root 0x{root.hex()} is not anchored in the blocks the index holds (up to block "
            f"{index.checkpoint}): run `chainpass index sync` if it was anchored since."
        )
    return anchor


def _store(index: TraceIndex, bundles: Sequence[ProofBundle]) -> AddReport:
    events = [
        (b.root, b.digest, bytes(12) + bytes.fromhex(b.organisation[2:]), str(b.event.get("eventTime", "")),
         json.dumps(b.to_json(), separators=(",", ":"), sort_keys=True))
        for b in bundles
    ]  # fmt: skip
    named = {(b.root, b.digest): _named(b.event) for b in bundles}
    codes = [(p.to_bytes(32, "big"), code, root, digest) for (root, digest), ps in named.items() for code, p in ps]
    store = index.store
    with store.transaction():
        ((before,),) = store.query("SELECT COUNT(*) FROM anchored_events")
        store.execute_many(
            "INSERT INTO anchored_events (root, event_hash, organisation, event_time, bundle) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (root, event_hash) DO NOTHING",
            events,
        )
        store.execute_many(
            "INSERT INTO anchored_codes (passport, code, root, event_hash) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (passport, root, event_hash) DO NOTHING",
            codes,
        )
        ((after,),) = store.query("SELECT COUNT(*) FROM anchored_events")
    added = int(after) - int(before)
    return AddReport(
        added=added,
        known=len(named) - added,
        on_passports=sum(1 for passports in named.values() if passports),
        roots=tuple(sorted({b.root for b in bundles})),
    )


def codes_of(event: Any) -> list[str]:
    """The codes an EPCIS event names: its EPCs, parent, inputs and outputs, and the classes
    of its quantities, in that order, each once."""
    codes: list[Any] = []
    for key in _CODE_LISTS:
        codes += list(event.get(key) or [])
    if event.get("parentID"):
        codes.append(event["parentID"])
    for key in _QUANTITY_LISTS:
        codes += [q.get("epcClass") for q in event.get(key) or [] if isinstance(q, dict)]
    return list(dict.fromkeys(str(c) for c in codes if isinstance(c, str) and c))


def _named(event: Any) -> list[tuple[str, int]]:
    """The codes of ``event`` that are GS1 keys, with their passports' ids (each once)."""
    named: dict[int, str] = {}
    for code in codes_of(event):
        try:
            named.setdefault(ProductPassports.passport_id(parse_code(code)), code)
        except InvalidInput:
            continue  # a class pattern, a location, a code of no passport: in the bundle only
    return [(code, passport) for passport, code in named.items()]


# ----------------------------------------------------------------------- reading


@dataclass(frozen=True)
class AnchoredEvent(JsonRecord):
    """An anchored event as a trace shows it: evidence that ``organisation`` declared it by
    the anchor's block, not a lifecycle step (it changed no passport)."""

    JSON_PROPERTIES = ("evidence",)

    #: The anchor's live log: where the event is in the chain's order.
    block_number: int
    transaction_index: int
    log_index: int
    tx_hash: str
    #: The passport the event names, and the code it names it by.
    passport: int = field(metadata=PASSPORT_ID)
    code: str
    organisation: ChecksumAddress
    event_type: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    #: The time the event declares (ISO 8601, as its document has it).
    event_time: str | None
    #: Its own eventID if it has one, else its CBV 2.0 hash.
    event_id: str
    event_hash: str
    root: bytes
    #: The container it reached the passport through (anchored while the passport was inside).
    via_container: int | None = field(default=None, metadata=PASSPORT_ID)
    #: The input (ancestor) it concerns, when the passport was made from it.
    via_input: int | None = field(default=None, metadata=PASSPORT_ID)
    #: The whole proof: the event as declared, its context, the path to the root, the anchor.
    bundle: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def evidence(self) -> bool:
        """Always true: told apart from lifecycle entries in a trace's JSON."""
        return True

    @property
    def position(self) -> tuple[int, int, int]:
        """Where its anchor is in the chain's order."""
        return (self.block_number, self.transaction_index, self.log_index)


def anchored_on(index: TraceIndex, passports: Collection[int]) -> list[AnchoredEvent]:
    """The anchored events ``index`` holds that name ``passports``, proven by an anchor still on
    the chain it indexed, in the chain's order (then by the times they declare)."""
    if not passports or index.anchors is None:
        return []
    ids = sorted(passports)
    rows = index.store.query(
        "SELECT c.passport, c.code, e.bundle, "
        + ", ".join(f"l.{column}" for column in _ANCHOR_COLUMNS.split(", "))
        + " FROM anchored_codes c"
        " JOIN anchored_events e ON e.root = c.root AND e.event_hash = c.event_hash"
        " JOIN logs l ON l.topic1 = e.root AND l.topic2 = e.organisation AND l.topic0 = ? AND l.address = ?"
        " AND l.removed = 0"
        f" WHERE c.passport IN ({', '.join('?' * len(ids))})"
        " ORDER BY l.block_number, l.transaction_index, l.log_index, e.event_time, e.event_hash, c.passport",
        (_batch_anchored(), _anchors(index), *(i.to_bytes(32, "big") for i in ids)),
    )
    return [
        _event(int.from_bytes(bytes(row[0]), "big"), str(row[1]), json.loads(row[2]), _anchor(row[3:])) for row in rows
    ]


def _event(passport: int, code: str, bundle: dict[str, Any], anchor: IndexedAnchor) -> AnchoredEvent:
    event = bundle["event"]
    bundle = {
        **bundle,
        "anchor": {**bundle["anchor"], "transaction": anchor.tx_hash, "blockNumber": anchor.block_number},
    }
    return AnchoredEvent(
        block_number=anchor.block_number,
        transaction_index=anchor.transaction_index,
        log_index=anchor.log_index,
        tx_hash=anchor.tx_hash,
        passport=passport,
        code=code,
        organisation=anchor.organisation,
        event_type=str(event.get("type", "")),
        action=_text(event.get("action")),
        biz_step=_term(event.get("bizStep")),
        disposition=_term(event.get("disposition")),
        event_time=_text(event.get("eventTime")),
        event_id=str(event.get("eventID") or bundle["eventHash"]),
        event_hash=str(bundle["eventHash"]),
        root=anchor.root,
        bundle=bundle,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _term(value: Any) -> str | None:
    """A CBV value's term, however it is written: ``shipping`` for ``shipping``,
    ``urn:epcglobal:cbv:bizstep:shipping`` or ``https://ref.gs1.org/cbv/BizStep-shipping``; a
    value of another vocabulary as it is."""
    text = _text(value)
    if text is None:
        return None
    for mark in ("/cbv/BizStep-", "/cbv/Disp-", "cbv:BizStep-", "cbv:Disp-", "cbv:bizstep:", "cbv:disp:"):
        if mark in text:
            return text.rsplit(mark, 1)[1]
    return text


def evidence_of(index: TraceIndex, journey: Sequence[TraceEntry], id_: int) -> list[AnchoredEvent]:
    """The anchored events a journey of passport ``id_`` shows (see the module): its own,
    its inputs', and its containers' while it was inside; each once."""
    through: dict[int, int | None] = {id_: None}  # a passport whose events are the journey's -> its input
    for entry in journey:
        if entry.via_container is None:
            through.setdefault(entry.passport, entry.via_input if entry.via_input is not None else entry.passport)
    windows: dict[int, list[tuple[tuple[int, int, int], tuple[int, int, int] | None]]] = {}
    for packed in (e for e in journey if e.event == "PassportPacked" and e.via_container is None):
        end = next(
            (e.position for e in journey
             if e.event == "PassportUnpacked" and e.passport == packed.passport and e.position > packed.position),
            None,
        )  # fmt: skip
        windows.setdefault(int(packed.details["container"], 16), []).append((packed.position, end))
    shown: dict[tuple[bytes, str], AnchoredEvent] = {}
    for event in anchored_on(index, set(through) | set(windows)):
        key = (event.root, event.event_hash)
        if event.passport in through:
            via = through[event.passport]
            shown[key] = replace(event, via_input=None if event.passport == id_ else via)
        elif key not in shown and any(
            start < event.position and (end is None or event.position < end) for start, end in windows[event.passport]
        ):
            shown[key] = replace(event, via_container=event.passport)
    return sorted(shown.values(), key=lambda e: (e.position, e.event_time or "", e.event_hash))


def bundle_of(event: AnchoredEvent) -> ProofBundle:
    """The proof bundle of an anchored event, as the index proved it (its anchor as it stands)."""
    return ProofBundle.from_json(event.bundle)


__all__ = [
    "AddReport",
    "AnchoredEvent",
    "IndexedAnchor",
    "add_anchored",
    "anchored_on",
    "bundle_of",
    "codes_of",
    "evidence_of",
    "indexed_anchor",
]
