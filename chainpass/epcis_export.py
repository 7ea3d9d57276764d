"""A passport's history as an EPCIS 2.0 document: every event with its CBV 2.0 hash id as
``eventID``, so importing the export, on this chain or another, records nothing twice.

With a trace index, the anchored events it holds about the passport (:mod:`chainpass.evidence`)
are in it too, in the chain's order by their anchor: each **as declared** (so its CBV 2.0 hash
is still the one anchored: anyone can hash it again and check the proof), with its ``eventID``
(its own, else its hash). What proves it is beside the events, in the document's extension
``chainpass:evidence`` (one entry per anchored event: its eventID and hash, the path to the
root, the document's hash and the anchor), not in the event, whose hash an extension would
change. The namespaces their documents declared join the export's ``@context``.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

# The hash generator installs a document loader that falls back to the internet: import
# it first, then install ours (see _offline_loader), which never leaves the process.
from web3.logs import DISCARD

from chainpass.errors import InvalidInput
from chainpass.evidence import AnchoredEvent, evidence_of
from chainpass.index import TraceIndex
from chainpass.passport import ProductPassports
from chainpass.records import iso
from chainpass.standards.epcis import EPCIS_CONTEXT, hash_uri
from chainpass.standards.gs1 import ProductKey

# ---------------------------------------------------------------------------- export


#: The prefix of the export's extensions, and the namespace it stands for.
NAMESPACE = ("chainpass", "urn:chainpass:epcis:")


def export(pp: ProductPassports, passport_id: int, *, evidence: TraceIndex | None = None) -> dict[str, Any]:
    """An EPCIS 2.0 EPCISDocument with the passport's history (see :meth:`ProductPassports.trace`)
    and, with ``evidence``, the anchored events that index holds about it (see the module)."""
    if pp.passport(passport_id) is None:
        raise InvalidInput(f"No passport has id {hex(passport_id)}.")
    trace = pp.trace(passport_id)
    chain = pp.chain
    block_times: dict[int, int] = {}
    receipts: dict[str, Any] = {}
    codes: dict[int, str] = {}

    def block_time(number: int) -> int:
        if number not in block_times:
            block_times[number] = int(chain.w3.eth.get_block(number)["timestamp"])
        return block_times[number]

    def receipt(tx_hash: str) -> Any:
        if tx_hash not in receipts:
            receipts[tx_hash] = chain.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        return receipts[tx_hash]

    def logged_hash(tx_hash: str, event_name: str) -> str | None:
        processed = getattr(pp.contract.events, event_name)().process_receipt(receipt(tx_hash), errors=DISCARD)
        for entry in processed:
            value = bytes(entry["args"]["metadataHash"])
            if any(value):
                return hash_uri(value)
        return None

    def code(id_: int) -> str:
        if id_ not in codes:
            record = pp.passport(id_)
            commissioned = pp.logs([pp.topic("PassportCommissioned"), "0x" + id_.to_bytes(32, "big").hex()])
            if record is None or not commissioned:
                codes[id_] = f"urn:chainpass:passport:{id_:#x}"
            else:
                args = pp.contract.events.PassportCommissioned().process_log(commissioned[0])["args"]
                serial = bytes(args["serial"]).rstrip(b"\0").decode("ascii")
                key = ProductKey(int(args["gtin"]), record.kind, serial, record.tier)
                try:
                    codes[id_] = key.epc_urn()
                except InvalidInput:
                    codes[id_] = key.digital_link()
        return codes[id_]

    def what(id_: int) -> dict[str, Any]:
        urn = code(id_)
        if urn.startswith("urn:epc:class:") or "/10/" in urn:
            return {"quantityList": [{"epcClass": urn}]}
        return {"epcList": [urn]}

    def when(entry: Any, declared: int | None = None) -> dict[str, str]:
        moment = declared if declared is not None else block_time(entry.block_number)
        return {"eventTime": iso(moment), "eventTimeZoneOffset": "+00:00"}

    out: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    seen: set[tuple[str, ...]] = set()
    for entry in trace:
        d = entry.details
        if entry.event == "PassportCommissioned":
            key_: tuple[str, ...] = ("c", entry.tx_hash, str(entry.passport))
            ev: dict[str, Any] = {"type": "ObjectEvent", **when(entry), **what(entry.passport), "action": "ADD",
                                  "bizStep": "commissioning", "disposition": "active"}  # fmt: skip
            eid = logged_hash(entry.tx_hash, "BatchCommissioned")
        elif entry.event == "PassportEventRecorded":
            key_ = ("r", entry.tx_hash, str(entry.log_index))
            declared = int(dt.datetime.fromisoformat(d["event_time"].replace("Z", "+00:00")).timestamp())
            ev = {"type": "ObjectEvent", **when(entry, declared), **what(entry.passport), "action": "OBSERVE",
                  "bizStep": d["biz_step"], "disposition": d["disposition"]}  # fmt: skip
            eid = hash_uri(bytes.fromhex(d["event_id"][2:])) if int(d["event_id"], 16) else None
        elif entry.event in ("PassportPacked", "PassportUnpacked"):
            key_ = ("a", entry.tx_hash, str(entry.log_index))
            ev = {"type": "AggregationEvent", **when(entry), "parentID": code(int(d["container"], 16)),
                  "childEPCs": [code(entry.passport)], "action": "ADD" if entry.event == "PassportPacked" else "DELETE",
                  "bizStep": "packing" if entry.event == "PassportPacked" else "unpacking"}  # fmt: skip
            eid = hash_uri(bytes.fromhex(d["event_id"][2:])) if int(d["event_id"], 16) else None
        elif entry.event == "PassportProduced":
            tid = d["transformation_id"]
            key_ = ("t", tid)
            inputs = pp.inputs_of(bytes.fromhex(tid[2:]))
            ev = {"type": "TransformationEvent", **when(entry),
                  "inputEPCList": [code(i) for i in inputs if "urn:epc:class:" not in code(i)],
                  "inputQuantityList": [{"epcClass": code(i)} for i in inputs if "urn:epc:class:" in code(i)],
                  "outputEPCList": [code(entry.passport)] if "urn:epc:class:" not in code(entry.passport) else [],
                  "outputQuantityList": [{"epcClass": code(entry.passport)}]
                  if "urn:epc:class:" in code(entry.passport) else [],
                  "transformationID": f"urn:chainpass:transformation:{tid}"}  # fmt: skip
            ev = {k: v for k, v in ev.items() if v != []}
            eid = logged_hash(entry.tx_hash, "TransformationRecorded")
        else:
            continue
        if key_ in seen:
            continue
        seen.add(key_)
        if eid:
            ev = {"eventID": eid, **ev}
        out.append((entry.position, ev))
    anchored = evidence_of(evidence, trace, passport_id) if evidence is not None else []
    out += [(e.position, {"eventID": e.event_id, **copy.deepcopy(e.bundle["event"])}) for e in anchored]
    document: dict[str, Any] = {
        "@context": _context(anchored),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": iso(int(dt.datetime.now(dt.UTC).timestamp())),
        "epcisBody": {"eventList": [ev for _position, ev in sorted(out, key=lambda each: each[0])]},
    }
    if anchored:
        document[f"{NAMESPACE[0]}:evidence"] = [_proof(e) for e in anchored]
    return document


def _context(anchored: list[AnchoredEvent]) -> list[Any]:
    """GS1's context, and the namespaces the anchored events' documents declared (the first
    meaning of a prefix wins) with the export's own."""
    if not anchored:
        return [EPCIS_CONTEXT]
    extra: list[Any] = []
    names: dict[str, Any] = {}
    for event in anchored:
        context = event.bundle.get("context") or []
        for part in context if isinstance(context, list) else [context]:
            if isinstance(part, dict):
                names = {**part, **names}
            elif part != EPCIS_CONTEXT and part not in extra:
                extra.append(part)
    return [EPCIS_CONTEXT, *extra, {**names, NAMESPACE[0]: NAMESPACE[1]}]


def _proof(event: AnchoredEvent) -> dict[str, Any]:
    """What proves an anchored event, as its proof bundle says it, without the event."""
    bundle = event.bundle
    return {
        "eventID": event.event_id,
        **{k: bundle[k] for k in ("eventHash", "root", "proof", "documentHash", "anchor")},
    }
