"""Any valid EPCIS 2.0 document goes in (issue 18): what the lifecycle models is recorded, the
rest anchored as evidence in one transaction, with a proof bundle per anchored event.

The documents are in tests/epcis_documents, each written for one way partners use EPCIS that
the lifecycle alone did not take: class-level quantities beside instance-level ones, an
inspection and a sensor report without a disposition, observations of packed goods (and a
consignment step on them, still refused), a context the JSON-LD library cannot expand, and
events the lifecycle does not model at all.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from accounts import World
from cli_world import Operator
from passport_world import Orgs

from chainpass.anchor import EventAnchors, check_bundle
from chainpass.enums import BizStep, Disposition
from chainpass.epcis_import import ImportResult, import_document, recorded_with
from chainpass.passport import ProductPassports
from chainpass.standards.epcis import EventHasher, canonical_context, event_hash, events_of, hash_uri
from chainpass.standards.gs1 import parse_code

DOCUMENTS = Path(__file__).resolve().parent / "epcis_documents"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DOCUMENTS / name).read_text(encoding="utf-8"))
    return document


def raw(name: str) -> bytes:
    return (DOCUMENTS / name).read_bytes()


@pytest.fixture
def anchors(world: World, orgs: Orgs) -> EventAnchors:
    return EventAnchors.from_deployment(world.chain, world.deployment)


def statuses(result: ImportResult) -> list[tuple[str, str | None]]:
    return [(o.status, o.action) for o in result.outcomes]


def report(result: ImportResult) -> list[str]:
    return [o.describe() for o in result.outcomes]


def assert_anchored_events_prove(result: ImportResult, anchors: EventAnchors, document: dict[str, Any]) -> None:
    """Every anchored event has a proof bundle that checks offline and on chain, and holds the
    event as the document has it."""
    assert result.anchor is not None
    anchored = [o for o in result.outcomes if o.action == "anchor"]
    assert len(result.anchor.bundles) == len(anchored)
    for outcome, bundle in zip(anchored, result.anchor.bundles, strict=True):
        assert bundle.event == events_of(document)[outcome.index]
        assert hash_uri(bundle.digest) == outcome.event_id
        check_bundle(bundle)
        assert anchors.check_on_chain(bundle).events == len(anchored)


def test_class_level_quantities_beside_instances_are_noted_and_events_naming_no_passport_anchored(
    pp: ProductPassports, orgs: Orgs, anchors: EventAnchors
) -> None:
    document = load("class-level-quantities.jsonld")
    result = import_document(
        pp, document, sender=orgs.producer, anchors=anchors, raw=raw("class-level-quantities.jsonld")
    )

    assert statuses(result) == [("recorded", "commission"), ("recorded", "commission"), ("recorded", "record"),
                                ("anchored", "anchor"), ("recorded", "commission")], report(result)  # fmt: skip
    mixed = result.outcomes[2]
    bag, lot = (
        pp.passport_id(parse_code("urn:epc:id:sgtin:9506000.013435.Q1")),
        pp.passport_id(parse_code("urn:epc:class:lgtin:9506000.013440.Q1")),
    )
    digest = event_hash(events_of(document)[2], document["@context"])
    assert recorded_with(pp, [digest]) == {(digest, bag), (digest, lot)}
    assert any("quantityList[1].epcClass urn:epc:idpat:sgtin:9506000.013435.*" in n for n in mixed.notes)
    only_classes = result.outcomes[3]
    assert "names no passport" in (only_classes.reason or "") and len(only_classes.notes) == 2
    assert "quantity of a class with no lot" in result.outcomes[4].notes[0]
    assert "the outputs are commissioned" in result.outcomes[4].notes[1]
    assert pp.passport(pp.passport_id(parse_code("urn:epc:class:lgtin:9506000.013441.Q2"))) is not None
    assert_anchored_events_prove(result, anchors, document)
    assert "anchored as evidence" in only_classes.describe() and "names no passport" in only_classes.describe()

    again = import_document(
        pp, document, sender=orgs.producer, anchors=anchors, raw=raw("class-level-quantities.jsonld")
    )
    assert [o.status for o in again.outcomes] == ["already_on_chain"] * 5 and not again.tx_hashes
    assert again.nothing_new and again.anchor is not None and again.anchor.root == result.anchor.root  # type: ignore[union-attr]
    assert_anchored_events_prove(again, anchors, document)


def test_an_inspection_and_a_sensor_report_without_a_disposition_are_observations(
    pp: ProductPassports, orgs: Orgs, anchors: EventAnchors
) -> None:
    document = load("inspection-and-sensor-report.jsonld")
    result = import_document(pp, document, sender=orgs.producer, anchors=anchors)

    assert statuses(result) == [("recorded", "commission")] + [("recorded", "record")] * 3, [
        o.describe() for o in result.outcomes
    ]
    assert result.anchor is None
    recorded = {
        int.from_bytes(bytes(log["topics"][3]), "big"): log for log in pp.logs([pp.topic("PassportEventRecorded")])
    }
    events = events_of(document)
    details = {}
    for index in (1, 2, 3):
        digest = event_hash(events[index], document["@context"])
        entry = next(e for e in pp.trace(pp.passport_id(parse_code(events[index]["epcList"][0])))
                     if e.details.get("event_id") == "0x" + digest.hex())  # fmt: skip
        details[index] = (entry.details["biz_step"], entry.details["disposition"])
    assert recorded
    assert details[1] == (BizStep.INSPECTING.label, Disposition.IN_PROGRESS.label), details
    assert details[2] == (BizStep.SENSOR_REPORTING.label, Disposition.NONE.label), details
    assert details[3] == (BizStep.SENSOR_REPORTING.label, Disposition.NONE.label), details
    assert "recorded as under way (in_progress)" in result.outcomes[1].notes[0]
    assert "no bizStep: a sensor report" in result.outcomes[3].notes[0]


def test_observations_of_packed_goods_are_recorded_and_a_consignment_step_on_them_refused(
    pp: ProductPassports, orgs: Orgs, anchors: EventAnchors
) -> None:
    document = load("packed-goods.jsonld")
    result = import_document(pp, document, sender=orgs.producer, anchors=anchors)

    assert statuses(result)[:5] == [("recorded", "commission"), ("recorded", "pack"), ("recorded", "record"),
                                    ("recorded", "observe"), ("recorded", "record")], report(result)  # fmt: skip
    shipping = result.outcomes[5]
    assert (shipping.status, shipping.field) == ("refused", "chain"), shipping.describe()
    assert "container" in (shipping.reason or "")
    assert result.anchor is None and result.refused == 1


def test_a_context_the_jsonld_library_cannot_expand_still_hashes(
    pp: ProductPassports, orgs: Orgs, anchors: EventAnchors
) -> None:
    document = load("partner-context.jsonld")
    hasher = EventHasher.of(document["@context"])
    canonical = EventHasher.of(list(canonical_context(document["@context"])))
    assert hasher.fallback is not None and "loading remote context failed" in hasher.fallback
    assert canonical.fallback is None and canonical_context(document["@context"])[1] == {
        "coop": "https://ns.rice-coop.example/epcis/"
    }
    ids = [hasher.digest(e)[0] for e in events_of(document)]
    assert ids == [canonical.digest(e)[0] for e in events_of(document)]
    # The extension fields are hashed under their namespace: changing one changes the id.
    changed = {**events_of(document)[1], "coop:moisture": {"coop:percent": "19.0", "coop:method": "oven"}}
    assert hasher.digest(changed)[0] != ids[1]

    result = import_document(pp, document, sender=orgs.producer, anchors=anchors)
    assert statuses(result) == [("recorded", "commission"), ("recorded", "record")], [
        o.describe() for o in result.outcomes
    ]
    assert [o.event_id for o in result.outcomes] == [hash_uri(i) for i in ids]
    assert all("cannot be expanded" in o.notes[0] for o in result.outcomes)


def test_an_inline_context_that_redefines_a_protected_term_hashes_by_its_canonical_form() -> None:
    document = load("partner-context.jsonld")
    inline = [document["@context"][0], {"coop": "https://ns.rice-coop.example/epcis/", "type": "coop:kind"}]
    hasher = EventHasher.of(inline)
    assert hasher.fallback is not None and "protected term redefinition" in hasher.fallback
    assert [hasher.digest(e)[0] for e in events_of(document)] == [
        EventHasher.of(document["@context"]).digest(e)[0] for e in events_of(document)
    ]


def test_events_the_lifecycle_does_not_model_are_anchored_in_one_transaction(
    pp: ProductPassports, orgs: Orgs, anchors: EventAnchors
) -> None:
    document = load("not-modelled.jsonld")
    head = pp.chain.w3.eth.block_number
    refused = import_document(pp, document, sender=orgs.producer)
    assert [o.status for o in refused.outcomes] == ["not_sent", "refused", "refused", "refused", "refused", "not_sent"]
    assert all("only be anchored" in (o.reason or "") for o in refused.outcomes if o.status == "refused")
    assert pp.chain.w3.eth.block_number == head

    result = import_document(pp, document, sender=orgs.producer, anchors=anchors, raw=raw("not-modelled.jsonld"))
    assert statuses(result) == [("recorded", "commission")] + [("anchored", "anchor")] * 4 + [("recorded", "record")], (
        result.to_json()
    )
    reasons = [o.reason or "" for o in result.outcomes[1:5]]
    assert "passports have no AssociationEvent" in reasons[0]
    assert "urn:epc:id:grai:" in reasons[1] and "not an identifier passports take" in reasons[1]
    assert reasons[2].startswith("disposition:") and "not a CBV disposition" in reasons[2]
    assert "'none' is not recorded" in reasons[3]
    assert len({o.anchored_in for o in result.outcomes[1:5]}) == 1
    assert result.summary().startswith("6 event(s): 2 recorded, 4 anchored")
    assert_anchored_events_prove(result, anchors, document)


def test_anchor_only_anchors_every_event_and_records_none(
    pp: ProductPassports, orgs: Orgs, anchors: EventAnchors
) -> None:
    document = load("class-level-quantities.jsonld")
    result = import_document(pp, document, sender=orgs.producer, anchors=anchors, anchor_only=True)
    assert statuses(result) == [("anchored", "anchor")] * 5
    assert pp.passport(pp.passport_id(parse_code("urn:epc:id:sgtin:9506000.013435.Q1"))) is None
    assert_anchored_events_prove(result, anchors, document)


def test_cli_import_records_anchors_and_writes_proofs(supply_chain: Operator, tmp_path: Path) -> None:
    op = supply_chain
    file = tmp_path / "not-modelled.jsonld"
    shutil.copy(DOCUMENTS / "not-modelled.jsonld", file)
    (tmp_path / "class.jsonld").write_bytes(raw("class-level-quantities.jsonld"))
    (tmp_path / "taken.jsonld").write_bytes(raw("class-level-quantities.jsonld"))
    (tmp_path / "taken.jsonld.proofs").write_text("a file, where the proofs would go")

    first = op.ok("epcis", "import", str(file), "--account", "2", "--json").json()
    bundles = sorted((tmp_path / "not-modelled.jsonld.proofs").iterdir())
    proved = op.ok("epcis", "prove", str(bundles[0]), "--on-chain", "--json").json()
    again = op.ok("epcis", "import", str(file), "--account", "2")
    only = op.ok("epcis", "import", str(tmp_path / "class.jsonld"), "--anchor-only", "--proofs",
                 str(tmp_path / "only"), "--account", "2", "--json").json()  # fmt: skip
    taken = op.run("epcis", "import", str(tmp_path / "taken.jsonld"), "--account", "2")

    assert (first["recorded"], first["anchored"], first["refused"]) == (2, 4, 0), first
    assert [Path(p).name for p in first["proofs"]] == [b.name for b in bundles] and len(bundles) == 4
    assert proved["anchor"]["events"] == 4 and proved["anchor"]["organisation"] == op.accounts[2]
    assert "nothing new" in again.out and "anchored as evidence" in again.out
    assert (only["recorded"], only["anchored"]) == (0, 5) and len(list((tmp_path / "only").iterdir())) == 5
    assert taken.code == 1 and "is a file" in taken.err and len(taken.err.strip().splitlines()) == 1
    assert "recorded" not in taken.out  # refused before anything was sent
