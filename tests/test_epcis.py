"""EPCIS 2.0 import and export: hash ids on chain, idempotent re-imports, interrupted imports,
refusals naming the event and field, and exports that validate against GS1's schema.

Every test runs on the embedded EVM and on Anvil, with the organisations of ``passport_world``.
"""

from __future__ import annotations

import copy
import json
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from accounts import World
from passport_world import PRODUCER_PREFIXES, Orgs, enlist_producer, hand_over

from chainpass import epcis_import
from chainpass.chain import Chain, Sender
from chainpass.enums import BizStep, Kind, State
from chainpass.epcis_export import export
from chainpass.epcis_import import Planned, _Planner, _wave, import_document, recorded_with
from chainpass.errors import TransactionFailed
from chainpass.passport import ProductPassports
from chainpass.sender import BulkSender
from chainpass.standards.epcis import EventHasher, event_hash, hash_uri, parse_biz_step
from chainpass.standards.gs1 import ProductKey

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
    original = Chain.transact
    sent: list[Any] = []

    def flaky(self: Chain, call: Any, sender: Sender) -> Any:
        if sent:
            raise KeyboardInterrupt("killed between transactions")
        sent.append(call)
        return original(self, call, sender)

    monkeypatch.setattr(Chain, "transact", flaky)
    with pytest.raises(KeyboardInterrupt):
        import_document(pp, document, sender=senders(orgs))
    monkeypatch.setattr(Chain, "transact", original)
    result = import_document(pp, document, sender=senders(orgs))
    assert [o.status for o in result.outcomes] == ["already_on_chain"] + ["recorded"] * 6
    trace = pp.trace(ids(pp)["bag1"])
    recorded = [e.details["event_id"] for e in trace if e.event == "PassportEventRecorded" and e.passport != 0]
    assert len(recorded) == len(set(recorded)) == 2  # inspecting on the bag, shipping via the case


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"disposition": "http://example.org/disp/wet"}, "disposition"),
        ({"bizStep": "https://ref.gs1.org/cbv/BizStep-tasting"}, "bizStep"),
        ({"epcList": ["urn:epc:id:grai:9506000.00001.1"]}, "epcList[0]"),
        ({"epcList": ["urn:epc:id:gsrn:9506000.00000000001"]}, "epcList[0]"),
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


def inspections(codes: list[str], day: int) -> list[dict[str, Any]]:
    return [_event("ObjectEvent", f"2026-05-{day:02d}T{n // 60:02d}:{n % 60:02d}:00+08:00", epcList=[code],
                   action="OBSERVE", bizStep="inspecting", disposition="conformant")
            for n, code in enumerate(codes)]  # fmt: skip


#: Events per `recordEvents` batch in the wave tests (the import's is 50): 3 batches of 10.
SMALL_BATCH = 10


def bags(pp: ProductPassports, orgs: Orgs, name: str) -> tuple[list[ProductKey], list[str]]:
    """30 bags commissioned, and their codes."""
    keys = [ProductKey.item("9506000134352", f"{name}{n:03d}") for n in range(3 * SMALL_BATCH)]
    pp.commission(keys, sender=orgs.producer)
    return keys, [f"urn:epc:id:sgtin:9506000.013435.{name}{n:03d}" for n in range(3 * SMALL_BATCH)]


def test_runs_of_object_events_on_other_passports_go_out_together_and_a_refusal_still_stops_the_import(
    pp: ProductPassports, orgs: Orgs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 inspections of 30 bags, 10 to a batch: three `recordEvents` transactions sent as
    one wave (no other transaction). When the chain refuses the 18th event, the first 17 go
    in, and nothing after it: as one transaction at a time did (on Ganache, whose keys are
    not here, the same outcomes come from that path)."""
    monkeypatch.setattr(epcis_import, "RECORD_BATCH", SMALL_BATCH)
    _keys, codes = bags(pp, orgs, "WAVE")
    nonce = pp.chain.w3.eth.get_transaction_count(orgs.inspector)
    document = {**story(), "epcisBody": {"eventList": inspections(codes, 1)}}

    result = import_document(pp, document, sender=orgs.inspector)
    sent = pp.chain.w3.eth.get_transaction_count(orgs.inspector) - nonce
    again = import_document(pp, document, sender=orgs.inspector)
    events = inspections(codes, 2)
    events[17] = _event("ObjectEvent", "2026-05-02T12:00:00+08:00", epcList=[codes[17]], action="OBSERVE",
                        bizStep="retail_selling", disposition="retail_sold")  # the retailer's step  # fmt: skip
    before_refusal = pp.chain.w3.eth.get_transaction_count(orgs.inspector)
    stopped = import_document(pp, {**document, "epcisBody": {"eventList": events}}, sender=orgs.inspector)
    stopped_sent = pp.chain.w3.eth.get_transaction_count(orgs.inspector) - before_refusal
    partial = import_document(pp, {**document, "epcisBody": {"eventList": events}}, sender=orgs.inspector,
                              partial=True)  # fmt: skip

    assert result.recorded == 30 and len(set(result.tx_hashes)) == sent == 3
    assert again.nothing_new and before_refusal == nonce + 3  # the re-import sent nothing
    assert [o.status for o in stopped.outcomes] == ["recorded"] * 17 + ["refused"] + ["not_sent"] * 12
    assert stopped.outcomes[17].field == "chain"
    assert stopped_sent == 1 + 7  # the first 10 together; the next 7 one by one, to find the refused one
    assert [o.status for o in partial.outcomes] == ["already_on_chain"] * 17 + ["refused"] + ["recorded"] * 12


def test_a_wave_the_node_stops_taking_part_way_is_finished_one_batch_at_a_time_and_nothing_goes_in_twice(
    pp: ProductPassports, orgs: Orgs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The node takes the wave's first transaction, then refuses the rest (a full pool): the
    import waits for what it took, asks the chain again, and sends the other batches one
    at a time. Every event is on its passport once."""
    monkeypatch.setattr(epcis_import, "RECORD_BATCH", SMALL_BATCH)
    keys, codes = bags(pp, orgs, "FULL")
    document = {**story(), "epcisBody": {"eventList": inspections(codes, 3)}}
    original = BulkSender.send

    def full_pool(self: BulkSender, calls: Any, **options: Any) -> Any:
        original(self, calls[:1], **options)
        raise TransactionFailed("The node refused transaction 0x00: txpool is full")

    monkeypatch.setattr(BulkSender, "send", full_pool)
    nonce = pp.chain.w3.eth.get_transaction_count(orgs.inspector)
    result = import_document(pp, document, sender=orgs.inspector)
    once = recorded_with(pp, [bytes.fromhex(h.split(";")[1][:64]) for h in hashes(document)])

    assert [o.status for o in result.outcomes] == ["already_on_chain"] * 10 + ["recorded"] * 20
    assert len(once) == 30 and {passport for _, passport in once} == {pp.passport_id(k) for k in keys}
    assert pp.chain.w3.eth.get_transaction_count(orgs.inspector) == nonce + 3


def test_events_that_reach_other_passports_are_not_sent_beside_them(pp: ProductPassports, orgs: Orgs) -> None:
    """A wave is estimated before any of it is mined, so it takes only events whose effect
    stays on their own passports: not one on a container (its contents follow its state),
    not a recall (what was made from the goods follows it), not one naming a passport
    another batch of the wave names, nor another sender's."""

    def batch(*ids: int, independent: bool = True, sender: str = "a") -> list[Planned]:
        return [Planned(n, bytes(32), "ObjectEvent", "record", ids=(i,), independent=independent,
                        notes=(sender,)) for n, i in enumerate(ids)]  # fmt: skip

    def waves(*batches: list[Planned]) -> list[int]:
        queue = deque(batches)
        sizes = []
        while queue:
            sizes.append(len(_wave(queue.popleft(), queue, lambda p: p.notes[0])))
        return sizes

    assert waves(batch(1, 2), batch(3), batch(4, 5)) == [3]
    assert waves(batch(1, 2), batch(2, 3), batch(4)) == [1, 2]
    assert waves(batch(1), batch(2, independent=False), batch(3)) == [1, 1, 1]
    assert waves(batch(1), batch(2, sender="b"), batch(3, sender="b")) == [1, 2]
    adopting = batch(7)
    adopting[0].adopt = (ProductKey.item("9506000134352", "NEW"),)
    assert waves(batch(1), adopting) == [1, 1]

    import_document(pp, story(), sender=senders(orgs))  # BAG1 and BAG2 packed in CASE
    planner_doc = {**story(), "epcisBody": {"eventList": [
        _event("ObjectEvent", "2026-05-03T09:00:00+08:00", epcList=[BAG1], action="OBSERVE",
               bizStep="inspecting", disposition="conformant"),
        _event("ObjectEvent", "2026-05-03T09:00:00+08:00", epcList=[CASE], action="OBSERVE",
               bizStep="inspecting", disposition="conformant"),
        _event("ObjectEvent", "2026-05-03T09:00:00+08:00", epcList=[BAG2], action="OBSERVE",
               bizStep="recalling", disposition="recalled"),
    ]}}  # fmt: skip
    planner = _Planner(pp, EventHasher.of(CONTEXT))
    planner.read(planner_doc["epcisBody"]["eventList"])
    plans = [planner.plan(n, e) for n, e in enumerate(planner_doc["epcisBody"]["eventList"])]
    assert [(p.action, p.independent) for p in plans] == [("record", True), ("record", False), ("record", False)]


# ------------------------------------------------------------------------- adoption

SSCC = "urn:epc:id:sscc:9506000.1000000001"
BAG3 = "urn:epc:id:sgtin:9506000.013435.BAG3"
BAG4 = "urn:epc:id:sgtin:9506000.013435.BAG4"
PADDY2 = "urn:epc:class:lgtin:9506000.013440.P2"
RICE2 = "urn:epc:class:lgtin:9506000.013441.M2"
TASTING = "http://example.org/bizstep/tasting"


def strangers() -> dict[str, Any]:
    """A document naming only identifiers never commissioned here, as GS1's examples do."""
    events = [
        _event("ObjectEvent", "2026-04-01T08:00:00+08:00", epcList=[BAG1, BAG2], action="OBSERVE",
               bizStep="shipping", disposition="in_transit"),
        _event("ObjectEvent", "2026-04-02T08:00:00+08:00", epcList=[BAG2], action="OBSERVE",
               bizStep="receiving", disposition="in_progress"),
        _event("AggregationEvent", "2026-04-03T08:00:00+08:00", parentID=SSCC, childEPCs=[BAG3],
               childQuantityList=[{"epcClass": PADDY, "quantity": 5, "uom": "KGM"}], action="ADD",
               bizStep="packing"),
        _event("AggregationEvent", "2026-04-04T08:00:00+08:00", parentID=SSCC, childEPCs=[BAG3], action="OBSERVE",
               bizStep=TASTING, disposition="sellable_accessible",
               bizTransactionList=[{"bizTransaction": "urn:epcglobal:cbv:bt:9506000134352:77"}]),
        _event("ObjectEvent", "2026-04-05T08:00:00+08:00", quantityList=[{"epcClass": PADDY2}], action="OBSERVE",
               bizStep="storing", persistentDisposition={"set": ["damaged"], "unset": ["completeness_verified"]}),
        _event("TransformationEvent", "2026-04-06T08:00:00+08:00", inputEPCList=[BAG4],
               inputQuantityList=[{"epcClass": "urn:epc:idpat:sgtin:9506000.013435.*", "quantity": 3}],
               outputQuantityList=[{"epcClass": RICE2}], transformationID="urn:uuid:mill-run-2"),
    ]  # fmt: skip
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-04-07T00:00:00Z", "epcisBody": {"eventList": events}}  # fmt: skip


def key_id(pp: ProductPassports, code: str) -> int:
    from chainpass.standards.gs1 import parse_code

    return pp.passport_id(parse_code(code))


def test_identifiers_first_seen_are_refused_by_default(pp: ProductPassports, orgs: Orgs) -> None:
    head = pp.chain.w3.eth.block_number
    result = import_document(pp, strangers(), sender=orgs.producer)
    first = result.outcomes[0]
    assert (first.status, first.field) == ("refused", "epcList")
    assert "has no passport" in (first.reason or "") and "--adopt-unknown" in (first.reason or "")
    assert result.recorded == 0 and pp.chain.w3.eth.block_number == head
    assert not pp.exists(key_id(pp, BAG1))


def test_adoption_commissions_identifiers_first_seen_right_before_their_event(pp: ProductPassports, orgs: Orgs) -> None:
    document = strangers()
    result = import_document(pp, document, sender=orgs.producer, adopt_unknown=True)

    assert [o.status for o in result.outcomes] == ["recorded"] * 6, [o.describe() for o in result.outcomes]
    adopted = [o.adopted for o in result.outcomes]
    assert adopted == [
        ("(01)09506000134352(21)BAG1", "(01)09506000134352(21)BAG2"),
        (),
        (str(parse(SSCC)), "(01)09506000134352(21)BAG3", "(01)09506000134406(10)P1"),
        (),
        ("(01)09506000134406(10)P2",),
        ("(01)09506000134352(21)BAG4",),
    ]
    assert "adopted (commissioned first): (01)09506000134352(21)BAG1" in result.outcomes[0].describe()
    assert any("outside the CBV" in n for n in result.outcomes[3].notes)
    assert any("no lot" in n for n in result.outcomes[5].notes)
    assert any("set damaged: recorded" in n for n in result.outcomes[4].notes)
    assert any("unset completeness_verified" in n for n in result.outcomes[4].notes)

    bag1, bag2, bag3 = (key_id(pp, c) for c in (BAG1, BAG2, BAG3))
    container = key_id(pp, SSCC)
    states_now = {n: pp.passport(i) for n, i in (("bag1", bag1), ("bag2", bag2), ("bag3", bag3))}
    assert states_now["bag1"].state is State.IN_TRANSIT  # type: ignore[union-attr]
    assert states_now["bag2"].state is State.ACTIVE  # received, in progress  # type: ignore[union-attr]
    assert states_now["bag3"].container == container  # type: ignore[union-attr]
    record = pp.passport(container)
    assert record is not None and record.kind is Kind.CONTAINER and record.tier == 1
    assert pp.passport(key_id(pp, PADDY2)).state is State.QUARANTINED  # type: ignore[union-attr]
    assert pp.passport(key_id(pp, BAG4)).state is State.CONSUMED  # type: ignore[union-attr]
    # The extension step is recorded as other, with the hash id of the event as written (its URI included).
    (tasting,) = [e for e in pp.trace(container) if e.event == "PassportEventRecorded"]
    assert tasting.details["biz_step"] == "other"
    assert tasting.details["event_id"] == "0x" + event_hash(document["epcisBody"]["eventList"][3], CONTEXT).hex()
    other = {**document["epcisBody"]["eventList"][3], "bizStep": "http://example.org/bizstep/smelling"}
    assert event_hash(other, CONTEXT) != event_hash(document["epcisBody"]["eventList"][3], CONTEXT)
    exported = export(pp, bag3)
    steps = [e.get("bizStep") for e in exported["epcisBody"]["eventList"]]
    assert "other" in steps and "packing" in steps

    again = import_document(pp, document, sender=orgs.producer, adopt_unknown=True)
    assert [o.status for o in again.outcomes] == ["already_on_chain"] * 6
    assert not again.adopted and not again.tx_hashes


def parse(code: str) -> ProductKey:
    from chainpass.standards.gs1 import parse_code

    return parse_code(code)


def test_a_bizTransaction_without_type_hashes() -> None:
    event = _event("ObjectEvent", "2026-04-01T08:00:00+08:00", epcList=[BAG1], action="OBSERVE", bizStep="storing",
                   bizTransactionList=[{"bizTransaction": "urn:epcglobal:cbv:bt:9506000134352:77"}])  # fmt: skip
    typed = {**event, "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9506000134352:77"}]}
    assert event_hash(event, CONTEXT) == event_hash(copy.deepcopy(event), CONTEXT)
    assert event_hash(event, CONTEXT) != event_hash(typed, CONTEXT)
    assert event_hash(event, CONTEXT) != event_hash({**event, "bizTransactionList": []}, CONTEXT)


# ---------------------------------------------------------------- who records what


def test_an_import_records_what_the_importer_may_and_names_each_step_of_another_party(
    pp: ProductPassports, orgs: Orgs
) -> None:
    """One importing organisation sends every transaction (docs/epcis.md, "Who records what").
    A document with a shipping and a receiving by the goods' holder (the producer) and customs'
    release between them: imported in turn, each party's import stops at the other's step,
    and the chain sees the events in the document's order; with ``partial`` the importer
    records all it may. A carrier that does not hold the goods is refused, naming the holder."""
    document = story()
    import_document(pp, {**document, "epcisBody": {"eventList": document["epcisBody"]["eventList"][:1]}},
                    sender=orgs.producer)  # fmt: skip
    mixed = [
        _event("ObjectEvent", "2026-02-01T09:00:00+08:00", epcList=[BAG1], action="OBSERVE", bizStep="shipping"),
        _event("ObjectEvent", "2026-02-02T09:00:00+08:00", epcList=[BAG1], action="OBSERVE",
               bizStep="customs_releasing"),
        _event("ObjectEvent", "2026-02-03T09:00:00+08:00", epcList=[BAG1], action="OBSERVE", bizStep="receiving",
               disposition="active"),
    ]  # fmt: skip
    mixed_document = {**document, "epcisBody": {"eventList": mixed}}
    head = pp.chain.w3.eth.block_number

    by_holder = import_document(pp, mixed_document, sender=orgs.producer)
    by_customs = import_document(pp, mixed_document, sender=orgs.customs)
    holder_again = import_document(pp, mixed_document, sender=orgs.producer)
    again = import_document(pp, mixed_document, sender=orgs.customs, partial=True)

    assert [(o.status, o.field) for o in by_holder.outcomes] == [("recorded", None), ("refused", "chain"),
                                                                  ("not_sent", None)]  # fmt: skip
    assert "(customs)" in (by_holder.outcomes[1].reason or "")
    assert [o.status for o in by_customs.outcomes] == ["already_on_chain", "recorded", "refused"]
    assert "(producer, carrier or retailer)" in (by_customs.outcomes[2].reason or "")  # not customs' step
    assert [o.status for o in holder_again.outcomes] == ["already_on_chain"] * 2 + ["recorded"]
    assert [o.status for o in again.outcomes] == ["already_on_chain"] * 3 and again.nothing_new
    assert pp.chain.w3.eth.block_number == head + 3  # one transaction per event, none refused on chain
    bag1, bag2 = key_id(pp, BAG1), key_id(pp, BAG2)
    journey = [(e.details["biz_step"], e.actor) for e in pp.trace(bag1) if e.event == "PassportEventRecorded"]
    assert journey == [("shipping", orgs.producer), ("customs_releasing", orgs.customs),
                       ("receiving", orgs.producer)]  # fmt: skip

    # With partial, the importer records every event it may and names the others.
    on_both = [e | {"epcList": [BAG2], "eventTime": e["eventTime"].replace("02-0", "03-0")} for e in mixed]
    partial = import_document(pp, {**document, "epcisBody": {"eventList": on_both}}, sender=orgs.producer,
                              partial=True)  # fmt: skip
    assert [o.status for o in partial.outcomes] == ["recorded", "refused", "recorded"]
    assert pp.passport(bag2).state is State.ACTIVE  # type: ignore[union-attr]

    # A carrier that does not hold the goods.
    elsewhere = {**document, "epcisBody": {"eventList": [mixed[0] | {"eventTime": "2026-04-01T09:00:00+08:00"}]}}
    (refused,) = import_document(pp, elsewhere, sender=orgs.carrier).outcomes
    assert (refused.status, refused.field) == ("refused", "chain")
    assert f"Only {orgs.producer}, who holds the goods" in (refused.reason or "")
    assert f"not {orgs.carrier}" in (refused.reason or "")
    hand_over(pp, bag1, orgs.producer, orgs.carrier)
    assert [o.status for o in import_document(pp, elsewhere, sender=orgs.carrier).outcomes] == ["recorded"]


def test_adoption_takes_a_licence_from_the_brand(pp: ProductPassports, orgs: Orgs, world: World) -> None:
    """A second producer imports a document naming the brand's codes with adoption: refused
    per event (the chain's sentence names the brand) until the brand licenses it; then every
    event goes in and the passports name the brand."""
    importer = enlist_producer(world, pp, orgs.stranger)
    document = strangers()
    head = pp.chain.w3.eth.block_number

    unlicensed = import_document(pp, document, sender=importer, adopt_unknown=True)
    refused_at = pp.chain.w3.eth.block_number
    pp.set_licence(PRODUCER_PREFIXES[0], importer, sender=orgs.producer)
    licensed = import_document(pp, document, sender=importer, adopt_unknown=True)

    first = unlicensed.outcomes[0]
    assert (first.status, first.field) == ("refused", "chain") and not first.adopted
    assert f"{importer} holds no licence from {orgs.producer}" in (first.reason or "")
    assert [o.status for o in unlicensed.outcomes[1:]] == ["not_sent"] * 5
    assert refused_at == head
    assert [o.status for o in licensed.outcomes] == ["recorded"] * 6, [o.describe() for o in licensed.outcomes]
    bag1 = ProductKey.item("9506000134352", "BAG1")
    assert pp.producer_of(pp.passport_id(bag1)) == importer
    brand = pp.brand_of(bag1)
    assert brand is not None and (brand.prefix, brand.licensee) == (PRODUCER_PREFIXES[0], orgs.producer)
