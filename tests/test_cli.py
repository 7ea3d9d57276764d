"""The `chainpass` CLI against a real Anvil node: the operator's flow and every bad input."""

from __future__ import annotations

import json
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cli_world import Operator, assert_one_line_error
from eth_utils import to_checksum_address

from chainpass.chain import Chain
from chainpass.cli import main
from chainpass.identity import IdentityRegistry
from chainpass.node import AnvilNode, free_port
from chainpass.standards.dl_compression import compress


def test_deploy_is_safe_to_rerun(operator: Operator) -> None:
    first = operator.ok("deploy", "--json").json()
    second = operator.ok("deploy", "--json").json()

    assert first["created"] is True
    assert second["created"] is False
    assert second["contracts"] == first["contracts"]
    record = json.loads(Path(first["record"]).read_text())
    assert record["chain_id"] == 31337
    assert set(record["contracts"]["IdentityRegistry"]) == {
        "address",
        "tx_hash",
        "block_number",
        "code_hash",
        "constructor_args",
        "implementation",
        "proxy_admin",
    }


def test_operator_flow(deployed: Operator, tmp_path: Path) -> None:
    op, holder = deployed, deployed.accounts[6]
    credential = tmp_path / "credential.json"

    verified = op.ok(
        "identity", "verify", holder, "--attributes", str(tmp_path / "person.json"), "--level", "high",
        "--valid-days", "30", "--credential-out", str(credential), "--account", "1", "--json",
    ).json()  # fmt: skip
    status = op.ok("identity", "status", holder, "--json").json()
    refused_run = op.run("identity", "check", holder, "--account", "2", "--json")
    refused = refused_run.json()
    op.ok("consent", "grant", op.accounts[2], "--days", "30", "--account", "6")
    consent = op.ok("consent", "status", holder, op.accounts[2], "--json").json()
    check = op.ok("identity", "check", holder, "--account", "2", "--json").json()

    assert stat.S_IMODE(credential.stat().st_mode) == 0o600
    assert json.loads(credential.read_text())["commitment"] == verified["commitment"] == status["commitment"]
    assert status["valid"] is True and status["level"] == "high" and status["issuer"] == op.accounts[1]
    assert refused["standing"] == "no_consent" and refused["issuer"] is None
    assert refused_run.code == 3  # a negative answer, not an error
    assert consent["in_force"] is True
    assert check["valid"] is True and check["relying_party"] == op.accounts[2]

    disclosure = tmp_path / "disclosure.json"
    op.ok(
        "identity",
        "disclose",
        "--credential",
        str(credential),
        "--attribute",
        "age_over_18",
        "--out",
        str(disclosure),
    )
    seen = op.ok("identity", "verify-disclosure", str(disclosure), "--on-chain", "--json").json()
    assert seen["attributes"] == {"age_over_18": "true"} and seen["on_chain"] is True

    op.ok("identity", "suspend", holder, "--reason", "lost_document", "--account", "1")
    suspended = op.no("identity", "check", holder, "--account", "2", "--json").json()
    op.ok("identity", "reinstate", holder, "--account", "1")
    reinstated = op.ok("identity", "check", holder, "--account", "2")
    assert suspended["valid"] is False and suspended["standing"] == "suspended"
    assert "VERIFIED" in reinstated.out and "NOT" not in reinstated.out

    checks = op.ok("identity", "history", holder, "--checks", "--json").json()
    assert [c["standing"] for c in checks] == ["no_consent", "valid", "suspended", "valid"]
    events = [e["event"] for e in op.ok("identity", "history", holder, "--json").json()]
    assert events[:4] == ["HolderVerified", "HolderChecked", "ConsentGranted", "HolderChecked"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("invalid address", "is not an Ethereum address"),
        ("bad checksum", "wrong checksum"),
        ("attributes not json", "is not JSON"),
        ("attributes missing fields", "miss required field(s): national_id, address"),
        ("tampered disclosure", "does not match"),
        ("unknown relying party", "is not an appointed relying party"),
        ("wrong chain id", "not the expected chain 1"),
        ("reverted transaction", "is already verified by"),
        ("unknown account", "is not a keystore account"),
    ],
)
def test_bad_input_is_one_clear_line(deployed: Operator, tmp_path: Path, case: str, expected: str) -> None:
    op, holder = deployed, deployed.accounts[6]
    attributes = tmp_path / "person.json"
    credential = tmp_path / "credential.json"
    verify = ["identity", "verify", holder, "--attributes", str(attributes), "--level", "low"]
    if case in {"tampered disclosure", "reverted transaction"}:
        op.ok(*verify, "--credential-out", str(credential), "--account", "1")
    args: list[str]
    if case == "invalid address":
        args = ["identity", "status", "0x12345"]
    elif case == "bad checksum":
        args = ["identity", "status", holder[:-1] + ("a" if holder[-1] != "a" else "b")]
    elif case == "attributes not json":
        attributes.write_text("{name: Li}")
        args = [*verify, "--credential-out", str(tmp_path / "new.json"), "--account", "1"]
    elif case == "attributes missing fields":
        attributes.write_text(json.dumps({"name": "Li", "date_of_birth": "1990-01-01"}))
        args = [*verify, "--credential-out", str(tmp_path / "new.json"), "--account", "1"]
    elif case == "tampered disclosure":
        document = json.loads(op.ok("identity", "disclose", "--credential", str(credential), "--attribute", "name").out)
        document["attributes"][0]["value"] = "Somebody Else"
        (tmp_path / "d.json").write_text(json.dumps(document))
        args = ["identity", "verify-disclosure", str(tmp_path / "d.json")]
    elif case == "unknown relying party":
        args = ["identity", "check", holder, "--account", "3"]
    elif case == "wrong chain id":
        args = ["--chain-id", "1", "identity", "status", holder]
    elif case == "reverted transaction":
        args = [*verify, "--credential-out", str(tmp_path / "new.json"), "--account", "1"]
    else:
        args = ["deploy", "--account", "0x" + "12" * 20]
    before = sorted(p.name for p in tmp_path.iterdir())

    result = op.run(*args)

    assert_one_line_error(result, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing half-written


def test_no_deployment_record(operator: Operator, tmp_path: Path) -> None:
    result = operator.run("identity", "status", operator.accounts[6], home=tmp_path / "empty")
    assert_one_line_error(result, "run `chainpass deploy`")


def test_unreachable_node(operator: Operator) -> None:
    result = operator.run("identity", "status", operator.accounts[6], rpc=f"http://127.0.0.1:{free_port()}")
    assert_one_line_error(result, "No Ethereum node answers")


def test_errors_as_json(operator: Operator) -> None:
    result = operator.run("identity", "status", "nonsense", "--json")
    assert result.code == 1
    assert result.json() == {
        "error": "holder 'nonsense' is not an Ethereum address (0x followed by 40 hex digits).",
        "kind": "InvalidInput",
    }


def test_deployment_survives_a_node_restart_and_a_reset_is_detected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "anvil-state.json"
    node = AnvilNode(port=free_port(), state_file=state)
    op = Operator(capsys, node.url, tmp_path / "home", [])
    with node:
        deployed = op.ok("deploy", "--json").json()
    with AnvilNode(port=node.port, state_file=state):
        again = op.ok("deploy", "--json").json()
    with AnvilNode(port=node.port):  # a fresh chain with the same chain id
        stale = op.run("identity", "status", "0x" + "11" * 20)
        replaced = op.ok("deploy", "--replace", "--json").json()

    assert again["created"] is False and again["contracts"] == deployed["contracts"]
    # A fresh Anvil has a new genesis block (so no record), unless it started in the same second
    # as the first one (same genesis): then the record's code is missing from it.
    assert_one_line_error(stale, "chainpass deploy")
    assert "No deployment record for this node's chain (chain id 31337" in stale.err or "no code there" in stale.err
    assert replaced["created"] is True


def test_deploy_script_matches_the_cli(anvil_node: AnvilNode, tmp_path: Path) -> None:
    script = Path(__file__).resolve().parent.parent / "scripts" / "deploy.py"
    command = [sys.executable, str(script), "--rpc", anvil_node.url, "--home", str(tmp_path)]

    first = subprocess.run(command, capture_output=True, text=True, check=True)
    second = subprocess.run(command, capture_output=True, text=True, check=True)

    assert first.stdout.startswith("deployed IdentityRegistry at ")
    assert second.stdout.startswith("found IdentityRegistry at ")
    assert first.stdout.split()[3] == second.stdout.split()[3]
    guardian = Chain.connect(anvil_node.url).dev_accounts()[4]
    named = subprocess.run([*command, "--replace", "--guardian", guardian], capture_output=True, text=True, check=True)
    address = named.stdout.split()[3]
    registry = IdentityRegistry(Chain.connect(anvil_node.url), address)
    assert address != first.stdout.split()[3] and registry.guardian() == guardian


def test_demo_command_plays_the_story_and_ends_on_the_recalled_bag_s_page(
    anvil_node: AnvilNode, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`make demo`'s command; on Anvil here, as the embedded chain's run is test_demo's. Its
    last lines give the recalled bag's page and the command that serves it: run as printed
    (on a free port), the page says the bag is recalled."""
    main(["--home", str(tmp_path), "demo", "--rpc", anvil_node.url])
    out = capsys.readouterr().out
    assert f"Chain: {anvil_node.url}" in out
    assert "The bank's next check: suspended" in out
    page = re.search(r"Its page is (http://127\.0\.0\.1:8080(/passport/01/\d{14}/21/\S+))$", out, re.M)
    command = re.search(r"once the service runs: chainpass (.+ serve)$", out, re.M)
    token = re.search(r"at its tokenURI, http://127\.0\.0\.1:8080(/metadata/0x[0-9a-f]{64})$", out, re.M)
    assert page is not None and command is not None and token is not None, out
    assert "LK2026-M1-001" in page[1] and command[1].split() == [
        "--rpc", anvil_node.url, "--home", str(tmp_path / "demo"), "serve"
    ]  # fmt: skip

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from chainpass.cli import main; main()", *command[1].split(), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # until it answers: it syncs its trace index first
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "chainpass serve did not answer"
            try:
                shown = requests.get(f"http://127.0.0.1:{port}{page[2]}", timeout=30)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        # The bag's tokenURI (the demo set the base to the service's) leads to its metadata.
        described = requests.get(f"http://127.0.0.1:{port}{token[1]}", timeout=30)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)

    assert shown.status_code == 200 and "Recalled" in shown.text and "Do not eat or use it" in shown.text
    assert described.status_code == 200 and described.json()["external_url"].endswith(page[2])
    assert {"trait_type": "State", "value": "recalled"} in described.json()["attributes"]


# ------------------------------------------------------------ keys and consent

PASSWORD = "correct horse battery staple"


@pytest.fixture
def resident(deployed: Operator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A keystore account with no ETH, verified by the bureau."""
    monkeypatch.setenv("CHAINPASS_PASSWORD", PASSWORD)
    address = str(deployed.ok("account", "new", "resident", "--json").json()["address"])
    deployed.ok(
        "identity", "verify", address, "--attributes", str(tmp_path / "person.json"), "--level", "high",
        "--credential-out", str(tmp_path / "resident.credential.json"), "--account", "1",
    )  # fmt: skip
    return address


def test_keystore_accounts_keep_secrets_off_disk(deployed: Operator, resident: str) -> None:
    listed = deployed.ok("account", "list", "--json").json()
    keystore = Path(listed[0]["keystore"])

    assert [(a["name"], a["address"]) for a in listed] == [("resident", resident)]
    assert stat.S_IMODE(keystore.stat().st_mode) == 0o600
    assert PASSWORD not in keystore.read_text()
    assert json.loads(keystore.read_text())["crypto"]["kdf"] == "scrypt"


def test_passwords_never_come_from_the_command_line(deployed: Operator) -> None:
    result = deployed.run("account", "new", "someone", "--password", PASSWORD)
    assert result.code == 2 and "No such option" in result.err


def test_wrong_password_is_one_clear_line(deployed: Operator, resident: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINPASS_PASSWORD", "not it")
    result = deployed.run("consent", "grant", deployed.accounts[2], "--account", "resident")
    assert_one_line_error(result, "does not unlock account 'resident'")


def test_gasless_consent_signed_offline_and_relayed(deployed: Operator, resident: str, tmp_path: Path) -> None:
    op, bank = deployed, deployed.accounts[2]
    typed, signed = tmp_path / "grant.json", tmp_path / "grant.signed.json"

    op.ok("consent", "typed-data", "grant", resident, bank, "--days", "30", "--out", str(typed))
    op.ok("consent", "sign", str(typed), "--account", "resident", "--out", str(signed))
    relayed = op.ok("consent", "relay", str(signed), "--account", "2", "--json").json()
    check = op.ok("identity", "check", resident, "--account", "2", "--json").json()
    replay = op.run("consent", "relay", str(signed), "--account", "2")

    document = json.loads(typed.read_text())
    assert document["primaryType"] == "GrantConsent" and document["domain"]["chainId"] == 31337
    assert set(document["types"]) == {"EIP712Domain", "GrantConsent"}
    assert relayed["message"] == "GrantConsent" and relayed["holder"] == resident
    assert check["valid"] is True
    assert op.ok("accounts", "--json").json()  # the node is still there
    balance = Chain.connect(op.rpc).w3.eth.get_balance(resident)
    assert balance == 0
    assert_one_line_error(replay, "was used already, or cancelled")


def test_rotation_by_a_signature_from_any_wallet(deployed: Operator, resident: str, tmp_path: Path) -> None:
    op, new_wallet = deployed, "0x" + "5a" * 20
    typed = tmp_path / "rotate.json"
    op.ok("consent", "typed-data", "rotate", resident, new_wallet, "--out", str(typed))
    signature = op.ok("consent", "sign", str(typed), "--account", "resident").out.strip()

    op.ok("consent", "relay", str(typed), "--signature", signature, "--account", "3")

    assert op.no("identity", "status", resident, "--json").json()["standing"] == "moved"
    moved_to = op.ok("identity", "status", to_checksum_address(new_wallet), "--json").json()
    assert moved_to["valid"] is True
    events = [e["event"] for e in op.ok("identity", "history", to_checksum_address(new_wallet), "--json").json()]
    assert events == ["HolderVerified", "HolderRotated"]


def test_typed_data_edited_for_another_chain_is_refused(deployed: Operator, resident: str, tmp_path: Path) -> None:
    op = deployed
    typed = tmp_path / "grant.json"
    op.ok("consent", "typed-data", "grant", resident, op.accounts[2], "--out", str(typed))
    document = json.loads(typed.read_text())
    document["domain"]["chainId"] = 1
    typed.write_text(json.dumps(document))
    signature = op.ok("consent", "sign", str(typed), "--account", "resident").out.strip()

    result = op.run("consent", "relay", str(typed), "--signature", signature, "--account", "2")

    assert_one_line_error(result, "made for chain 1")


def test_recovery_after_the_waiting_period(deployed: Operator, tmp_path: Path) -> None:
    op, holder, new_phone = deployed, deployed.accounts[6], deployed.accounts[7]
    op.ok(
        "identity", "verify", holder, "--attributes", str(tmp_path / "person.json"), "--level", "high",
        "--credential-out", str(tmp_path / "c.json"), "--account", "1",
    )  # fmt: skip

    requested = op.ok("identity", "recovery", "request", holder, new_phone, "--account", "1", "--json").json()
    early = op.run("identity", "recovery", "complete", holder, "--account", "1")
    Chain.connect(op.rpc).advance_time(3 * 24 * 3600 + 1)
    op.ok("identity", "recovery", "complete", holder, "--account", "1")

    assert requested["pending"] is True and requested["new_holder"] == new_phone
    assert_one_line_error(early, "the old key may still object")
    assert op.ok("identity", "recovery", "status", holder, "--json").json()["pending"] is False
    assert op.no("identity", "status", holder, "--json").json()["standing"] == "moved"
    assert op.ok("identity", "status", new_phone, "--json").json()["valid"] is True
    stale = op.run("consent", "grant", op.accounts[2], "--account", "6")
    assert_one_line_error(stale, "moved to another wallet")


def test_a_signature_from_another_wallet_relays(deployed: Operator, tmp_path: Path) -> None:
    """Anvil's own eth_signTypedData_v4 (a wallet implementation that is not ours) signs the printed JSON."""
    op, holder, bank = deployed, deployed.accounts[6], deployed.accounts[2]
    op.ok(
        "identity", "verify", holder, "--attributes", str(tmp_path / "person.json"), "--level", "low",
        "--credential-out", str(tmp_path / "c.json"), "--account", "1",
    )  # fmt: skip
    typed = tmp_path / "grant.json"
    op.ok("consent", "typed-data", "grant", holder, bank, "--days", "7", "--out", str(typed))
    node = Chain.connect(op.rpc).w3.provider
    signature = node.make_request("eth_signTypedData_v4", [holder, typed.read_text()])["result"]  # type: ignore[arg-type]

    op.ok("consent", "relay", str(typed), "--signature", signature, "--account", "2")

    assert op.ok("identity", "check", holder, "--account", "2", "--json").json()["valid"] is True


# ----------------------------------------------------------------- passports

BAG1, BAG2 = "https://id.example.org/01/09506000134352/21/BAG001", "(01)09506000134352(21)BAG002"
CONTAINER = "(01)09506000134352(21)CNT1"


def test_passport_journey_from_commissioning_to_a_sale(supply_chain: Operator, tmp_path: Path) -> None:
    op = supply_chain
    commissioned = op.ok("passport", "commission", BAG1, BAG2, "--account", "2", "--json").json()
    op.ok("passport", "commission", CONTAINER, "--tier", "3", "--account", "2")
    op.ok("passport", "pack", CONTAINER, BAG1, BAG2, "--tier", "3", "--account", "2")
    op.ok("passport", "event", CONTAINER, "--tier", "3", "--biz-step", "shipping", "--disposition", "in_transit",
          "--account", "2")  # fmt: skip
    # The goods are the producer's to hand over: the retailer takes custody of the container.
    offer = tmp_path / "container-offer.json"
    op.ok("passport", "offer", CONTAINER, "--tier", "3", "--to", op.accounts[4], "--out", str(offer), "--account", "2")
    op.ok("passport", "accept", str(offer), "--account", "4")
    in_transit = op.ok("passport", "show", BAG1, "--json").json()
    early_sale = op.run("passport", "event", BAG1, "--biz-step", "retail_selling", "--disposition", "retail_sold",
                        "--account", "4")  # fmt: skip
    op.ok("passport", "event", CONTAINER, "--tier", "3", "--biz-step", "receiving", "--disposition", "sellable",
          "--account", "4")  # fmt: skip
    op.ok("passport", "unpack", BAG1, "--account", "4")
    op.ok("passport", "event", BAG1, "--biz-step", "retail_selling", "--disposition", "retail_sold", "--account", "4")
    verdict = op.ok("passport", "verify", BAG1, "--json").json()
    clone = op.ok("passport", "verify", BAG1)
    fake = op.no("passport", "verify", "(01)09506000134352(21)NOSUCH", "--json").json()

    assert [c["code"] for c in commissioned] == ["(01)09506000134352(21)BAG001", "(01)09506000134352(21)BAG002"]
    assert in_transit["effective_state"] == "in_transit" and in_transit["state"] == "active"
    assert_one_line_error(early_sale, "retail_selling cannot be recorded")
    assert verdict["genuine"] is True and verdict["sold"] is True and verdict["recalled"] is False
    steps = [e.get("biz_step") or e["event"] for e in verdict["journey"]]
    # Custody moves twice: the container's to the retailer, then the bag's own as it comes out.
    assert steps == ["PassportCommissioned", "PassportPacked", "shipping", "CustodyTransferred", "receiving",
                     "CustodyTransferred", "PassportUnpacked", "retail_selling"]  # fmt: skip
    assert "SOLD ALREADY" in clone.out
    assert fake["genuine"] is False


def test_a_recalled_container_flags_what_is_inside(supply_chain: Operator) -> None:
    op = supply_chain
    op.ok("passport", "commission", BAG1, BAG2, "--account", "2")
    op.ok("passport", "commission", CONTAINER, "--tier", "3", "--account", "2")
    op.ok("passport", "pack", CONTAINER, BAG1, BAG2, "--tier", "3", "--account", "2")

    op.ok("passport", "recall", CONTAINER, "--tier", "3", "--account", "2")

    assert op.no("passport", "verify", BAG2, "--json").json()["recalled"] is True
    assert "RECALLED" in op.no("passport", "verify", BAG1).out


def test_verify_reads_a_compressed_digital_link_as_its_uncompressed_one(supply_chain: Operator) -> None:
    op = supply_chain
    op.ok("passport", "commission", BAG1, "--account", "2")
    op.ok("passport", "recall", BAG1, "--account", "2")
    # BAG1 as a phone's camera reads it from a QR code carrying the compressed link (GS1 Digital Link compression).
    compressed = "https://id.example.org/" + compress([("01", "09506000134352"), ("21", "BAG001")])

    uncompressed_answer, compressed_answer = (op.no("passport", "verify", c, "--json") for c in (BAG1, compressed))
    in_words = op.no("passport", "verify", compressed).out
    malformed = op.run("passport", "verify", compressed[:-3])

    assert compressed_answer.json() == uncompressed_answer.json()
    assert compressed_answer.json()["recalled"] is True and "RECALLED" in in_words
    assert_one_line_error(malformed, f"'{compressed[:-3]}' is not a GS1 Digital Link URI, compressed or not: ")


PADDY, MILLED = "(01)09506000134352(10)PADDY-1", "(01)09506000134352(10)MILLED-1"


def test_a_recall_of_an_input_reaches_what_was_made_from_it(supply_chain: Operator) -> None:
    op = supply_chain
    op.ok("passport", "commission", PADDY, "--account", "2")
    milled = op.ok("passport", "transform", "mill-run-1", "--input", PADDY, "--output", MILLED, "--account", "2",
                   "--json").json()  # fmt: skip
    op.ok("passport", "transform", "bagging-1", "--input", MILLED, "--output", BAG1, "--output", BAG2,
          "--account", "2")  # fmt: skip
    consumed = op.ok("passport", "show", PADDY, "--json").json()
    again = op.run("passport", "transform", "mill-run-2", "--input", PADDY, "--output", "(01)09506000134352(10)M2",
                   "--account", "2")  # fmt: skip

    op.ok("passport", "recall", PADDY, "--account", "2")

    verdict = op.no("passport", "verify", BAG2, "--json").json()
    human = op.no("passport", "verify", BAG1).out
    trace = op.ok("passport", "trace", BAG1, "--json").json()
    assert milled["outputs"][0]["code"] == MILLED and milled["inputs"] == [PADDY]
    assert consumed["state"] == "consumed"
    assert_one_line_error(again, "is consumed")
    assert verdict["recalled"] is True and verdict["state"] == "recalled"
    assert int(verdict["recall_source"], 16) == int(consumed["id"], 16)
    assert "RECALLED (recall of" in human
    # The paddy lot and the milled lot were each consumed on the way to the bag.
    assert [e["event"] for e in trace if e["via_input"]].count("PassportConsumed") == 2
    assert any(e.get("biz_step") == "recalling" and e["via_input"] for e in trace)


def test_custody_moves_by_signed_offer_and_acceptance(supply_chain: Operator, tmp_path: Path) -> None:
    op = supply_chain
    producer, carrier = op.accounts[2], op.accounts[3]
    op.ok("passport", "commission", BAG1, "--account", "2")
    offer_file = tmp_path / "offer.json"
    offered = op.ok("passport", "offer", BAG1, "--to", carrier, "--out", str(offer_file), "--account", "2",
                    "--json").json()  # fmt: skip
    stolen = op.run("passport", "accept", str(offer_file), "--account", "4")

    op.ok("passport", "accept", str(offer_file), "--account", "3")

    shown = op.ok("passport", "show", BAG1, "--json").json()
    replay = op.run("passport", "accept", str(offer_file), "--account", "3")
    assert offered["typedData"]["message"]["to"] == carrier and offered["signature"].startswith("0x")
    assert_one_line_error(stolen, "made out to")
    assert shown["custodian"] == carrier and shown["owner"] == producer
    assert_one_line_error(replay, "holds the goods of passport")


def test_epcis_import_is_idempotent_and_exports_the_history(supply_chain: Operator, tmp_path: Path) -> None:
    op = supply_chain
    bag = "urn:epc:id:sgtin:9506000.013435.BAG001"
    events = [
        {"type": "ObjectEvent", "eventTime": "2026-01-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
         "epcList": [bag], "action": "ADD", "bizStep": "commissioning", "disposition": "active"},
        {"type": "ObjectEvent", "eventTime": "2026-01-02T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
         "epcList": [bag], "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit"},
    ]  # fmt: skip
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-01-03T00:00:00Z",
                "epcisBody": {"eventList": events}}  # fmt: skip
    path = tmp_path / "events.jsonld"
    path.write_text(json.dumps(document))

    first = op.ok("epcis", "import", str(path), "--account", "2", "--json").json()
    again = op.ok("epcis", "import", str(path), "--account", "2")
    exported = op.ok("epcis", "export", bag, "--out", str(tmp_path / "out.json"), "--json").json()
    broken = tmp_path / "broken.jsonld"
    broken.write_text(json.dumps({**document, "epcisBody": {"eventList": [{**events[1], "bizStep": "dancing"}]}}))
    refused = op.run("epcis", "import", str(broken), "--account", "2")
    # The export carries the on-chain event ids: imported back, it records nothing twice.
    round_trip = op.ok("epcis", "import", str(tmp_path / "out.json"), "--account", "2", "--json").json()
    after = op.ok("passport", "trace", bag, "--json").json()

    assert first["recorded"] == 2 and first["refused"] == 0
    assert round_trip["recorded"] == 0 and round_trip["refused"] == 0, round_trip
    assert len(after) == len(exported["epcisBody"]["eventList"])
    assert "nothing new" in again.out
    assert op.ok("passport", "show", bag, "--json").json()["state"] == "in_transit"
    exported_events = exported["epcisBody"]["eventList"]
    assert [e.get("bizStep") for e in exported_events][-1].endswith("shipping")
    assert {e["eventID"] for e in exported_events} >= {e["event_id"] for e in first["events"]}
    assert json.loads((tmp_path / "out.json").read_text()) == exported
    assert refused.code == 1 and "dancing" in refused.out


def test_epcis_import_adopts_unknown_identifiers_only_when_asked(supply_chain: Operator, tmp_path: Path) -> None:
    op = supply_chain
    case = "urn:epc:id:sscc:9506000.0000000042"
    bags = ["urn:epc:id:sgtin:9506000.013435.ADOPT1", "urn:epc:id:sgtin:9506000.013435.ADOPT2"]
    events = [
        {"type": "ObjectEvent", "eventTime": "2026-03-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
         "epcList": bags, "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress"},
        {"type": "AggregationEvent", "eventTime": "2026-03-01T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
         "parentID": case, "childEPCs": bags, "action": "ADD", "bizStep": "packing"},
    ]  # fmt: skip
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-02T00:00:00Z",
                "epcisBody": {"eventList": events}}  # fmt: skip
    path = tmp_path / "seen.jsonld"
    path.write_text(json.dumps(document))

    refused = op.run("epcis", "import", str(path), "--account", "2")
    before = op.run("passport", "show", bags[0])
    adopted = op.ok("epcis", "import", str(path), "--adopt-unknown", "--account", "2", "--json").json()
    again = op.ok("epcis", "import", str(path), "--adopt-unknown", "--account", "2", "--json").json()

    assert refused.code == 1 and "ADOPT1" in refused.out and "--adopt-unknown" in refused.out + refused.err
    assert before.code == 1  # nothing of the refused document went in
    assert adopted["recorded"] == 2 and adopted["refused"] == 0
    assert adopted["adopted"] == [
        "(01)09506000134352(21)ADOPT1", "(01)09506000134352(21)ADOPT2", "(00)095060000000000428"
    ]  # fmt: skip
    assert again["nothing_new"] and again["adopted"] == []
    assert op.ok("passport", "show", bags[1], "--json").json()["state"] == "active"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("(01)09506000134353(21)X", "Invalid GTIN check digit"),
        ("https://id.example.org/01/09506000134352", "neither a serial (AI 21) nor a lot (AI 10)"),
        ("not a code", "is not a GS1"),
    ],
)
def test_bad_codes_are_one_clear_line(supply_chain: Operator, code: str, expected: str) -> None:
    assert_one_line_error(supply_chain.run("passport", "commission", code, "--account", "2"), expected)
