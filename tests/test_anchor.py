"""Anchored batches of EPCIS events (chainpass.anchor, contract EventAnchor): a document's
events anchored as one Merkle root by a verified organisation; each event's proof bundle
checked offline and by the contract's view; refusals; no event data on chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from accounts import World, credential_for
from eth_account import Account
from passport_world import Orgs
from support import assert_refused, refused_by_client

from chainpass.anchor import (
    BUNDLE_TYPE,
    EventAnchors,
    MerkleTree,
    ProofBundle,
    check_bundle,
    document_digest,
    root_of,
)
from chainpass.artifacts import load_artifact
from chainpass.chain import Chain
from chainpass.cli import main
from chainpass.deployment import DEFAULT_RECOVERY_DELAY, Deployment, DeploymentStore, deploy
from chainpass.enums import Level, Role
from chainpass.errors import DeploymentError, InvalidInput
from chainpass.identity import IdentityRegistry
from chainpass.node import AnvilNode
from chainpass.passport import ProductPassports
from chainpass.reverts import MESSAGES
from chainpass.standards.epcis import EPCIS_CONTEXT, event_hash

#: What an anchored event of these tests carries: nothing of it may reach the chain.
SECRET_READ_POINT = "urn:epc:id:sgln:9506000.77777.0"


def document(count: int, *, tag: str = "A") -> dict[str, Any]:
    """An EPCIS 2.0 document of ``count`` ObjectEvents (observations at a read point of
    its own), the kind of evidence partners exchange."""
    events = [
        {
            "type": "ObjectEvent",
            "eventTime": f"2026-03-01T08:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [f"urn:epc:id:sgtin:9506000.134352.{tag}{n}"],
            "action": "OBSERVE",
            "bizStep": "inspecting",
            "readPoint": {"id": SECRET_READ_POINT},
        }
        for n in range(count)
    ]
    return {"@context": [EPCIS_CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-03-01T09:00:00Z", "epcisBody": {"eventList": events}}  # fmt: skip


def raw(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=2).encode()


@pytest.fixture
def anchors(world: World, orgs: Orgs) -> EventAnchors:
    """The deployment's anchors, beside its registry and passports."""
    return EventAnchors.from_deployment(world.chain, world.deployment)


# ------------------------------------------------------------------------- the tree


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100])
def test_every_leaf_of_a_tree_proves_its_way_to_the_root(size: int) -> None:
    digests = [bytes([n % 256, n // 256]) * 16 for n in range(size)]
    tree = MerkleTree.of(digests)
    assert all(root_of(d, tree.proof(i)) == tree.root for i, d in enumerate(digests))
    assert max(len(tree.proof(i)) for i in range(size)) == (size - 1).bit_length()
    if size > 1:
        assert root_of(digests[0], tree.proof(1)) != tree.root  # another leaf's path
        assert root_of(b"\x01" * 32, tree.proof(0)) != tree.root  # another event
        assert root_of(tree.levels[1][0], tree.proof(0)[1:]) != tree.root  # an inner node is no leaf


def test_an_empty_batch_has_no_tree() -> None:
    with pytest.raises(InvalidInput, match="at least one event"):
        MerkleTree.of([])


# --------------------------------------------------------------------- on the chain


@pytest.mark.parametrize("size", [1, 2, 3, 6])
def test_a_documents_events_are_anchored_and_each_proves_offline_and_on_chain(
    anchors: EventAnchors, orgs: Orgs, size: int
) -> None:
    doc = document(size)
    anchored = anchors.anchor_document(doc, raw(doc), sender=orgs.carrier)

    record = anchors.anchor_of(anchored.root)
    assert record is not None and (record.organisation, record.events) == (orgs.carrier, size)
    assert record.anchored_at == anchors.chain.w3.eth.get_block(anchored.block_number)["timestamp"]
    assert [b.digest for b in anchored.bundles] == [event_hash(e) for e in doc["epcisBody"]["eventList"]]
    for bundle in anchored.bundles:
        again = ProofBundle.from_json(json.loads(json.dumps(bundle.to_json())))
        check_bundle(again)
        assert anchors.check_on_chain(again) == record
    (log,) = anchors.contract.events.BatchAnchored().process_receipt(
        anchors.chain.receipt(bytes.fromhex(anchored.transaction[2:]))
    )
    assert log["args"]["documentHash"] == document_digest(raw(doc))
    assert (log["args"]["organisation"], log["args"]["events"]) == (orgs.carrier, size)


def test_the_contracts_view_and_the_library_agree_on_every_proof(anchors: EventAnchors, orgs: Orgs) -> None:
    doc = document(5)
    anchored = anchors.anchor_document(doc, raw(doc), sender=orgs.inspector)
    first, second = anchored.bundles[0], anchored.bundles[1]

    assert anchors.is_anchored(first.root, first.digest, first.proof) is not None
    assert anchors.is_anchored(first.root, first.digest, second.proof) is None  # another event's path
    assert anchors.is_anchored(first.root, second.digest, first.proof) is None
    assert anchors.is_anchored(b"\x07" * 32, first.digest, first.proof) is None  # a root never anchored
    assert anchors.anchor_of(b"\x07" * 32) is None


def test_a_changed_event_or_proof_or_chain_is_refused_by_the_bundle_check(anchors: EventAnchors, orgs: Orgs) -> None:
    doc = document(3)
    bundle = anchors.anchor_document(doc, raw(doc), sender=orgs.carrier).bundles[1]
    data = bundle.to_json()

    changed = json.loads(json.dumps(data))
    changed["event"]["action"] = "DELETE"
    with pytest.raises(InvalidInput, match="the event was changed"):
        check_bundle(ProofBundle.from_json(changed))
    wrong_path = {**data, "proof": list(reversed(data["proof"]))}
    with pytest.raises(InvalidInput, match="does not lead from its event to its root"):
        check_bundle(ProofBundle.from_json(wrong_path))
    elsewhere = {**data, "anchor": {**data["anchor"], "chainId": 5}}
    with pytest.raises(InvalidInput, match="on chain 5"):
        anchors.check_on_chain(ProofBundle.from_json(elsewhere))
    claimed = {**data, "anchor": {**data["anchor"], "organisation": orgs.producer}}
    with pytest.raises(InvalidInput, match=f"anchored by {orgs.carrier}, not by {orgs.producer}"):
        anchors.check_on_chain(ProofBundle.from_json(claimed))
    for broken, fragment in [
        ({**data, "type": "x"}, "Not an anchored event's proof bundle"),
        ({**data, "eventHash": "sha256:00"}, "not a ni:///sha-256 event hash"),
        ({**data, "root": "0x12"}, "root is not a 32-byte hash"),
        ({**data, "anchor": {"chainId": 1}}, "anchor is incomplete or malformed"),
    ]:
        with pytest.raises(InvalidInput, match=fragment):
            ProofBundle.from_json(broken)
    assert bundle.to_json()["type"] == BUNDLE_TYPE


def test_who_may_anchor_and_a_root_anchored_once(anchors: EventAnchors, world: World, orgs: Orgs) -> None:
    chain, tree = anchors.chain, MerkleTree.of([b"\x01" * 32, b"\x02" * 32])
    anchors.anchor(tree.root, 2, b"\x03" * 32, sender=orgs.producer)

    assert_refused(chain, lambda: anchors.anchor(tree.root, 2, b"\x03" * 32, sender=orgs.carrier),
                   "AnchorAlreadyAnchored", organisation=orgs.producer)  # fmt: skip
    other = MerkleTree.of([b"\x04" * 32]).root
    assert_refused(chain, lambda: anchors.anchor(other, 1, b"\x03" * 32, sender=orgs.stranger),
                   "AnchorNotAnOrganisation", account=orgs.stranger)  # fmt: skip
    world.registry.suspend(orgs.retailer, "under_review", sender=world.roles.bureau)
    assert_refused(chain, lambda: anchors.anchor(other, 1, b"\x03" * 32, sender=orgs.retailer),
                   "AnchorNotVerified", account=orgs.retailer, standing="suspended")  # fmt: skip
    assert_refused(chain, lambda: anchors.send("anchor", orgs.carrier, bytes(32), 1, bytes(32)), "AnchorEmptyBatch")
    assert_refused(chain, lambda: anchors.send("anchor", orgs.carrier, other, 0, bytes(32)), "AnchorEmptyBatch")
    refused_by_client(chain, lambda: anchors.anchor(other, 0, bytes(32), sender=orgs.carrier), InvalidInput, "1 to")


def test_no_event_data_reaches_the_chain(anchors: EventAnchors, orgs: Orgs) -> None:
    doc = document(4, tag="PRIVATE")
    anchored = anchors.anchor_document(doc, raw(doc), sender=orgs.carrier)
    chain: Chain = anchors.chain
    tx = chain.w3.eth.get_transaction(anchored.transaction)
    receipt = chain.receipt(bytes.fromhex(anchored.transaction[2:]))
    on_chain = bytes(tx["input"]) + b"".join(bytes(log["data"]) + b"".join(log["topics"]) for log in receipt["logs"])

    assert len(bytes(tx["input"])) == 4 + 3 * 32  # the root, the count, the document's hash
    for text in (SECRET_READ_POINT, "PRIVATE", "9506000.134352", "inspecting", "OBSERVE"):
        assert text.encode() not in on_chain and text.encode().hex().encode() not in on_chain
    for bundle in anchored.bundles:  # nor the events' own hashes: only the root
        assert bundle.digest not in on_chain


def test_every_anchor_error_reads_as_a_sentence() -> None:
    names = [e["name"] for e in load_artifact("EventAnchor").abi if e["type"] == "error"]
    assert sorted(names) == sorted(n for n in MESSAGES if n.startswith("Anchor"))


def test_a_deployment_from_before_the_anchors_gets_them_from_deploy(chain: Chain, tmp_path: Path) -> None:
    governor = chain.dev_accounts()[0]
    snapshot = chain.snapshot()
    try:
        store = DeploymentStore(tmp_path / "deployments")
        deployment, _ = deploy(chain, governor, store)
        older = Deployment(deployment.chain_id, {
            name: record for name, record in deployment.contracts.items() if name != "EventAnchor"
        }, deployment.genesis_hash)  # fmt: skip
        store.write(older)
        with pytest.raises(DeploymentError, match="run `chainpass deploy`, which adds it"):
            EventAnchors.from_deployment(chain, older)

        again, created = deploy(chain, governor, store)

        assert created is False and store.find(chain) == again
        assert {name: again.contracts[name] for name in older.contracts} == older.contracts
        assert again.address("EventAnchor") != deployment.address("EventAnchor")
        assert EventAnchors.from_deployment(chain, again).anchor_of(b"\x01" * 32) is None
    finally:
        chain.revert(snapshot)


def test_cli_anchors_a_document_and_proves_its_events(
    anvil_node: AnvilNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = Chain.connect(anvil_node.url)
    governor, bureau, carrier = chain.dev_accounts()[:3]
    home = tmp_path / "home"
    deployment, _ = deploy(chain, governor, DeploymentStore(home / "deployments"))
    registry = IdentityRegistry.from_deployment(chain, deployment)
    registry.appoint_authority(bureau, Level.HIGH, sender=governor)
    registry.verify(credential_for(carrier), Level.HIGH, chain.latest_timestamp() + 10**8, sender=bureau)
    ProductPassports.from_deployment(chain, deployment).set_roles(carrier, Role.CARRIER, sender=governor)
    file = tmp_path / "observations.jsonld"
    file.write_text(json.dumps(document(3)))

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(["--rpc", anvil_node.url, "--home", str(home), *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    anchored = run("epcis", "anchor", str(file), "--proofs", str(tmp_path / "proofs"), "--account", carrier, "--json")
    bundles = sorted((tmp_path / "proofs").iterdir())
    proved = run("epcis", "prove", str(bundles[1]), "--on-chain", "--json")
    offline = run("epcis", "prove", str(bundles[2]))
    altered = json.loads(bundles[0].read_text())
    altered["event"]["epcList"] = ["urn:epc:id:sgtin:9506000.134352.FORGED"]
    (tmp_path / "altered.json").write_text(json.dumps(altered))
    refused = run("epcis", "prove", str(tmp_path / "altered.json"), "--on-chain")
    again = run("epcis", "anchor", str(file), "--proofs", str(tmp_path / "again"), "--account", carrier)

    assert anchored[0] == 0 and json.loads(anchored[1])["events"] == 3 and len(bundles) == 3
    assert proved[0] == 0 and json.loads(proved[1])["anchor"]["organisation"] == carrier
    assert json.loads(proved[1])["anchor"]["events"] == 3
    assert offline[0] == 0 and "Add --on-chain" in offline[1]
    assert refused[0] == 1 and refused[2].strip().endswith("the event was changed.")
    assert len(refused[2].strip().splitlines()) == 1
    assert again[0] == 1 and f"These events are anchored already, by {carrier}" in again[2]
    assert not (tmp_path / "again").exists() or not any((tmp_path / "again").iterdir())


def test_a_wallet_moved_away_from_anchors_nothing(anchors: EventAnchors, world: World, orgs: Orgs) -> None:
    """The organisation's old key, after the bureau recovered its identity to a new wallet,
    still holds its passport role but anchors nothing: its standing is moved."""
    chain, registry, bureau = world.chain, world.registry, world.roles.bureau
    registry.request_recovery(orgs.carrier, Account.create().address, sender=bureau)
    chain.advance_time(DEFAULT_RECOVERY_DELAY)
    registry.complete_recovery(orgs.carrier, sender=bureau)
    root = MerkleTree.of([b"\x05" * 32]).root

    assert_refused(chain, lambda: anchors.anchor(root, 1, bytes(32), sender=orgs.carrier),
                   "AnchorNotVerified", account=orgs.carrier, standing="moved")  # fmt: skip
