"""GS1's EPCIS 2.0 examples (../shared/epcis): hash ids, imports that report rather than fail,
and exports that validate against GS1's schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from passport_world import Orgs

from chainpass.epcis import event_hash, events_of, export, hash_uri, import_document
from chainpass.passport import ProductPassports

SHARED = Path(__file__).resolve().parents[2] / "shared" / "epcis"
if not (SHARED / "examples").is_dir():
    pytest.skip(f"GS1's EPCIS examples are not at {SHARED} (../shared/epcis is absent)", allow_module_level=True)

EXAMPLES = sorted((SHARED / "examples").glob("*.jsonld"))
SCHEMA = json.loads((SHARED / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def with_ids(path: Path) -> list[tuple[dict[str, Any], str]]:
    document = load(path)
    return [(e, e["eventID"]) for e in events_of(document) if str(e.get("eventID", "")).startswith("ni:///sha-256")]


HASHED = [p for p in EXAMPLES if with_ids(p)]


@pytest.mark.xfail(
    strict=True,
    reason="GS1's examples carry eventIDs computed in 2021 (gs1/EPCIS PR #167) with the draft canonicalisation; "
    "the final CBV 2.0 algorithm (epcis-event-hash-generator 1.9.3: Digital Link normalisation, ref.gs1.org "
    "vocabulary URIs) gives different ids for the same events",
)
@pytest.mark.parametrize("path", HASHED, ids=[p.name for p in HASHED])
def test_hash_ids_match_examples(path: Path) -> None:
    document = load(path)
    for event, expected in with_ids(path):
        assert hash_uri(event_hash(event, document["@context"])) == expected


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_hash_ids_are_stable(path: Path) -> None:
    """Every example's events hash (or are reported), the same way twice, ignoring their own eventID."""
    document = load(path)
    for event in events_of(document):
        try:
            first = event_hash(event, document["@context"])
        except Exception as exc:  # only InvalidInput, with a sentence
            assert type(exc).__name__ == "InvalidInput" and str(exc)
            continue
        assert event_hash({**event, "eventID": "urn:uuid:other"}, document["@context"]) == first


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_import_or_report(pp: ProductPassports, orgs: Orgs, path: Path) -> None:
    import jsonschema

    result = import_document(pp, load(path), sender=orgs.producer, partial=True)
    assert len(result.outcomes) == len(events_of(load(path)))
    for outcome in result.outcomes:
        assert outcome.status in ("recorded", "already_on_chain", "refused"), outcome
        if outcome.status == "refused":
            assert outcome.field and outcome.reason and "Traceback" not in outcome.reason
    recorded = [o for o in result.outcomes if o.status == "recorded"]
    for outcome in recorded:
        for tx in outcome.tx_hashes:
            receipt = pp.chain.w3.eth.get_transaction_receipt(tx)  # type: ignore[arg-type]
            for log in receipt["logs"]:
                if len(log["topics"]) > 1 and pp.passport(int.from_bytes(bytes(log["topics"][1]), "big")):
                    jsonschema.validate(export(pp, int.from_bytes(bytes(log["topics"][1]), "big")), SCHEMA)
