"""A passport's journey, rebuilt from the passports contract's logs.

The chain keeps a passport's state, not its story; the story is in the logs. :class:`Tracer`
reads them (from the node, or from a local :class:`~chainpass.index.TraceIndex`) and puts
together what a scan shows: the passport's own events, the events of the containers it was
packed in while it was inside, and the journeys of the inputs it was made from.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from chainpass.artifacts import event_topic, load_artifact
from chainpass.enums import BizStep, Disposition
from chainpass.errors import InvalidInput
from chainpass.records import FLATTEN, PASSPORT_ID, JsonRecord, iso

if TYPE_CHECKING:
    from chainpass.passport import ProductPassports

#: The logs that make up a passport's journey (each has the passport id as first topic).
TRACED_EVENTS = (
    "PassportCommissioned",
    "PassportEventRecorded",
    "PassportPacked",
    "PassportUnpacked",
    "PassportConsumed",
    "PassportProduced",
    "CustodyTransferred",
    "CustodyOffersCancelled",
    "CustodyReassigned",
    "PassportStateInherited",
)


#: The arguments that name who acted, in the order they are looked for in a traced log.
_ACTOR_KEYS = ("actor", "producer", "to", "custodian", "by")


@dataclass(frozen=True)
class TraceEntry(JsonRecord):
    """One event in a passport's journey, its own or a container's while it was inside."""

    block_number: int
    log_index: int
    tx_hash: str
    event: str
    passport: int = field(metadata=PASSPORT_ID)
    actor: ChecksumAddress
    details: dict[str, Any] = field(metadata=FLATTEN)
    #: The container the event was recorded on, when it reached the passport through it.
    via_container: int | None = field(default=None, metadata=PASSPORT_ID)
    #: The input (ancestor) the event happened to, when the passport was made from it.
    via_input: int | None = field(default=None, metadata=PASSPORT_ID)
    #: The transaction's index in its block: with the block number and log index it orders
    #: events (the embedded EVM numbers logs per transaction, nodes per block).
    transaction_index: int = 0

    @property
    def position(self) -> tuple[int, int, int]:
        """Where the event is in the chain's order."""
        return (self.block_number, self.transaction_index, self.log_index)


class Tracer:
    """Reads journeys from the logs of ``passports`` (wherever its client reads logs)."""

    def __init__(self, passports: ProductPassports) -> None:
        self.passports = passports

    def trace(self, id_: int) -> list[TraceEntry]:
        """The passport's journey from logs: its own events, its containers' events and
        handovers while it was packed in them (following containers up), and the
        journeys of the inputs it was made from (following transformations back). Each
        passport's logs are read once, however many paths lead to it."""
        return self._trace(id_, {})

    def inputs_of(self, transformation: bytes) -> list[int]:
        """The passports transformation ``transformation`` consumed, in the order it did."""
        if len(transformation) != 32:
            raise InvalidInput(f"The transformation id must be 32 bytes, not {len(transformation)}.")
        consumed = self.passports.topic("PassportConsumed")
        logs = self.passports.logs([consumed, None, "0x" + transformation.hex()])
        logs = sorted(logs, key=lambda log: self._entry(log).position)
        return [int.from_bytes(bytes(log["topics"][1]), "big") for log in logs]

    def _trace(self, id_: int, seen: dict[int, list[TraceEntry]]) -> list[TraceEntry]:
        if id_ in seen:
            return seen[id_]
        seen[id_] = []  # a guard: lineage has no cycles, but a trace must end regardless
        own = self.own(id_)
        entries = list(own)
        for packed in (e for e in own if e.event == "PassportPacked"):
            container = int(packed.details["container"], 16)
            # Windows by position (block, transaction, log), not by block: transactions share
            # blocks on a real chain, and an event on the container in the block of the packing
            # (before it) or of the unpacking (after it) did not reach the passport.
            start = packed.position
            end = next((e.position for e in own if e.event == "PassportUnpacked" and e.position > start), None)
            for entry in self._trace(container, seen):
                inside = start < entry.position and (end is None or entry.position < end)
                if inside and entry.event in ("PassportEventRecorded", "CustodyTransferred"):
                    entries.append(replace(entry, via_container=entry.via_container or container))
        for produced in (e for e in own if e.event == "PassportProduced"):
            for input_id in self.inputs_of(bytes.fromhex(produced.details["transformation_id"][2:])):
                entries += [replace(e, via_input=e.via_input or input_id) for e in self._trace(input_id, seen)]
        unique = {(e.tx_hash, e.log_index, e.passport): e for e in entries}
        seen[id_] = sorted(unique.values(), key=lambda e: e.position)
        return seen[id_]

    def own(self, id_: int, events: Collection[str] = TRACED_EVENTS) -> list[TraceEntry]:
        """The passport's own events (none of its containers' or inputs'), in the chain's order;
        only those named in ``events`` (each log is decoded only if it is one of them)."""
        wanted = {topic for topic, (name, _event) in self._events.items() if name in events}
        logs = [
            log
            for log in self.passports.logs([None, "0x" + id_.to_bytes(32, "big").hex()])
            if bytes(log["topics"][0]) in wanted
        ]
        commissioned = [_first_word(log) for log in logs if bytes(log["topics"][0]) in self._actorless]
        producers = dict(zip(commissioned, self.passports.producers_of(commissioned), strict=True))
        return sorted((self._entry(log, producers) for log in logs), key=lambda e: e.position)

    @cached_property
    def _events(self) -> dict[bytes, tuple[str, Any]]:
        abi = load_artifact(self.passports.CONTRACT_NAME).abi
        return {event_topic(abi, n): (n, getattr(self.passports.contract.events, n)()) for n in TRACED_EVENTS}

    @cached_property
    def _actorless(self) -> set[bytes]:
        """The topics of the traced events whose log names no actor (commissioning: the
        producer is kept on the passport)."""
        abi = load_artifact(self.passports.CONTRACT_NAME).abi
        named = {
            str(item["name"])
            for item in abi
            if item.get("type") == "event" and any(i["name"] in _ACTOR_KEYS for i in item.get("inputs", []))
        }
        return {topic for topic, (name, _event) in self._events.items() if name not in named}

    def _entry(self, log: Any, producers: Mapping[int, ChecksumAddress] | None = None) -> TraceEntry:
        """The entry of ``log``; ``producers``: the producers of commissioned passports, read ahead."""
        name, event = self._events[bytes(log["topics"][0])]
        args = dict(event.process_log(log)["args"])
        passport = int(args.get("id", _first_word(log)))
        actor = next((args.pop(k) for k in _ACTOR_KEYS if k in args), None)
        if actor is None:  # commissioning: the producer is kept on the passport, not in the log
            actor = (producers or {}).get(passport) or self.passports.producers_of([passport])[0]
        details: dict[str, Any] = {}
        for key, value in args.items():
            if key == "bizStep":
                details["biz_step"] = BizStep(value).label
            elif key == "disposition":
                details["disposition"] = Disposition(value).label
            elif key == "eventTime":
                details["event_time"] = iso(value)
            elif key == "container":
                details["container"] = hex(value)
            elif isinstance(value, bytes):
                details[_snake(key)] = "0x" + value.hex()
            elif key != "id":
                details[_snake(key)] = value
        return TraceEntry(
            block_number=int(log["blockNumber"]),
            log_index=int(log["logIndex"]),
            transaction_index=int(log["transactionIndex"]),
            tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            event=name,
            passport=passport,
            actor=to_checksum_address(actor),
            details=details,
        )


def _first_word(log: Any) -> int:
    """The passport id a traced log names (its first indexed argument)."""
    return int.from_bytes(bytes(log["topics"][1]), "big")


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
