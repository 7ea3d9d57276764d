"""Anchored events beside lifecycle events (chainpass.evidence): the index learns them from
proof bundles or the anchored document, proven against the anchors' logs it syncs; traces,
the EPCIS export and the passport page show them, marked as evidence; they change no state.

The index tests run on both stores (SQLite, and PostgreSQL on Anvil); the CLI's and the web
page's on the test's chain with a SQLite index."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from passport_world import CASE_GTIN, GTIN, Orgs, commission_one, recall
from web_world import serving

from chainpass.anchor import BUNDLE_TYPE, AnchoredDocument, EventAnchors
from chainpass.chain import Chain
from chainpass.cli import main
from chainpass.deployment import DeploymentStore
from chainpass.epcis_export import export
from chainpass.errors import IndexMismatch, InvalidInput
from chainpass.evidence import AnchoredEvent, add_anchored, anchored_on, codes_of, evidence_of, indexed_anchor
from chainpass.index import FORMAT, TraceIndex
from chainpass.passport import ProductPassports
from chainpass.standards.epcis import EPCIS_CONTEXT, event_hash, parse_hash_uri
from chainpass.standards.gs1 import ProductKey
from chainpass.web import drawing
from chainpass.web.wording import evidence_words

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "epcis" / "EPCIS-JSON-Schema.json"
#: A read point of the anchored events: it may be in the index, never on chain.
READ_POINT = "urn:epc:id:sgln:9506000.55555.0"
BAG = ProductKey.item(GTIN, "EV-BAG")
CASE = ProductKey.container(CASE_GTIN, "EV-CASE", 1)
OTHER = ProductKey.item(GTIN, "EV-OTHER")


def observation(code: str, minute: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": f"2026-03-01T08:{minute:02d}:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [code],
        "action": "OBSERVE",
        "readPoint": {"id": READ_POINT},
        **fields,
    }


def document(*events: dict[str, Any]) -> dict[str, Any]:
    return {"@context": [EPCIS_CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-03-01T09:00:00Z", "epcisBody": {"eventList": list(events)}}  # fmt: skip


def the_days_document() -> dict[str, Any]:
    """An inspection of the bag, a reading of its case (no business step), an observation of
    another item, and a class-level count that names no passport."""
    counted = {k: v for k, v in observation(BAG.epc_urn(), 4).items() if k != "epcList"}
    counted["quantityList"] = [{"epcClass": "urn:epc:idpat:sgtin:9506000.134352.*", "quantity": 12}]
    return document(
        observation(BAG.epc_urn(), 1, bizStep="https://ref.gs1.org/cbv/BizStep-inspecting"),
        observation(CASE.epc_urn(), 2),
        observation(OTHER.epc_urn(), 3, bizStep="inspecting"),
        counted,
    )


def raw(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1).encode()


def bundle_files(anchored: AnchoredDocument) -> list[tuple[str, bytes]]:
    return [(f"event-{n}.json", json.dumps(b.to_json()).encode()) for n, b in enumerate(anchored.bundles)]


@pytest.fixture
def anchors(world: Any, orgs: Orgs) -> EventAnchors:
    return EventAnchors.from_deployment(world.chain, world.deployment)


@pytest.fixture
def index(pp: ProductPassports, anchors: EventAnchors, index_location: str) -> Iterator[TraceIndex]:
    with TraceIndex.for_client(pp, index_location, anchors=anchors) as trace_index:
        yield trace_index


@pytest.fixture
def day(anchors: EventAnchors, orgs: Orgs, packed: tuple[int, int]) -> AnchoredDocument:
    """The day's document (:func:`the_days_document`), anchored by the carrier while the bag is in its case."""
    doc = the_days_document()
    return anchors.anchor_document(doc, raw(doc), sender=orgs.carrier)


@pytest.fixture
def packed(pp: ProductPassports, orgs: Orgs) -> tuple[int, int]:
    """The bag, packed in the case (both the producer's)."""
    bag = commission_one(pp, orgs, BAG)
    case = commission_one(pp, orgs, CASE)
    pp.pack(case, [bag], sender=orgs.producer)
    return bag, case


# --------------------------------------------------------------------------- the index


def test_anchored_events_show_on_the_passports_they_name_as_evidence(
    pp: ProductPassports,
    orgs: Orgs,
    anchors: EventAnchors,
    index: TraceIndex,
    day: AnchoredDocument,
    packed: tuple[int, int],
) -> None:
    bag, case = packed
    inside = day
    pp.unpack([bag], sender=orgs.producer)
    later = document(observation(CASE.epc_urn(), 30, bizStep="storing"))  # the case, once the bag is out
    after = anchors.anchor_document(later, raw(later), sender=orgs.inspector)
    before = pp.trace(bag)
    index.sync()

    report = add_anchored(index, bundle_files(inside) + bundle_files(after))
    again = add_anchored(index, bundle_files(inside))
    shown = evidence_of(index, pp.trace(bag), bag)
    of_case = evidence_of(index, pp.trace(case), case)

    assert (report.added, report.known, report.on_passports) == (5, 0, 4)  # the class-level count names none
    assert set(report.roots) == {inside.root, after.root}
    assert (again.added, again.known) == (0, 4)
    assert pp.trace(bag) == before  # evidence changes no passport: its journey is the same
    assert [(e.passport, e.biz_step, e.via_container, e.event_time) for e in shown] == [
        (bag, "inspecting", None, "2026-03-01T08:01:00Z"),
        (case, None, case, "2026-03-01T08:02:00Z"),  # on its case while it was inside; not the later one
    ]
    assert all(isinstance(e, AnchoredEvent) and e.evidence for e in shown)
    assert {e.tx_hash for e in shown} == {inside.transaction}
    assert shown[0].organisation == orgs.carrier and shown[0].code == BAG.epc_urn()
    assert parse_hash_uri(shown[0].event_hash) == event_hash(the_days_document()["epcisBody"]["eventList"][0])
    assert shown[0].event_id == shown[0].event_hash  # it had no eventID of its own
    assert [e.biz_step for e in of_case] == [None, "storing"]  # the case's own, before and after
    assert of_case[1].organisation == orgs.inspector and of_case[1].via_container is None
    other = ProductPassports.passport_id(OTHER)
    assert [e.biz_step for e in anchored_on(index, {other})] == ["inspecting"]  # no passport, still kept


def test_an_anchored_recall_is_evidence_of_a_declaration_not_a_recall(
    pp: ProductPassports, orgs: Orgs, anchors: EventAnchors, index: TraceIndex, packed: tuple[int, int]
) -> None:
    bag, _case = packed
    doc = document(observation(BAG.epc_urn(), 5, bizStep="recalling", disposition="recalled"))
    anchored = anchors.anchor_document(doc, raw(doc), sender=orgs.producer)
    index.sync()
    add_anchored(index, bundle_files(anchored))

    (shown,) = evidence_of(index, pp.trace(bag), bag)
    verdict = pp.verify(BAG)
    (mark,) = drawing.timeline([shown], [evidence_words(shown, 0, {})])

    assert (shown.biz_step, shown.disposition, shown.organisation) == ("recalling", "recalled", orgs.producer)
    assert not verdict.recalled and verdict.genuine  # the lifecycle alone decides
    assert mark.shape == "evidence" and mark.step.evidence  # not the "!" of a recall


def test_the_codes_of_an_event_are_its_epcs_parent_inputs_outputs_and_classes() -> None:
    event = {
        "epcList": ["a", "b"],
        "childEPCs": ["c"],
        "parentID": "p",
        "inputEPCList": ["i"],
        "outputEPCList": ["o", "a"],
        "quantityList": [{"epcClass": "q"}],
        "inputQuantityList": [{"epcClass": "iq"}, "not an element"],
        "readPoint": {"id": "r"},
    }
    assert codes_of(event) == ["a", "b", "c", "i", "o", "p", "q", "iq"]


def test_an_anchored_document_itself_teaches_the_index_its_events(
    pp: ProductPassports, index: TraceIndex, day: AnchoredDocument, packed: tuple[int, int]
) -> None:
    bag, _case = packed
    anchored = day
    index.sync()

    from_document = add_anchored(index, [("day.jsonld", raw(the_days_document()))])
    from_bundles = add_anchored(index, bundle_files(anchored))
    shown = evidence_of(index, pp.trace(bag), bag)

    assert (from_document.added, from_document.roots) == (4, (anchored.root,))
    assert (from_bundles.added, from_bundles.known) == (0, 4)
    assert [e.bundle for e in shown] == [
        b.to_json() for b in anchored.bundles if b.event.get("epcList") in ([BAG.epc_urn()], [CASE.epc_urn()])
    ]


def test_what_is_not_proven_is_refused_whole_and_nothing_is_added(
    pp: ProductPassports, orgs: Orgs, index: TraceIndex, day: AnchoredDocument, packed: tuple[int, int]
) -> None:
    bag, _case = packed
    anchored = day
    good = bundle_files(anchored)
    changed = copy.deepcopy(anchored.bundles[0].to_json())
    changed["event"]["readPoint"] = {"id": "urn:epc:id:sgln:9506000.66666.0"}
    someone_else = {**anchored.bundles[0].to_json(), "anchor": {**anchored.bundles[0].to_json()["anchor"]}}
    someone_else["anchor"]["organisation"] = orgs.inspector
    elsewhere = {**anchored.bundles[0].to_json(), "anchor": {**anchored.bundles[0].to_json()["anchor"]}}
    elsewhere["anchor"]["chainId"] = 99
    unanchored = document(observation(BAG.epc_urn(), 50))

    def refusal(files: list[tuple[str, bytes]]) -> str:
        with pytest.raises(InvalidInput) as caught:
            add_anchored(index, files)
        return str(caught.value)

    not_synced = refusal(good[:1])
    index.sync()
    refusals = {
        "changed": refusal([*good, ("changed.json", json.dumps(changed).encode())]),
        "organisation": refusal([("other.json", json.dumps(someone_else).encode())]),
        "chain": refusal([("chain.json", json.dumps(elsewhere).encode())]),
        "document": refusal([("never.jsonld", raw(unanchored))]),
        "text": refusal([("notes.txt", b"not json")]),
        "other json": refusal([("list.json", b"[1, 2]")]),
    }

    assert not_synced.startswith("event-0.json: its root 0x") and "run `chainpass index sync`" in not_synced
    assert (
        refusals["changed"] == "changed.json: The bundle's event does not hash to its eventHash: the event was changed."
    )
    assert refusals["organisation"] == (
        f"other.json: its root was anchored by {orgs.carrier}, not by {orgs.inspector} as the bundle says."
    )
    assert refusals["chain"].startswith("chain.json: it is anchored on chain 99 at ")
    assert refusals["document"].startswith("never.jsonld: its root 0x") and "is not anchored" in refusals["document"]
    assert refusals["text"].startswith("notes.txt: not JSON")
    assert refusals["other json"] == (
        f"list.json: neither an anchored event's proof bundle ({BUNDLE_TYPE}) nor an EPCIS document."
    )
    assert all(len(text.splitlines()) == 1 for text in refusals.values())
    assert evidence_of(index, pp.trace(bag), bag) == []  # the good files before the bad one: not added


def test_an_anchor_a_fork_took_away_takes_its_events_off_until_it_is_mined_again(
    chain: Chain, pp: ProductPassports, orgs: Orgs, anchors: EventAnchors, index: TraceIndex, packed: tuple[int, int]
) -> None:
    bag, _case = packed
    doc = the_days_document()
    snapshot = chain.snapshot()
    first = anchors.anchor_document(doc, raw(doc), sender=orgs.carrier)
    index.sync()
    add_anchored(index, bundle_files(first))
    shown = evidence_of(index, pp.trace(bag), bag)

    chain.revert(snapshot)
    reorg = index.sync()
    forgotten = indexed_anchor(index, first.root)
    gone = evidence_of(index, pp.trace(bag), bag)
    commission_one(pp, orgs, ProductKey.item(GTIN, "EV-FILL"))  # the new branch is longer
    again = anchors.anchor_document(doc, raw(doc), sender=orgs.carrier)
    index.sync()
    back = evidence_of(index, pp.trace(bag), bag)

    assert len(shown) == 2 and {e.tx_hash for e in shown} == {first.transaction}
    assert reorg.reorg is not None and forgotten is None
    assert gone == []
    assert len(back) == 2 and {e.tx_hash for e in back} == {again.transaction}  # the live log's, not the bundle's
    assert back[0].bundle["anchor"]["transaction"] == again.transaction


def test_an_index_of_layout_1_is_migrated_and_indexes_the_anchors_logs_from_their_block(
    pp: ProductPassports,
    orgs: Orgs,
    anchors: EventAnchors,
    index_location: str,
    day: AnchoredDocument,
    packed: tuple[int, int],
) -> None:
    bag, _case = packed
    anchored = day
    recall(pp, orgs, bag)
    with TraceIndex.for_client(pp, index_location) as old:  # no anchors: as a release before them
        old.sync()
        passports_logs = old.logs()
        old.store.execute("DELETE FROM meta WHERE key IN ('anchors', 'anchors_block')")
        old.store.execute("UPDATE meta SET value = '1' WHERE key = 'format'")
        head = old.checkpoint

    with TraceIndex.for_client(pp, index_location, anchors=anchors) as migrated:
        meta: dict[str, str] = dict(migrated.store.query("SELECT key, value FROM meta"))
        checkpoint = migrated.checkpoint
        migrated.sync()
        report = add_anchored(migrated, bundle_files(anchored))
        after = migrated.logs()
        anchor_logs = migrated.logs(address=anchors.address)
        shown = evidence_of(migrated, pp.trace(bag), bag)
    with pytest.raises(IndexMismatch) as other:
        TraceIndex(index_location, pp.chain, pp.address, deployment_block=pp.first_block, anchors=(orgs.carrier, 1))

    assert (meta["format"], meta["anchors"], int(meta["anchors_block"])) == (
        str(FORMAT), anchors.address, anchors.first_block
    )  # fmt: skip
    assert checkpoint == anchors.first_block - 1 < head
    assert after == passports_logs  # indexed again from the anchors' block, each log once
    assert len(anchor_logs) == 1 and anchor_logs[0].transaction_hash == anchored.transaction
    assert report.added == 4 and len(shown) == 2
    assert f"follows the anchors at {anchors.address}" in str(other.value)


# ------------------------------------------------------------------ export, CLI, page


def test_the_export_carries_anchored_events_as_declared_with_their_proofs(
    pp: ProductPassports, orgs: Orgs, anchors: EventAnchors, index: TraceIndex, packed: tuple[int, int]
) -> None:
    import jsonschema

    bag, _case = packed
    doc = document(
        observation(BAG.epc_urn(), 1, bizStep="inspecting", **{"example:grade": "A"}),
    )
    doc["@context"] = [EPCIS_CONTEXT, {"example": "https://ns.example.com/epcis/"}]
    anchored = anchors.anchor_document(doc, raw(doc), sender=orgs.carrier)
    index.sync()
    add_anchored(index, bundle_files(anchored))

    exported = export(pp, bag, evidence=index)
    plain = export(pp, bag)
    events = exported["epcisBody"]["eventList"]
    (proof,) = exported["chainpass:evidence"]
    declared = next(e for e in events if e.get("eventID") == proof["eventID"])

    jsonschema.validate(exported, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert len(events) == len(plain["epcisBody"]["eventList"]) + 1 and "chainpass:evidence" not in plain
    assert events[-1] is declared  # anchored last, after the packing
    assert {k: v for k, v in declared.items() if k != "eventID"} == doc["epcisBody"]["eventList"][0]
    assert parse_hash_uri(declared["eventID"]) == event_hash(declared, exported["@context"])
    assert proof["eventHash"] == declared["eventID"] and proof["root"] == "0x" + anchored.root.hex()
    assert proof["anchor"]["transaction"] == anchored.transaction
    assert exported["@context"][-1] == {"example": "https://ns.example.com/epcis/", "chainpass": "urn:chainpass:epcis:"}


def _cli_home(world: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    DeploymentStore(home / "deployments").write(world.deployment)
    return home


def test_cli_adds_anchored_events_and_traces_and_exports_them_as_evidence(
    world: Any, orgs: Orgs, day: AnchoredDocument, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = _cli_home(world, tmp_path)
    anchored = day
    proofs = tmp_path / "proofs"
    proofs.mkdir()
    for name, data in bundle_files(anchored):
        (proofs / name).write_bytes(data)

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(["--rpc", str(world.chain.endpoint), "--home", str(home), *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    empty = run("index", "add-anchored", str(tmp_path / "home"))
    unsynced = run("index", "add-anchored", str(proofs))
    run("index", "sync")
    added = run("index", "add-anchored", str(proofs), "--json")
    status = run("index", "status", "--json")
    human = run("passport", "trace", BAG.epc_urn(), "--index")
    traced = run("passport", "trace", BAG.epc_urn(), "--index", "--json")
    from_node = run("passport", "trace", BAG.epc_urn(), "--json")
    exported = run("epcis", "export", BAG.epc_urn(), "--index", "--schema", str(SCHEMA))

    assert empty[0] == 1 and "There is no .json file in" in empty[2]
    assert unsynced[0] == 1 and "run `chainpass index sync` if it was anchored since." in unsynced[2]
    assert json.loads(status[1])["anchored_events"] == 4 and json.loads(status[1])["anchors"] == day.bundles[0].contract
    assert added[0] == 0 and json.loads(added[1])["added"] == 4
    lines = human[1].splitlines()
    assert f"evidence: ObjectEvent OBSERVE inspecting at 2026-03-01T08:01:00Z, declared by {orgs.carrier}" in lines[-2]
    assert lines[-2].endswith(f"anchored in {anchored.transaction}, changes no state")
    assert "(on container" in lines[-1]
    entries = json.loads(traced[1])
    assert [e.get("evidence", False) for e in entries][-2:] == [True, True]
    assert entries[-2]["tx_hash"] == anchored.transaction and entries[-2]["organisation"] == orgs.carrier
    assert json.loads(from_node[1]) == entries  # the lifecycle from the node, the evidence from the index
    assert exported[0] == 0 and len(json.loads(exported[1])["chainpass:evidence"]) == 2


def test_the_passport_page_shows_anchored_events_as_evidence_with_their_anchor(
    world: Any, pp: ProductPassports, orgs: Orgs, anchors: EventAnchors, day: AnchoredDocument, tmp_path: Path
) -> None:
    anchored = day
    link = f"/01/{BAG.gtin14}/21/{BAG.serial}"
    with serving(world.chain, world.deployment, tmp_path) as base:
        before = _get(base, link, "en")
        with TraceIndex.for_client(pp, tmp_path / "index.sqlite", anchors=anchors) as index:
            index.sync()
            add_anchored(index, bundle_files(anchored))
        unchanged = _get(base, link, "en")  # pages are kept per chain head: shown from the next block
        world.chain.advance_time(1)
        after = _get(base, link, "en")
        korean = _get(base, link, "ko")
        events = requests.get(f"{base}/epcis{link}", timeout=60).json()

    assert '<li class="evidence' not in before and "Evidence, declared by" not in before
    assert unchanged == before and after.count('<li class="evidence') == 2
    assert f"Evidence, declared by {orgs.carrier}" in after
    assert f'<a class="tx" href="/tx/{anchored.transaction}">' in after
    assert "Anchored in transaction" in after and "Inspected" in after
    assert "which it was in" in after  # the case's reading, while the bag was inside
    assert after.count('<li class="evidence') == korean.count('<li class="evidence') == 2
    assert "Evidence, declared by" not in korean
    assert [p["anchor"]["transaction"] for p in events["chainpass:evidence"]] == [anchored.transaction] * 2


def _get(base: str, link: str, language: str) -> str:
    answer = requests.get(f"{base}/passport{link}", headers={"Accept-Language": language}, timeout=60)
    assert answer.status_code == 200, answer.text[:300]
    return answer.text
