"""EPCIS 2.0 import and export: hash ids on chain, idempotent re-imports, interrupted imports,
refusals naming the event and field, and exports that validate against GS1's schema.

Every test runs on the embedded EVM and on Anvil, with the organisations of ``passport_world``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from passport_world import Orgs

from chainpass.chain import Sender
from chainpass.epcis import Planned, event_hash, export, hash_uri, import_document, parse_biz_step
from chainpass.gs1 import Kind, ProductKey
from chainpass.passport import BizStep, ProductPassports, State

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "epcis" / "EPCIS-JSON-Schema.json"
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
BAG1 = "urn:epc:id:sgtin:9506000.013435.BAG1"
BAG2 = "urn:epc:id:sgtin:9506000.013435.BAG2"
CASE = "urn:epc:id:sgtin:9506000.113435.CASE1"
PADDY = "urn:epc:class:lgtin:9506000.013440.P1"
RICE = "urn:epc:class:lgtin:9506000.013441.M1"
WAREHOUSE = {"id": "urn:epc:id:sgln:9506000.00001.0"}


def _event(kind: str, time: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "eventTime": time, "eventTimeZoneOffset": "+08:00", **fields}


def story() -> dict[str, Any]:
    events = [
        _event("ObjectEvent", "2026-01-01T08:00:00+08:00", epcList=[BAG1, BAG2], action="ADD",
               bizStep="commissioning", disposition="active", readPoint=WAREHOUSE),
        _event("ObjectEvent", "2026-01-01T08:00:00+08:00", epcList=[CASE], action="ADD",
               bizStep="https://ref.gs1.org/cbv/BizStep-commissioning", readPoint=WAREHOUSE),
        _event("ObjectEvent", "2026-01-01T08:00:00+08:00", quantityList=[{"epcClass": PADDY}], action="ADD",
               bizStep="urn:epcglobal:cbv:bizstep:commissioning"),
        _event("ObjectEvent", "2026-01-02T09:00:00+08:00", epcList=[BAG1, BAG2], action="OBSERVE",
               bizStep="inspecting", disposition="conformant", readPoint=WAREHOUSE),
        _event("AggregationEvent", "2026-01-03T09:00:00+08:00", parentID=CASE, childEPCs=[BAG1, BAG2],
               action="ADD", bizStep="packing"),
        _event("ObjectEvent", "2026-01-04T09:00:00+08:00", epcList=[CASE], action="OBSERVE",
               bizStep="https://ref.gs1.org/cbv/BizStep-shipping", disposition="https://ref.gs1.org/cbv/Disp-in_transit",
               readPoint=WAREHOUSE),
        _event("TransformationEvent", "2026-01-05T09:00:00+08:00", inputQuantityList=[{"epcClass": PADDY}],
               outputQuantityList=[{"epcClass": RICE}], transformationID="urn:uuid:mill-run-1",
               bizStep="commissioning"),
    ]  # fmt: skip
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-01-06T00:00:00Z", "epcisBody": {"eventList": events}}  # fmt: skip


def senders(orgs: Orgs) -> Any:
    def choose(planned: Planned) -> Sender:
        return orgs.inspector if planned.biz_step is BizStep.INSPECTING else orgs.producer

    return choose


def ids(pp: ProductPassports) -> dict[str, int]:
    return {
        "bag1": pp.passport_id(ProductKey.item("9506000134352", "BAG1")),
        "case": pp.passport_id(ProductKey(19506000134359, Kind.CONTAINER, "CASE1", 1)),
        "paddy": pp.passport_id(ProductKey.lot("9506000134406", "P1")),
        "rice": pp.passport_id(ProductKey.lot("9506000134413", "M1")),
    }


def hashes(document: dict[str, Any]) -> list[str]:
    return [hash_uri(event_hash(e, document["@context"])) for e in document["epcisBody"]["eventList"]]


def test_vocabulary_forms() -> None:
    for text in ("shipping", "https://ref.gs1.org/cbv/BizStep-shipping", "urn:epcglobal:cbv:bizstep:shipping"):
        assert parse_biz_step(text) is BizStep.SHIPPING
    assert parse_biz_step("https://ref.gs1.org/cbv/BizStep-customs_releasing") is BizStep.CUSTOMS_RELEASING


def test_import_trace_and_reimport(pp: ProductPassports, orgs: Orgs) -> None:
    document = story()
    result = import_document(pp, document, sender=senders(orgs))
    assert [o.status for o in result.outcomes] == ["recorded"] * 7, result.to_json()
    assert all(o.tx_hashes for o in result.outcomes)
    known = ids(pp)
    record = pp.passport(known["bag1"])
    assert record is not None and record.container == known["case"]
    assert record.effective_state is State.IN_TRANSIT
    trace = pp.trace(known["bag1"])
    expected = hashes(document)
    on_chain = {"0x" + expected[i].split(";")[1][:64] for i in (3, 4, 5)}
    assert on_chain <= {e.details.get("event_id") for e in trace}
    assert pp.passport(known["paddy"]).state is State.CONSUMED  # type: ignore[union-attr]
    assert pp.passport(known["rice"]) is not None

    again = import_document(pp, document, sender=senders(orgs))
    assert [o.status for o in again.outcomes] == ["already_on_chain"] * 7
    assert again.nothing_new and not again.tx_hashes
    assert "nothing new" in again.summary()


def test_interrupted_import_resumes(pp: ProductPassports, orgs: Orgs, monkeypatch: pytest.MonkeyPatch) -> None:
    document = story()
    original = ProductPassports._send
    sent: list[str] = []

    def flaky(self: ProductPassports, function: str, sender: Sender, *args: Any) -> Any:
        if sent:
            raise KeyboardInterrupt("killed between transactions")
        sent.append(function)
        return original(self, function, sender, *args)

    monkeypatch.setattr(ProductPassports, "_send", flaky)
    with pytest.raises(KeyboardInterrupt):
        import_document(pp, document, sender=senders(orgs))
    monkeypatch.setattr(ProductPassports, "_send", original)
    result = import_document(pp, document, sender=senders(orgs))
    assert [o.status for o in result.outcomes] == ["already_on_chain"] + ["recorded"] * 6
    trace = pp.trace(ids(pp)["bag1"])
    recorded = [e.details["event_id"] for e in trace if e.event == "PassportEventRecorded" and e.passport != 0]
    assert len(recorded) == len(set(recorded)) == 2  # inspecting on the bag, shipping via the case


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"disposition": "in_progress"}, "disposition"),
        ({"bizStep": "http://example.org/bizstep/tasting"}, "bizStep"),
        ({"epcList": ["urn:epc:id:sscc:9506000.0000000001"]}, "epcList[0]"),
        ({"type": "AssociationEvent"}, "type"),
    ],
)
def test_invalid_event_refused(pp: ProductPassports, orgs: Orgs, change: dict[str, Any], field: str) -> None:
    document = story()
    document["epcisBody"]["eventList"][3].update(change)
    head = pp.chain.w3.eth.block_number
    result = import_document(pp, document, sender=senders(orgs))
    refused = [o for o in result.outcomes if o.status == "refused"]
    assert [(o.index, o.field) for o in refused] == [(3, field)]
    assert refused[0].reason
    assert "event 3" in refused[0].describe()
    assert result.recorded == 0 and pp.chain.w3.eth.block_number == head
    assert pp.passport(ids(pp)["bag1"]) is None

    partial = import_document(pp, document, sender=senders(orgs), partial=True)
    assert partial.recorded == 6 and partial.refused == 1


def test_export_validates(pp: ProductPassports, orgs: Orgs) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"GS1's EPCIS schema is not at {SCHEMA} (../shared/epcis is absent)")
    import jsonschema

    document = story()
    import_document(pp, document, sender=senders(orgs))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    known = ids(pp)
    for name in ("bag1", "rice", "case"):
        exported = export(pp, known[name])
        jsonschema.validate(exported, schema)
        assert exported["epcisBody"]["eventList"]
    exported = export(pp, known["bag1"])
    types = [e["type"] for e in exported["epcisBody"]["eventList"]]
    assert types.count("AggregationEvent") == 1 and "ObjectEvent" in types
    event_ids = {e.get("eventID") for e in exported["epcisBody"]["eventList"]}
    expected = hashes(document)
    assert {expected[0], expected[3], expected[4], expected[5]} <= event_ids
    rice = export(pp, known["rice"])
    assert any(
        e["type"] == "TransformationEvent" and e.get("eventID") == expected[6] for e in rice["epcisBody"]["eventList"]
    )
    # The export re-imports as nothing new: its commissioning events name passports on chain.
    again = import_document(pp, copy.deepcopy(exported), sender=senders(orgs), partial=True)
    assert again.refused == 0 or all(o.field for o in again.outcomes if o.status == "refused")


def test_object_events_go_in_one_transaction_and_a_refusal_names_its_event(pp: ProductPassports, orgs: Orgs) -> None:
    document = story()
    import_document(pp, {**document, "epcisBody": {"eventList": document["epcisBody"]["eventList"][:3]}},
                    sender=senders(orgs))  # fmt: skip
    observed = [
        _event("ObjectEvent", f"2026-02-0{day}T09:00:00+08:00", epcList=[BAG1], action="OBSERVE",
               bizStep="inspecting", disposition="conformant")
        for day in (1, 2, 3)
    ]  # fmt: skip
    batch = import_document(pp, {**document, "epcisBody": {"eventList": observed}}, sender=orgs.inspector)
    # The second of three refused by the chain (selling is the retailer's step, not the inspector's).
    refused_in_middle = [observed[0] | {"eventTime": "2026-03-01T09:00:00+08:00"},
                         _event("ObjectEvent", "2026-03-02T09:00:00+08:00", epcList=[BAG1], action="OBSERVE",
                                bizStep="retail_selling", disposition="retail_sold"),
                         observed[0] | {"eventTime": "2026-03-03T09:00:00+08:00"}]  # fmt: skip
    stopped = import_document(pp, {**document, "epcisBody": {"eventList": refused_in_middle}}, sender=orgs.inspector)

    assert [o.status for o in batch.outcomes] == ["recorded"] * 3
    assert len({h for o in batch.outcomes for h in o.tx_hashes}) == 1  # one transaction for the three
    assert [(o.status, o.field) for o in stopped.outcomes] == [("recorded", None), ("refused", "chain"),
                                                                ("not_sent", None)]  # fmt: skip
    assert "retail" in (stopped.outcomes[1].reason or "") or "role" in (stopped.outcomes[1].reason or "")
