"""EPCIS 2.0 documents onto passports: each event by its CBV 2.0 hash id, exactly once.

:func:`import_document` reads an EPCISDocument (``epcisBody.eventList`` or
``epcisBody.event``) or a query document (``epcisBody.queryResults.resultsBody.eventList``),
computes each event's CBV 2.0 event hash (``ni:///sha-256;…?ver=CBV2.0``, with GS1's
reference implementation, `epcis-event-hash-generator`) and maps it to passport actions. An
event that carries such a hash as its ``eventID`` (every export of this system does) is
recognised by that id instead, so importing an export, on its chain or another, records
nothing twice:

- ObjectEvent ADD (commissioning, or naming identifiers with no passport yet): commission,
  the event hash as the batch's metadata hash;
- ObjectEvent OBSERVE/ADD/DELETE with a bizStep and disposition the contract knows: one
  recorded event on all its passports, the event hash as its ``eventId``;
- AggregationEvent ADD / DELETE: pack / unpack, the event hash as ``eventId``;
- TransformationEvent: transform (id: keccak of transformationID, else of the event hash);
- TransactionEvent: recorded like an ObjectEvent;
- AggregationEvent OBSERVE: the event recorded on the parent, whose children must be in it;
- TransformationEvent whose inputs name no passport: its outputs commissioned.

bizStep and disposition take the whole CBV 2.0 vocabulary (short names, ``https://ref.gs1.org/cbv/``
URIs or the old ``urn:epcglobal:cbv:`` URNs); a bizStep outside the CBV (an extension URI) is
recorded as ``other``, the exact URI provable through the event hash id recorded with it. A
``persistentDisposition`` ``set`` value gives the recorded disposition of an event that has none;
the rest of it is noted in the report (the chain keeps one disposition per event).

Identifiers: SGTIN and LGTIN URNs, SSCC and GIAI URNs, GS1 Digital Link URIs; class-level
quantities of a class without a lot (``urn:epc:idpat:sgtin:...*``) name no passport and are
noted. By default an identifier with no passport is refused; with ``adopt_unknown=True`` the
importing producer commissions it right before the event (the report lists each one).

Events the lifecycle does not model (an AssociationEvent, identifiers passports do not take, a
disposition outside the CBV, no bizStep, only class-level quantities with no lot ...) are
anchored as evidence with ``anchors`` (:mod:`chainpass.anchor`: one transaction, after the
lifecycle events, a proof bundle each); ``anchor_only`` anchors every event. An inspection or a
receiving without a disposition is recorded as under way (``in_progress``, an observation), a
sensor report without a bizStep as ``sensor_reporting``. docs/epcis.md has the table.

Everything is validated before anything is sent; by default an invalid event stops the
whole import (``partial=True`` sends the valid ones). Before each transaction the chain is
asked what is there already, so re-importing, or re-running an interrupted import, records
every event exactly once. Runs of ObjectEvents on different passports go out together, in
waves through a :class:`~chainpass.sender.BulkSender`, where the sender's key is here
(:func:`_wave`; docs/epcis.md): a refusal still stops the import where it would one
transaction at a time.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, cast

# The hash generator installs a document loader that falls back to the internet: import
# it first, then install ours (see _offline_loader), which never leaves the process.
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.types import TxParams

from chainpass.anchor import AnchoredDocument, EventAnchors, anchor_events
from chainpass.chain import Sender, sender_address
from chainpass.enums import BizStep, Disposition, Kind
from chainpass.errors import ChainpassError, ConfirmationTimeout, InvalidInput
from chainpass.passport import EpcisEvent, ProductPassports, location_id, transformation_id
from chainpass.records import JsonRecord
from chainpass.sender import BulkSender, settle
from chainpass.standards.epcis import (
    EPCIS_CONTEXT,
    EVENT_TYPES,
    IMPLIED_DISPOSITION,
    NEEDS_DISPOSITION,
    OTHER_EVENT_TYPES,
    EventHasher,
    event_time,
    events_of,
    hash_uri,
    parse_biz_step,
    parse_disposition,
    parse_hash_uri,
)
from chainpass.standards.gs1 import PERSONAL_KEYS, SSCC_TIER, ProductKey, parse_code

# ---------------------------------------------------------------------------- planning


@dataclass
class Planned:
    """One valid event and what it does on chain."""

    index: int
    event_id: bytes
    type: str
    #: commission, record, pack, unpack or transform
    action: str
    keys: tuple[ProductKey, ...] = ()
    ids: tuple[int, ...] = ()
    container: int = 0
    record: EpcisEvent | None = None
    transformation: bytes = bytes(32)
    biz_step: BizStep = BizStep.NONE
    #: Identifiers first seen in the document, commissioned right before the event (adoption).
    adopt: tuple[ProductKey, ...] = ()
    #: What the report says besides the status (entries skipped, fields not recorded).
    notes: tuple[str, ...] = ()
    #: Why the lifecycle does not model the event (action ``anchor``): the field and what it says.
    anchor_reason: str | None = None
    #: ``record`` only: its effect stays on its own passports (none is a container, whose
    #: contents follow its state, and it is no recall, which reaches what was made from the
    #: goods), so it may be sent beside events on other passports (:func:`_wave`).
    independent: bool = False


@dataclass(frozen=True)
class EventOutcome(JsonRecord):
    """What became of one event of the document."""

    index: int
    #: The event's CBV 2.0 hash id (ni:///sha-256;…), or its own eventID if the hash failed.
    event_id: str | None
    type: str
    action: str | None
    #: recorded, already_on_chain, refused or not_sent
    status: str
    field: str | None = None
    reason: str | None = None
    tx_hashes: tuple[str, ...] = ()
    #: Identifiers this import commissioned right before the event (``adopt_unknown``).
    adopted: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: The transaction of the anchor that holds the event (action ``anchor``).
    anchored_in: str | None = None

    def describe(self) -> str:
        head = f"event {self.index} ({self.type}, {self.event_id or 'no id'})"
        if self.status == "refused":
            return f"{head}: refused, {self.field}: {self.reason}"
        text = f"{head}: {self.status.replace('_', ' ')}"
        if self.action == "anchor" and self.status in ("anchored", "already_on_chain"):
            text += f" (anchored as evidence, transaction {self.anchored_in}"
            text += f"; not a lifecycle event: {self.reason})" if self.reason else ")"
        elif self.action and self.status in ("recorded", "already_on_chain"):
            text += f" ({self.action})"
        if self.adopted:
            text += "; adopted (commissioned first): " + ", ".join(self.adopted)
        return text + "".join(f"; note: {n}" for n in self.notes)


@dataclass(frozen=True)
class ImportResult:
    outcomes: tuple[EventOutcome, ...]
    #: The anchor of the events the lifecycle does not model (or of all, ``anchor_only``), with
    #: a proof bundle for each; None if none was anchored (or the import stopped before).
    anchor: AnchoredDocument | None = None

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def recorded(self) -> int:
        return self.count("recorded")

    @property
    def already_on_chain(self) -> int:
        return self.count("already_on_chain")

    @property
    def refused(self) -> int:
        return self.count("refused")

    @property
    def anchored(self) -> int:
        return self.count("anchored")

    @property
    def nothing_new(self) -> bool:
        return self.recorded == 0 and self.anchored == 0

    @property
    def tx_hashes(self) -> list[str]:
        return [h for o in self.outcomes for h in o.tx_hashes]

    @property
    def adopted(self) -> list[str]:
        return [a for o in self.outcomes for a in o.adopted]

    def summary(self) -> str:
        parts = [
            f"{self.recorded} recorded",
            f"{self.anchored} anchored",
            f"{self.already_on_chain} already on chain",
            f"{self.refused} refused",
        ]
        if self.count("not_sent"):
            parts.append(f"{self.count('not_sent')} not sent")
        text = f"{len(self.outcomes)} event(s): " + ", ".join(parts)
        if self.nothing_new and self.outcomes and self.already_on_chain == len(self.outcomes):
            text += " (nothing new: every event is on chain already)"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "events": [o.to_json() for o in self.outcomes],
            "recorded": self.recorded,
            "anchored": self.anchored,
            "already_on_chain": self.already_on_chain,
            "refused": self.refused,
            "not_sent": self.count("not_sent"),
            "adopted": self.adopted,
            "nothing_new": self.nothing_new,
            "tx_hashes": self.tx_hashes,
            "anchor": None if self.anchor is None else self._anchor_json(self.anchor),
        }

    @staticmethod
    def _anchor_json(anchor: AnchoredDocument) -> dict[str, Any]:
        return {"root": "0x" + anchor.root.hex(), "transaction": anchor.transaction, "block": anchor.block_number}


class _Refusal(Exception):
    def __init__(self, field_: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_
        self.reason = reason


class _Unmodelled(_Refusal):
    """A valid event that the passports' lifecycle does not model: anchored as evidence
    (when the import anchors), refused otherwise."""


#: Identifier forms of the keys passports take: one of them that does not parse is a mistake
#: (refused); any other identifier (a GRAI, an SGLN, a GDTI, a person's GSRN ...) names
#: something the lifecycle does not model, and its event is anchored.
_PASSPORT_FORMS = ("urn:epc:id:sgtin:", "urn:epc:class:lgtin:", "urn:epc:id:sscc:", "urn:epc:id:giai:", "(01)",
                   "(00)", "(8004)", "01")  # fmt: skip
_PASSPORT_LINK_KEYS = ("/01/", "/00/", "/8004/", "/gtin/")


def _observed(
    event: Mapping[str, Any], step: BizStep, disposition: Disposition | None, notes: list[str]
) -> tuple[BizStep, Disposition | None]:
    """The step and disposition an event is recorded with: a sensor report without a bizStep is
    ``sensor_reporting``; an inspection or a receiving without a disposition is the step under
    way (``in_progress``), an observation. Both noted: the event hash id keeps the event as written."""
    if step is BizStep.NONE and event.get("sensorElementList"):
        step = BizStep.SENSOR_REPORTING
        notes.append("no bizStep: a sensor report, recorded as sensor_reporting (an observation)")
    if disposition is None and step in NEEDS_DISPOSITION:
        disposition = Disposition.IN_PROGRESS
        notes.append(
            f"no disposition: the {step.label} is recorded as under way (in_progress), an observation; "
            "the event hash id keeps the event as written"
        )
    return step, disposition


def _disposition_refusal(where: str, value: Any, exc: InvalidInput) -> _Refusal:
    """A disposition outside the CBV (an extension URI) is valid EPCIS that the chain's rules
    cannot read (they depend on what a disposition means): its event is anchored. A bare word
    that is no CBV disposition is a mistake."""
    if ":" in str(value):
        return _Unmodelled(where, str(exc))
    return _Refusal(where, str(exc))


@dataclass
class _Planner:
    pp: ProductPassports
    #: The CBV 2.0 hasher of the document's ``@context``.
    hasher: EventHasher
    #: Whether identifiers first seen in the document are commissioned (adopted).
    adopt_unknown: bool = False
    #: ids that exist on chain or are commissioned earlier in the document, by id
    known: dict[int, ProductKey] = field(default_factory=dict)
    #: identifiers that are parents of AggregationEvents in the document: their tier
    tiers: dict[tuple[int, str], int] = field(default_factory=dict)
    #: the container each passport is in, as the document leaves it so far (None: ask the chain)
    packed_in: dict[int, int] = field(default_factory=dict)

    #: ids found on chain already
    on_chain: set[int] = field(default_factory=set)
    #: ids found to have no passport when the document was read (:meth:`prefetch`)
    absent: set[int] = field(default_factory=set)
    #: the kind of each passport :meth:`prefetch` found on chain, by id
    kinds: dict[int, Kind] = field(default_factory=dict)
    #: The events' ids computed ahead (:meth:`read`), by index: taken by :meth:`plan`.
    hashed: dict[int, tuple[bytes, list[str]]] = field(default_factory=dict)

    def read(self, events: Sequence[Any]) -> None:
        """Hash the events while the chain is asked which passports they name (:meth:`prefetch`,
        in a thread: it waits on the node while this one computes)."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            asked = pool.submit(self.prefetch, events)
            for index, event in enumerate(events):
                try:
                    self.hashed[index] = self.digest(event)
                except _Refusal:
                    continue  # planned again, refused then
            asked.result()

    def exists(self, id_: int) -> bool:
        if id_ in self.known or id_ in self.on_chain:
            return True
        if id_ in self.absent:
            return False
        if self.pp.exists(id_):
            self.on_chain.add(id_)
            return True
        return False

    def prefetch(self, events: Sequence[Any]) -> None:
        """Ask the chain which of the passports the document's events name exist, all at once
        (JSON-RPC batches), rather than one call per event while planning."""
        from chainpass.bulk import passport_kinds  # bulk reads this module's batching: imported here

        keys: dict[int, ProductKey] = {}
        for event in events:
            for code in _codes(event):
                try:
                    key = parse_code(code)
                except InvalidInput:
                    continue
                keys[self.pp.passport_id(key)] = key
        # An item's code with no passport may name a container (see resolve): asked next.
        found = passport_kinds(self.pp, keys)
        missing = {i: k for i, k in keys.items() if i not in found and k.kind is Kind.ITEM}
        containers = {self.pp.passport_id(ProductKey(k.gtin, Kind.CONTAINER, k.serial, 1)) for k in missing.values()}
        found |= passport_kinds(self.pp, containers)
        self.kinds |= found
        self.on_chain |= set(found)
        self.absent |= (set(keys) | containers) - set(found)

    def stands_alone(self, id_: int) -> bool:
        """Whether an event on passport ``id_`` changes no other passport: an item or a lot
        (a container's contents follow its state). A kind not known here counts as no."""
        kind = self.kinds.get(id_) or (self.known[id_].kind if id_ in self.known else None)
        return kind in (Kind.ITEM, Kind.LOT)

    def parse(self, value: Any, where: str) -> ProductKey:
        if not isinstance(value, str):
            raise _Refusal(where, "an identifier must be a string")
        try:
            key = parse_code(value)
        except InvalidInput as exc:
            lower = value.strip().lower()
            link = lower.startswith(("http://", "https://"))
            ours = any(k in lower for k in _PASSPORT_LINK_KEYS) if link else lower.startswith(_PASSPORT_FORMS)
            if ours and not any(f"/{ai}/" in lower or f"({ai})" in lower for ai in PERSONAL_KEYS):
                raise _Refusal(where, f"{value!r} is not a valid identifier: {exc}") from None
            raise _Unmodelled(
                where,
                f"{value!r} is not an identifier passports take (SGTIN, LGTIN, SSCC, GIAI or GS1 Digital Link): {exc}",
            ) from None
        if key.kind is Kind.CONTAINER and key.other_key is not None:  # an SSCC: its tier from the document
            key = replace(key, tier=self.tiers.get((key.gtin, key.serial), SSCC_TIER) or SSCC_TIER)
        return key

    def resolve(self, key: ProductKey) -> int:
        """The passport an item identifier names: the item, or the container with that GTIN + serial."""
        item = self.pp.passport_id(key)
        if key.kind is not Kind.ITEM or self.exists(item):
            return item
        container = self.pp.passport_id(ProductKey(key.gtin, Kind.CONTAINER, key.serial, 1))
        return container if self.exists(container) else item

    def identifiers(
        self, event: Mapping[str, Any], names: Sequence[str], quantities: Sequence[str], notes: list[str]
    ) -> list[ProductKey]:
        keys: list[ProductKey] = []
        for name in names:
            values = event.get(name) or []
            if not isinstance(values, list):
                raise _Refusal(name, "must be a list")
            keys += [self.parse(v, f"{name}[{i}]") for i, v in enumerate(values)]
        for name in quantities:
            values = event.get(name) or []
            if not isinstance(values, list):
                raise _Refusal(name, "must be a list")
            for i, element in enumerate(values):
                where = f"{name}[{i}].epcClass"
                cls = element.get("epcClass") if isinstance(element, dict) else None
                if not isinstance(cls, str):
                    raise _Refusal(where, "a quantity element needs an epcClass string")
                # A class-level quantity names a passport when its class is a lot; any other
                # class (a product with no lot, a pattern) is noted, wherever it stands, and
                # the event's hash id (recorded with its passports, or anchored) keeps it.
                try:
                    key: ProductKey | None = parse_code(cls)
                except InvalidInput:
                    key = None
                if key is None or key.kind is not Kind.LOT:
                    notes.append(f"{where} {cls} is a quantity of a class with no lot: no passport names it")
                    continue
                keys.append(key)
        return keys

    def need(self, keys: Sequence[ProductKey], where: str, adopt: list[ProductKey]) -> tuple[int, ...]:
        """The passports of ``keys``; those with none are adopted (``adopt_unknown``) or refused."""
        ids = []
        for i, key in enumerate(keys):
            id_ = self.resolve(key)
            if not self.exists(id_):
                tier = self.tiers.get((key.gtin, key.serial), 0)
                if key.kind is Kind.ITEM and tier:  # an aggregation parent of the document: a container
                    key = ProductKey(key.gtin, Kind.CONTAINER, key.serial, tier)
                    id_ = self.pp.passport_id(key)
                if not self.adopt_unknown:
                    raise _Refusal(
                        where,
                        f"identifier {i}, {key}, has no passport: commission it first "
                        "(or import with adopt_unknown / --adopt-unknown)",
                    )
                adopt.append(key)
                self.known[id_] = key
            ids.append(id_)
        return tuple(ids)

    def container_of(self, id_: int) -> int:
        if id_ not in self.packed_in:
            self.packed_in[id_] = int(self.pp.contract.functions.containerOf(id_).call()) if id_ in self.on_chain else 0
        return self.packed_in[id_]

    def plan(self, index: int, event: Any) -> Planned:
        """What ``event`` does on chain: a lifecycle action, or (when the lifecycle does not
        model it) ``anchor``, with the reason in ``anchor_reason``."""
        ahead = self.hashed.pop(index, None)
        digest, notes = ahead if ahead is not None else self.digest(event)
        try:
            return self._planned(index, event, digest, notes)
        except _Unmodelled as unmodelled:
            # Anchored: by the hash its proof bundle holds (an own eventID is not recomputed).
            anchored = digest if parse_hash_uri(str(event.get("eventID"))) is None else self.computed(event)[0]
            return Planned(index, anchored, str(event.get("type")), "anchor", notes=tuple(notes),
                           anchor_reason=f"{unmodelled.field}: {unmodelled.reason}")  # fmt: skip

    def everything(self, index: int, event: Any) -> Planned:
        """``anchor_only``: every event that hashes is anchored."""
        digest, notes = self.computed(event)
        return Planned(index, digest, str(event.get("type")), "anchor", notes=tuple(notes),
                       anchor_reason="anchor only: every event of the document is anchored")  # fmt: skip

    def computed(self, event: Any) -> tuple[bytes, list[str]]:
        """The event's CBV 2.0 hash, computed (what an anchor and its proof bundles hold), and
        how, if not with the document's own context."""
        if not isinstance(event, dict):
            raise _Refusal("event", "is not a JSON object")
        try:
            digest, fallback = self.hasher.digest(event)
        except InvalidInput as exc:
            raise _Refusal("eventID", str(exc)) from None
        return digest, [fallback] if fallback else []

    def digest(self, event: Any) -> tuple[bytes, list[str]]:
        """The event's id, and the notes on how it was computed. An event that carries a CBV 2.0
        hash id (as every export of this system does) is recognised by it: the id it was
        recorded under, wherever it was recorded first. Recomputing it from an exported event
        would give another hash (the export renders the event from the chain) and record the
        event a second time."""
        own_id = event.get("eventID") if isinstance(event, dict) else None
        digest = parse_hash_uri(own_id) if isinstance(own_id, str) else None
        return (digest, []) if digest is not None else self.computed(event)

    def _planned(self, index: int, event: dict[str, Any], digest: bytes, notes: list[str]) -> Planned:
        kind = event.get("type")
        if kind not in EVENT_TYPES:
            if kind in OTHER_EVENT_TYPES:
                raise _Unmodelled("type", f"passports have no {kind}")
            raise _Refusal("type", f"{kind!r} is not an EPCIS 2.0 event type")
        action = event.get("action")
        try:
            step = parse_biz_step(event["bizStep"]) if event.get("bizStep") else BizStep.NONE
        except InvalidInput as exc:
            raise _Refusal("bizStep", str(exc)) from None
        if step is BizStep.OTHER and str(event["bizStep"]).strip() not in ("other", BizStep.OTHER.uri):
            notes.append(
                f"bizStep {event['bizStep']} is outside the CBV: recorded as other (the event hash id keeps it)"
            )
        try:
            disposition = parse_disposition(event["disposition"]) if event.get("disposition") else None
        except InvalidInput as exc:
            raise _disposition_refusal("disposition", event["disposition"], exc) from None
        disposition = self.persistent(event, disposition, notes)
        try:
            when = event_time(event)
        except InvalidInput as exc:
            raise _Refusal("eventTime", str(exc)) from None
        read_point = bytes(32)
        if isinstance(event.get("readPoint"), dict) and event["readPoint"].get("id"):
            read_point = location_id(str(event["readPoint"]["id"]))
        base = Planned(index, digest, str(kind), "", biz_step=step)
        adopt: list[ProductKey] = []
        planned = self._plan(base, event, action, step, disposition, when, read_point, adopt, notes)
        planned.adopt, planned.notes = tuple(adopt), tuple(notes)
        return planned

    def persistent(
        self, event: Mapping[str, Any], disposition: Disposition | None, notes: list[str]
    ) -> Disposition | None:
        """The recorded disposition given ``persistentDisposition``: a ``set`` value is recorded
        when the event has no disposition of its own; everything else of it is noted."""
        persistent = event.get("persistentDisposition")
        if persistent is None:
            return disposition
        if not isinstance(persistent, dict):
            raise _Refusal("persistentDisposition", "must be an object with set and/or unset lists")
        for name in ("set", "unset"):
            values = persistent.get(name) or []
            if not isinstance(values, list):
                raise _Refusal(f"persistentDisposition.{name}", "must be a list")
            for value in values:
                try:
                    parsed = parse_disposition(value)
                except InvalidInput as exc:
                    raise _disposition_refusal(f"persistentDisposition.{name}", value, exc) from None
                if name == "set" and disposition is None:
                    disposition = parsed
                    notes.append(f"persistentDisposition set {parsed.label}: recorded as the event's disposition")
                else:
                    notes.append(
                        f"persistentDisposition {name} {parsed.label}: not recorded on its own (the chain keeps "
                        "one disposition per event; the event hash id keeps it)"
                    )
        return disposition

    def _plan(
        self,
        base: Planned,
        event: Mapping[str, Any],
        action: Any,
        step: BizStep,
        disposition: Disposition | None,
        when: int,
        read_point: bytes,
        adopt: list[ProductKey],
        notes: list[str],
    ) -> Planned:
        kind = base.type
        if kind == "AggregationEvent":
            if action not in ("ADD", "DELETE", "OBSERVE"):
                raise _Refusal("action", f"{action!r} is not an EPCIS action")
            children = self.identifiers(event, ["childEPCs"], ["childQuantityList"], notes)
            if not children and action != "OBSERVE":
                raise _Unmodelled("childEPCs", "names no passport to pack or unpack")
            if action == "DELETE":
                child_ids = tuple(self.resolve(k) for k in children)
                for i, id_ in enumerate(child_ids):
                    if not self.exists(id_):
                        raise _Refusal(f"childEPCs[{i}]", f"{children[i]} has no passport, so it is in no container")
                    self.packed_in[id_] = 0
                base.action, base.ids = "unpack", child_ids
                return base
            parent = self.parse(event.get("parentID"), "parentID")
            if parent.kind is Kind.LOT:
                raise _Unmodelled("parentID", f"{parent} is a lot, not a container")
            if parent.kind is Kind.ITEM:  # a GTIN + serial parent: a container, a tier above its children
                parent = ProductKey(
                    parent.gtin, Kind.CONTAINER, parent.serial, self.tiers.get((parent.gtin, parent.serial), 1)
                )
            container = self.pp.passport_id(parent)
            if not self.exists(container):
                self.need([parent], "parentID", adopt)
            child_ids = self.need(children, "childEPCs", adopt)
            if action == "ADD":
                for id_ in child_ids:
                    self.packed_in[id_] = container
                base.action, base.ids, base.container = "pack", child_ids, container
                return base
            # OBSERVE: the children are in the parent already (those adopted now are packed into it).
            adopted = {self.pp.passport_id(k) for k in adopt}
            for i, id_ in enumerate(child_ids):
                if id_ not in adopted and self.container_of(id_) != container:
                    raise _Unmodelled(
                        f"childEPCs[{i}]",
                        f"{children[i]} is not packed in {parent} on chain (its packing, an ADD, records that)",
                    )
                self.packed_in[id_] = container
            base.action, base.container = "observe", container
            base.ids = tuple(i for i in child_ids if i in adopted)
            step, disposition = _observed(event, step, disposition, notes)
            if step is not BizStep.NONE:
                base.record = self.record(step, disposition, (container,), when, read_point, base.event_id)
            return base

        if kind == "TransformationEvent":
            inputs = self.identifiers(event, ["inputEPCList"], ["inputQuantityList"], notes)
            outputs = self.identifiers(event, ["outputEPCList"], ["outputQuantityList"], notes)
            if not inputs and not outputs:
                raise _Unmodelled("inputEPCList", "the transformation names no passport among its inputs and outputs")
            if not inputs:  # nothing with a passport consumed: new goods, commissioned
                notes.append("the inputs name no passport: the outputs are commissioned")
                base.action, base.keys = "commission", tuple(outputs)
                for key in outputs:
                    self.known[self.pp.passport_id(key)] = key
                return base
            input_ids = self.need(inputs, "inputEPCList", adopt)
            tid_text = event.get("transformationID")
            base.transformation = transformation_id(str(tid_text)) if tid_text else keccak(base.event_id)
            base.action, base.ids, base.keys = "transform", input_ids, tuple(outputs)
            for key in outputs:
                self.known[self.pp.passport_id(key)] = key
            return base

        # ObjectEvent, TransactionEvent
        keys = self.identifiers(event, ["epcList"], ["quantityList"], notes)
        if not keys:
            raise _Unmodelled("epcList", "names no passport")
        if kind == "ObjectEvent" and action == "ADD" and step in (BizStep.COMMISSIONING, BizStep.NONE):
            tiered = []
            for key in keys:
                tier = self.tiers.get((key.gtin, key.serial), 0) if key.kind is Kind.ITEM else 0
                tiered.append(ProductKey(key.gtin, Kind.CONTAINER, key.serial, tier) if tier else key)
            base.action, base.keys = "commission", tuple(tiered)
            for key in tiered:
                self.known[self.pp.passport_id(key)] = key
            return base
        if kind == "ObjectEvent" and action == "ADD" and not all(self.exists(self.resolve(k)) for k in keys):
            base.action, base.keys = "commission", tuple(keys)
            for key in keys:
                self.known[self.pp.passport_id(key)] = key
            return base
        if action not in ("OBSERVE", "ADD", "DELETE"):
            raise _Refusal("action", f"{action!r} is not an EPCIS action")
        if kind == "ObjectEvent" and action == "DELETE" and step is not BizStep.DECOMMISSIONING:
            raise _Unmodelled("bizStep", "an ObjectEvent DELETE is recorded as decommissioning only")
        step, disposition = _observed(event, step, disposition, notes)
        base.record = self.record(step, disposition, (), when, read_point, base.event_id)
        ids = self.need(keys, "epcList", adopt)
        base.action, base.ids = "record", ids
        base.record = replace(base.record, passports=ids)
        base.independent = step is not BizStep.RECALLING and all(self.stands_alone(i) for i in ids)
        return base

    def record(
        self,
        step: BizStep,
        disposition: Disposition | None,
        ids: tuple[int, ...],
        when: int,
        read_point: bytes,
        digest: bytes,
    ) -> EpcisEvent:
        if step in (BizStep.NONE, BizStep.COMMISSIONING, BizStep.PACKING, BizStep.UNPACKING):
            raise _Unmodelled("bizStep", f"{step.label!r} is not recorded as an event by passports")
        disposition = disposition or IMPLIED_DISPOSITION.get(step)
        if disposition is None and step in NEEDS_DISPOSITION:
            raise _Refusal("disposition", f"a {step.label} event needs a disposition")
        return EpcisEvent(ids, step, disposition or Disposition.NONE, when, read_point, bytes(32), digest)


_CODE_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def _codes(event: Any) -> list[str]:
    """The identifiers an event names (instances, parents, classes), as written."""
    if not isinstance(event, dict):
        return []
    codes = [event["parentID"]] if isinstance(event.get("parentID"), str) else []
    for name in _CODE_LISTS:
        values = event.get(name)
        codes += [v for v in values if isinstance(v, str)] if isinstance(values, list) else []
    for name in _QUANTITY_LISTS:
        values = event.get(name)
        elements = values if isinstance(values, list) else []
        codes += [e["epcClass"] for e in elements if isinstance(e, dict) and isinstance(e.get("epcClass"), str)]
    return codes


def _parent_tiers(events: Sequence[Any]) -> dict[tuple[int, str], int]:
    """Tiers for the identifiers the document uses as aggregation parents: one above their children's."""
    children: dict[tuple[int, str], set[tuple[int, str]]] = {}
    for event in events:
        if (
            isinstance(event, dict)
            and event.get("type") == "AggregationEvent"
            and event.get("action") in ("ADD", "OBSERVE")
        ):
            try:
                parent = parse_code(str(event.get("parentID")))
                kids = {(k.gtin, k.serial) for k in (parse_code(str(c)) for c in event.get("childEPCs") or [])}
            except (InvalidInput, TypeError):
                continue
            children.setdefault((parent.gtin, parent.serial), set()).update(kids)

    def tier(node: tuple[int, str], depth: int = 0) -> int:
        if node not in children or depth > 3:
            return 0
        return min(3, 1 + max((tier(k, depth + 1) for k in children[node]), default=0))

    return {node: tier(node) for node in children}


# ---------------------------------------------------------------------------- import

SenderFor = Callable[[Planned], Sender]


def import_document(
    pp: ProductPassports,
    document: Any,
    *,
    sender: Sender | SenderFor,
    partial: bool = False,
    adopt_unknown: bool = False,
    anchors: EventAnchors | None = None,
    raw: bytes | None = None,
    anchor_only: bool = False,
) -> ImportResult:
    """Import an EPCIS 2.0 document's events (see the module's description). ``sender``
    sends every transaction, or is a function choosing the sender per planned event (for
    the commissioning of adopted identifiers it is asked with a plan whose action is
    ``adopt``: a producer's). With ``adopt_unknown``, identifiers that have no passport are
    commissioned right before the event that first names them.

    With ``anchors``, the events the lifecycle does not model are anchored, after the
    lifecycle events, in one transaction sent by the sender of the first of them (``raw``:
    the document's bytes, whose hash the anchor records; by default its JSON as given,
    compact); with ``anchor_only`` every event is. Without ``anchors`` they are refused."""
    events = events_of(document)
    context = document.get("@context")
    planner = _Planner(pp, EventHasher.of(context), adopt_unknown=adopt_unknown, tiers=_parent_tiers(events))
    if not anchor_only:
        planner.read(events)
    outcomes: dict[int, EventOutcome] = {}
    lifecycle: list[Planned] = []
    to_anchor: list[Planned] = []
    for index, event in enumerate(events):
        kind = str(event.get("type")) if isinstance(event, dict) else "?"
        own_id = event.get("eventID") if isinstance(event, dict) else None
        try:
            planned = planner.everything(index, event) if anchor_only else planner.plan(index, event)
        except _Refusal as refusal:
            outcomes[index] = EventOutcome(index, own_id, kind, None, "refused", refusal.field, refusal.reason)
            continue
        if planned.action != "anchor":
            lifecycle.append(planned)
        elif anchors is None:
            where, _, why = (planned.anchor_reason or "").partition(": ")
            why += " (the lifecycle does not model this event: it can only be anchored as evidence)"
            outcomes[index] = EventOutcome(index, hash_uri(planned.event_id), planned.type, None, "refused", where, why)
        else:
            to_anchor.append(planned)
    choose: SenderFor = sender if callable(sender) else (lambda _planned: sender)  # type: ignore[assignment,return-value]
    stop = bool(outcomes) and not partial
    records = [p.event_id for p in lifecycle if p.action == "record"]
    sending = _Sending(pp, choose, _Recorded.read(pp, records if not stop else []), outcomes, partial, stop=stop)
    sending.run(_batches(lifecycle, choose))
    anchored = None
    if to_anchor and anchors is not None:
        anchored = _anchor(anchors, document, raw, to_anchor, choose, outcomes, stop=sending.stop)
    return ImportResult(tuple(outcomes[i] for i in sorted(outcomes)), anchored)


@dataclass
class _Sending:
    """Sends an import's lifecycle events, batch after batch, and writes each one's outcome."""

    pp: ProductPassports
    choose: SenderFor
    recorded: _Recorded
    outcomes: dict[int, EventOutcome]
    partial: bool
    #: Set once nothing more may be sent (an invalid event, or one the chain refused).
    stop: bool = False
    #: The identifiers commissioned for each plan (kept so that a retry still reports them).
    adoptions: Sent = field(default_factory=dict)
    #: Each sender's key, if it is here (:meth:`key_of`), by address.
    keys: dict[str, LocalAccount | None] = field(default_factory=dict)

    def key_of(self, sender: Sender) -> LocalAccount | None:
        """The key that signs for ``sender`` here, if any (asked once per sender)."""
        address = sender_address(sender)
        if address not in self.keys:
            self.keys[address] = self.pp.chain.local_key(sender)
        return self.keys[address]

    def run(self, batches: Sequence[list[Planned]]) -> None:
        """Send ``batches`` in order: a wave of independent ones at a time where the sender's
        key is here (:func:`_wave`), else one transaction each, waited for."""
        queue = deque(batches)
        while queue:
            batch = queue.popleft()
            if self.stop:
                for planned in batch:
                    self.not_sent(planned, "another event of the document is invalid")
                continue
            wave = _wave(batch, queue, self.choose)
            key = self.key_of(self.choose(batch[0])) if len(wave) > 1 else None
            if key is None:
                queue.extendleft(reversed(wave[1:]))
                self.one(batch)
                continue
            try:
                sent, left = _send_wave(self.pp, wave, key, self.recorded)
            except ConfirmationTimeout:
                raise
            except ChainpassError:
                # The node refused a broadcast: each batch again on its own, once what was
                # broadcast before is mined (the chain is then asked what it holds, so
                # nothing goes in twice).
                settle(self.pp.chain, key)
                for each in wave:
                    self.one(each)
                continue
            self.report(wave, sent)
            if left:
                self.one_by_one(left[0])
                queue.extendleft(reversed(left[1:]))

    def one(self, batch: list[Planned]) -> None:
        """Send ``batch`` in one transaction (a run of ObjectEvents) or one event's; if the
        chain refuses it, event by event."""
        try:
            sent = _send_batch(self.pp, batch, self.choose(batch[0]), self.choose, self.adoptions, self.recorded)
        except ConfirmationTimeout:
            raise  # mined, not refused: the caller says what the chain holds (see import_standing)
        except ChainpassError:
            self.one_by_one(batch)
            return
        self.report([batch], sent)

    def one_by_one(self, batch: list[Planned]) -> None:
        """Send ``batch``'s events one by one, so that the report names the event the chain
        refuses: those before it go in (and, with ``partial``, those after it)."""
        sent: Sent = {}
        for planned in batch:
            if self.stop:
                self.not_sent(planned, "an earlier event was refused")
                continue
            try:
                sent.update(
                    _send_batch(self.pp, [planned], self.choose(planned), self.choose, self.adoptions, self.recorded)
                )
            except ConfirmationTimeout:
                raise
            except ChainpassError as exc:
                self.outcomes[planned.index] = EventOutcome(planned.index, hash_uri(planned.event_id), planned.type,
                                                            planned.action, "refused", "chain", str(exc))  # fmt: skip
                self.stop = not self.partial
        self.report([batch], sent)

    def report(self, batches: Sequence[list[Planned]], sent: Sent) -> None:
        for batch in batches:
            for planned in batch:
                if planned.index in sent:
                    hashes, adopted = sent[planned.index]
                    status = "recorded" if hashes else "already_on_chain"
                    self.outcomes[planned.index] = EventOutcome(planned.index, hash_uri(planned.event_id),
                                                                planned.type, planned.action, status,
                                                                tx_hashes=tuple(hashes), adopted=adopted,
                                                                notes=planned.notes)  # fmt: skip

    def not_sent(self, planned: Planned, reason: str) -> None:
        self.outcomes[planned.index] = EventOutcome(planned.index, hash_uri(planned.event_id), planned.type,
                                                    planned.action, "not_sent", reason=reason)  # fmt: skip


def _anchor(
    anchors: EventAnchors,
    document: Any,
    raw: bytes | None,
    plans: Sequence[Planned],
    choose: SenderFor,
    outcomes: dict[int, EventOutcome],
    *,
    stop: bool,
) -> AnchoredDocument | None:
    """Anchor the events of ``plans`` in one transaction (none if the import stopped), their
    outcomes into ``outcomes``; the anchor and its proof bundles."""

    def outcome(planned: Planned, status: str, **fields: Any) -> EventOutcome:
        return EventOutcome(planned.index, hash_uri(planned.event_id), planned.type, "anchor", status,
                            notes=planned.notes, **fields)  # fmt: skip

    if stop:
        for planned in plans:
            outcomes[planned.index] = outcome(planned, "not_sent", reason="another event of the document was refused")
        return None
    events = events_of(document)
    if raw is None:
        raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        context = document.get("@context", [EPCIS_CONTEXT])
        chosen = [events[p.index] for p in plans]
        anchored, fresh = anchor_events(
            anchors, chosen, [p.event_id for p in plans], context, raw, sender=choose(plans[0])
        )
    except ConfirmationTimeout:
        raise
    except ChainpassError as exc:
        for planned in plans:
            outcomes[planned.index] = outcome(planned, "refused", field="chain", reason=str(exc))
        return None
    for planned in plans:
        outcomes[planned.index] = outcome(planned, "anchored" if fresh else "already_on_chain",
                                          reason=planned.anchor_reason, anchored_in=anchored.transaction,
                                          tx_hashes=(anchored.transaction,) if fresh else ())  # fmt: skip
    return anchored


@dataclass(frozen=True)
class ImportStanding:
    """What the chain holds of a document's events now (after an import stopped part way)."""

    #: The document's events that can be imported (the others are refused however often it runs).
    valid: int
    #: Of those, the ones whose every effect the chain holds: a re-run sends nothing for them.
    on_chain: int
    #: The first valid event that is not (wholly) on chain, if any.
    first_missing: int | None


def import_standing(pp: ProductPassports, document: Any, *, adopt_unknown: bool = False) -> ImportStanding:
    """Which of ``document``'s events the chain holds now, as a re-run of
    :func:`import_document` would find them (mined transactions count, whether or not their
    confirmations came)."""
    events = events_of(document)
    context = document.get("@context")
    planner = _Planner(pp, EventHasher.of(context), adopt_unknown=adopt_unknown, tiers=_parent_tiers(events))
    valid = on_chain = 0
    first_missing: int | None = None
    for index, event in enumerate(events):
        try:
            planned = planner.plan(index, event)
        except _Refusal:
            continue
        if planned.action == "anchor":  # sent last, in one transaction: not counted here
            continue
        valid += 1
        if _held(pp, planned):
            on_chain += 1
        elif first_missing is None:
            first_missing = index
    return ImportStanding(valid, on_chain, first_missing)


def _held(pp: ProductPassports, planned: Planned) -> bool:
    """Whether the chain holds everything ``planned`` does (what :func:`_send` would not send)."""
    functions = pp.contract.functions
    if any(not pp.exists(pp.passport_id(k)) for k in planned.adopt):
        return False
    if planned.action == "commission":
        return all(pp.exists(pp.passport_id(k)) for k in planned.keys)
    if planned.action == "record":
        done = recorded_with(pp, [planned.event_id])
        return all((planned.event_id, i) in done for i in planned.ids)
    if planned.action in ("pack", "observe"):
        packed = all(int(functions.containerOf(i).call()) == planned.container for i in planned.ids)
        if planned.action == "observe" and planned.record is not None:
            return packed and (planned.event_id, planned.container) in recorded_with(pp, [planned.event_id])
        return packed
    if planned.action == "unpack":
        return all(int(functions.containerOf(i).call()) == 0 for i in planned.ids)
    if planned.action == "transform":
        consumed = set(pp.inputs_of(planned.transformation))
        return set(planned.ids) <= consumed and all(pp.exists(pp.passport_id(k)) for k in planned.keys)
    return False


def _tx(pp: ProductPassports, function: str, sender: Sender, *args: Any) -> str:
    # Encoded by eth-abi directly (ContractClient.call): web3's contract functions took about
    # a seventh of a second to encode a batch of 50 events.
    receipt = pp.chain.transact(pp.call(function, *args), sender)
    return "0x" + bytes(receipt["transactionHash"]).hex()


#: The most ObjectEvents sent in one `recordEvents` transaction (about 15k gas each), and
#: the most passports they may name in all: bulk runs and EPCIS imports batch alike.
RECORD_BATCH = 50
RECORD_PASSPORTS = 100


def _batches(plans: Sequence[Planned], choose: SenderFor) -> list[list[Planned]]:
    """Runs of consecutive plans to send together: ObjectEvents recorded by the same sender
    go in one transaction (up to :data:`RECORD_BATCH`); anything else goes alone."""
    batches: list[list[Planned]] = []
    for planned in plans:
        last = batches[-1] if batches else None
        joins = (
            last is not None
            and planned.action == "record"
            and last[-1].action == "record"
            and len(last) < RECORD_BATCH
            and choose(last[-1]) == choose(planned)
        )
        if joins and last is not None:
            last.append(planned)
        else:
            batches.append([planned])
    return batches


Sent = dict[int, tuple[list[str], tuple[str, ...]]]

#: The most `recordEvents` transactions a wave sends together (:func:`_wave`).
WAVE_BATCHES = 100


def _wave(first: list[Planned], queue: deque[list[Planned]], choose: SenderFor) -> list[list[Planned]]:
    """``first`` and the batches after it in ``queue`` (taken from it) that may be sent with
    it in one wave: runs of independent ObjectEvents (:attr:`Planned.independent`) that adopt
    nothing, from one sender, on passports no other batch of the wave names. The chain mines
    them in order (one key's nonces), but each is estimated before any of them is mined: on
    other passports, unaffected by the others, the estimate is what the chain then finds."""

    def fits(batch: list[Planned]) -> bool:
        return all(p.action == "record" and p.independent and not p.adopt for p in batch)

    if not fits(first):
        return [first]
    wave, sender = [first], choose(first[0])
    named = {i for p in first for i in p.ids}
    while queue and len(wave) < WAVE_BATCHES:
        ids = {i for p in queue[0] for i in p.ids}
        if not fits(queue[0]) or choose(queue[0][0]) != sender or ids & named:
            break
        wave.append(queue.popleft())
        named |= ids
    return wave


def _send_wave(
    pp: ProductPassports, wave: Sequence[list[Planned]], key: LocalAccount, recorded: _Recorded
) -> tuple[Sent, list[list[Planned]]]:
    """Send the batches of ``wave`` (:func:`_wave`) from ``key`` together: all estimated in one
    request, then those before the first the contract refuses signed here and sent through a
    :class:`~chainpass.sender.BulkSender` (JSON-RPC batches, receipts read in bulk). What went
    in (as :func:`_send_batch` says it), and the batches that did not, in order: the first
    refused, then the rest (refused when mined, or not sent)."""
    done = recorded.of([p.event_id for batch in wave for p in batch])
    sent: Sent = {}
    todo: list[tuple[list[Planned], set[int], TxParams]] = []
    for batch in wave:
        rows = _missing(batch, done)
        if rows:
            todo.append((batch, {index for index, _ in rows}, pp.call("recordEvents", [row for _, row in rows])))
        else:
            sent.update({p.index: ([], ()) for p in batch})
    if not todo:
        return sent, []
    bulk = BulkSender(pp.chain, key)
    limits = bulk.estimate([call for _, _, call in todo])
    cut = next((n for n, gas in enumerate(limits) if isinstance(gas, ChainpassError)), len(todo))
    calls = [cast(TxParams, {**call, "gas": gas}) for (_, _, call), gas in zip(todo[:cut], limits[:cut], strict=True)]
    left: list[list[Planned]] = []
    for (batch, indices, _), result in zip(todo[:cut], bulk.send(calls), strict=True):
        if result.error is None:
            sent.update({p.index: ([result.tx_hash] if p.index in indices else [], ()) for p in batch})
        elif result.receipt is None:  # not mined in time: it may still be, so never sent again here
            raise ConfirmationTimeout(f"{result.error} Re-running the import records nothing twice.")
        else:
            left.append(batch)
    return sent, left + [batch for batch, _, _ in todo[cut:]]


def _missing(batch: Sequence[Planned], done: set[tuple[bytes, int]]) -> list[tuple[int, tuple[Any, ...]]]:
    """(plan index, the contract's Event) of each event of ``batch`` on the passports that do
    not carry its id yet (``done``: (event id, passport) on chain)."""
    rows = []
    for planned in batch:
        assert planned.record is not None
        todo = tuple(i for i in planned.ids if (planned.event_id, i) not in done)
        if todo:
            rows.append((planned.index, replace(planned.record, passports=todo).as_tuple()))
    return rows


def _adopt(
    pp: ProductPassports, batch: Sequence[Planned], choose: SenderFor
) -> dict[int, tuple[list[str], tuple[str, ...]]]:
    """Commission the adopted identifiers of ``batch`` that have no passport yet: {plan index:
    (tx hashes, identifiers commissioned)}. One transaction per plan that adopts any."""
    adopted: dict[int, tuple[list[str], tuple[str, ...]]] = {}
    for planned in batch:
        missing = [k for k in dict.fromkeys(planned.adopt) if not pp.exists(pp.passport_id(k))]
        if missing:
            adopter = choose(replace(planned, action="adopt", biz_step=BizStep.COMMISSIONING))
            tx = _tx(pp, "commission", adopter, [k.row for k in missing], bytes(32), "")
            adopted[planned.index] = ([tx], tuple(str(k) for k in missing))
    return adopted


@dataclass
class _Recorded:
    """Which passports a document's events are recorded on: read for all of them once, then,
    before each transaction, in the blocks since only (so a re-run, or another importer of the
    same document, is still seen, without reading the whole chain's logs again each time)."""

    pp: ProductPassports
    seen: set[tuple[bytes, int]]
    #: The last block of the first read.
    read_to: int

    @classmethod
    def read(cls, pp: ProductPassports, event_ids: Sequence[bytes]) -> _Recorded:
        head = pp.chain.w3.eth.block_number
        seen: set[tuple[bytes, int]] = set()
        for start in range(0, len(event_ids), RECORD_PASSPORTS):
            seen |= recorded_with(pp, event_ids[start : start + RECORD_PASSPORTS], head)
        return cls(pp, seen, head)

    def of(self, event_ids: Sequence[bytes]) -> set[tuple[bytes, int]]:
        """(event id, passport) on chain now, of ``event_ids`` and of all found before (what
        the blocks since the first read hold joins them: not a copy for every batch)."""
        for start in range(0, len(event_ids), RECORD_PASSPORTS):
            self.seen |= recorded_with(self.pp, event_ids[start : start + RECORD_PASSPORTS], first=self.read_to + 1)
        return self.seen


def _send_batch(
    pp: ProductPassports,
    batch: Sequence[Planned],
    sender: Sender,
    choose: SenderFor,
    adoptions: Sent,
    recorded: _Recorded,
) -> Sent:
    """Send what of ``batch`` the chain does not hold yet: {plan index: (tx hashes (none if
    it was all on chain), identifiers adopted)}. A run of ObjectEvents goes in one transaction,
    after the commissioning of the identifiers they adopt (kept in ``adoptions``, so that a
    retry event by event still reports them)."""
    adoptions.update(_adopt(pp, batch, choose))
    adopted = adoptions

    def with_adopted(index: int, hashes: list[str]) -> tuple[list[str], tuple[str, ...]]:
        before, keys = adopted.get(index, ([], ()))
        return before + hashes, keys

    if len(batch) == 1 and batch[0].action != "record":
        return {batch[0].index: with_adopted(batch[0].index, _send(pp, batch[0], sender))}
    records = _missing(batch, recorded.of([p.event_id for p in batch]))
    if not records:
        return {p.index: with_adopted(p.index, []) for p in batch}
    tx_hash = _tx(pp, "recordEvents", sender, [row for _, row in records])
    sent = {index for index, _ in records}
    return {p.index: with_adopted(p.index, [tx_hash] if p.index in sent else []) for p in batch}


def _send(pp: ProductPassports, planned: Planned, sender: Sender) -> list[str]:
    """Send what of ``planned`` the chain does not hold yet; the tx hashes (none if nothing was missing)."""
    functions = pp.contract.functions
    if planned.action == "commission":
        missing = [k for k in planned.keys if pp.passport(pp.passport_id(k)) is None]
        if not missing:
            return []
        return [_tx(pp, "commission", sender, [k.row for k in missing], planned.event_id, "")]
    if planned.action == "record":
        assert planned.record is not None
        done = recorded_with(pp, [planned.event_id])
        todo = tuple(i for i in planned.ids if (planned.event_id, i) not in done)
        if not todo:
            return []
        return [_tx(pp, "recordEvents", sender, [replace(planned.record, passports=todo).as_tuple()])]
    if planned.action == "pack":
        todo_ids = [i for i in planned.ids if int(functions.containerOf(i).call()) != planned.container]
        if not todo_ids:
            return []
        return [_tx(pp, "pack", sender, planned.container, todo_ids, planned.event_id)]
    if planned.action == "unpack":
        todo_ids = [i for i in planned.ids if int(functions.containerOf(i).call()) != 0]
        if not todo_ids:
            return []
        return [_tx(pp, "unpack", sender, todo_ids, planned.event_id)]
    if planned.action == "observe":
        hashes = []
        todo_ids = [i for i in planned.ids if int(functions.containerOf(i).call()) != planned.container]
        if todo_ids:
            hashes.append(_tx(pp, "pack", sender, planned.container, todo_ids, planned.event_id))
        if planned.record is not None and (planned.event_id, planned.container) not in recorded_with(
            pp, [planned.event_id]
        ):
            hashes.append(_tx(pp, "recordEvents", sender, [planned.record.as_tuple()]))
        return hashes
    if planned.action == "transform":
        consumed = set(pp.inputs_of(planned.transformation))
        inputs = [i for i in planned.ids if i not in consumed]
        outputs = [k for k in planned.keys if pp.passport(pp.passport_id(k)) is None]
        if not inputs and not outputs:
            return []
        return [
            _tx(pp, "transform", sender, planned.transformation, inputs, [k.row for k in outputs], planned.event_id, "")
        ]
    raise AssertionError(planned.action)


def recorded_with(
    pp: ProductPassports, event_ids: Sequence[bytes], last: int | None = None, first: int | None = None
) -> set[tuple[bytes, int]]:
    """(event hash id, passport) of each passport the events ``event_ids`` are recorded on
    already (up to block ``last``, by default the latest; from block ``first``, by default the
    contract's first): one log query for them all."""
    if not event_ids:
        return set()
    topics: list[Any] = [pp.topic("PassportEventRecorded"), None, None, ["0x" + e.hex() for e in event_ids]]
    logs = pp.logs(topics, last, first)
    return {(bytes(log["topics"][3]), int.from_bytes(bytes(log["topics"][1]), "big")) for log in logs}
