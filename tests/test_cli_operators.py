"""The CLI as operators meet it: nothing lost when a command is interrupted, exit codes a
script can trust, root options anywhere, numbers checked against the fields they land in."""

from __future__ import annotations

import json
import re
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from cli_world import PERSON, Operator, Result

from chainpass.chain import Chain
from chainpass.cli import hoist_root_options, main
from chainpass.errors import ConfirmationTimeout, TransactionFailed
from chainpass.identity import IdentityRegistry
from chainpass.node import AnvilNode, free_port


def _verify_args(op: Operator, holder: str, credential: Path, *more: str) -> list[str]:
    return ["identity", "verify", holder, "--attributes", str(op.home.parent / "person.json"), "--level", "high",
            "--valid-days", "30", "--credential-out", str(credential), "--account", "1", *more]  # fmt: skip


def _stop_while_confirming(monkeypatch: pytest.MonkeyPatch, how: str) -> list[Any]:
    """Make every wait for confirmations stop as ``how`` says, once the transaction is mined."""
    mined: list[Any] = []

    def stop(self: Chain, receipt: Any) -> Any:
        mined.append(receipt)
        assert self.w3.eth.get_transaction_receipt(receipt["transactionHash"])["status"] == 1  # mined
        if how == "interrupt":
            raise KeyboardInterrupt
        raise TransactionFailed(
            f"Transaction {bytes(receipt['transactionHash']).hex()} is in block {receipt['blockNumber']}, and the "
            f"chain did not reach {self.confirmations} confirmations on it within 120 s."
        )

    monkeypatch.setattr(Chain, "confirmed", stop)
    return mined


@pytest.mark.parametrize("how", ["interrupt", "timeout"])
@pytest.mark.parametrize("command", ["verify", "reverify"])
def test_a_credential_survives_a_stop_after_mining(
    deployed: Operator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    how: str,
) -> None:
    op, holder = deployed, deployed.accounts[6]
    credential = tmp_path / "credential.json"
    args = _verify_args(op, holder, credential)
    if command == "reverify":
        op.ok(*_verify_args(op, holder, tmp_path / "first.json"))
        args[1] = "reverify"
    mined = _stop_while_confirming(monkeypatch, how)

    result = op.run(*args, "--confirmations", "2")  # a root option, after the subcommand

    status = op.ok("identity", "status", holder, "--json").json()
    assert len(mined) == 1
    assert result.code == (130 if how == "interrupt" else 1)
    assert "Traceback" not in result.err and result.out == ""
    assert stat.S_IMODE(credential.stat().st_mode) == 0o600
    kept = json.loads(credential.read_text())
    assert kept["commitment"] == status["commitment"]  # the credential matches what is on chain
    assert {a["key"] for a in kept["attributes"]} >= set(PERSON)
    assert f"is on chain (commitment {status['commitment']})" in result.err
    assert str(credential) in result.err and "give it to the holder" in result.err


@pytest.mark.parametrize("how", ["interrupt", "timeout"])
def test_a_suspension_stopped_after_mining_gives_its_salt(
    deployed: Operator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """The salt of a suspension's reason exists only in the command: stopped after mining, it
    still prints it, and it matches the commitment on chain."""
    from chainpass.identity import SuspensionReason, reason_commitment

    op, holder = deployed, deployed.accounts[6]
    op.ok(*_verify_args(op, holder, tmp_path / "c.json"))
    mined = _stop_while_confirming(monkeypatch, how)

    result = op.run("identity", "suspend", holder, "--reason", "suspected_fraud", "--account", "1",
                    "--confirmations", "2")  # fmt: skip
    monkeypatch.undo()

    assert len(mined) == 1 and result.out == "" and "Traceback" not in result.err, result
    assert result.code == (130 if how == "interrupt" else 1)
    assert f"{holder} is suspended on chain: keep salt 0x" in result.err, result.err
    found = re.search(r"keep salt (0x[0-9a-f]{64}) with the case file", result.err)
    assert found is not None
    chain = Chain.connect(op.rpc)
    registry = IdentityRegistry.from_deployment(chain, _deployment_of(op, chain))
    on_chain = registry.suspension_commitment(bytes(mined[0]["transactionHash"]))
    assert on_chain == reason_commitment(holder, SuspensionReason.parse("suspected_fraud"),
                                         bytes.fromhex(found[1][2:]))  # fmt: skip


def _deployment_of(op: Operator, chain: Chain) -> Any:
    from chainpass.deployment import DeploymentStore, load_deployment

    return load_deployment(chain, DeploymentStore(op.home / "deployments"))


def test_a_stop_before_the_transaction_is_seen_keeps_the_credential_and_says_what_to_check(
    deployed: Operator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    op, holder = deployed, deployed.accounts[6]
    credential = tmp_path / "credential.json"

    def interrupted(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(IdentityRegistry, "verify", interrupted)
    result = op.run(*_verify_args(op, holder, credential))

    assert result.code == 130
    assert credential.exists() and stat.S_IMODE(credential.stat().st_mode) == 0o600
    commitment = json.loads(credential.read_text())["commitment"]
    assert f"identity status {holder}" in result.err and commitment in result.err
    assert "may still be mined" in result.err


@pytest.mark.parametrize("how", ["interrupt", "timeout"])
def test_an_import_stopped_after_mining_says_what_is_on_chain_and_what_to_run(
    supply_chain: Operator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    op = supply_chain
    items = [f"urn:epc:id:sgtin:9506000.013435.IMP{i:02d}" for i in range(10)]
    events = [{"type": "ObjectEvent", "eventTime": "2026-02-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
               "epcList": items, "action": "ADD", "bizStep": "commissioning"}] + [
        {"type": "ObjectEvent", "eventTime": f"2026-02-02T08:{i:02d}:00+08:00", "eventTimeZoneOffset": "+08:00",
         "epcList": [items[i % 10]], "action": "OBSERVE", "bizStep": "storing"}
        for i in range(60)
    ]  # fmt: skip
    document = tmp_path / "scans.jsonld"
    document.write_text(json.dumps({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
        "schemaVersion": "2.0", "creationDate": "2026-02-03T00:00:00Z", "epcisBody": {"eventList": events},
    }))  # fmt: skip
    waits: list[Any] = []

    def stop_at_the_second(self: Chain, receipt: Any) -> Any:
        waits.append(receipt)
        if len(waits) == 1:  # the commissioning: confirmed
            return receipt
        assert self.w3.eth.get_transaction_receipt(receipt["transactionHash"])["status"] == 1  # mined
        if how == "interrupt":
            raise KeyboardInterrupt
        raise ConfirmationTimeout(f"The chain did not reach {self.confirmations} confirmations in time.")

    monkeypatch.setattr(Chain, "confirmed", stop_at_the_second)
    stopped = op.run("epcis", "import", str(document), "--account", "2", "--confirmations", "2")
    monkeypatch.undo()
    again = op.ok("epcis", "import", str(document), "--account", "2", "--json").json()

    assert len(waits) == 2 and stopped.out == "" and "Traceback" not in stopped.err
    assert stopped.code == (130 if how == "interrupt" else 1)
    # The commissioning and the first batch of 50 observations are mined; 10 observations are left.
    assert f"51 of the 61 event(s) of {document} that can be imported are on chain now (the latest of them may " \
           "not be 2 blocks deep yet)" in stopped.err, stopped.err  # fmt: skip
    assert (
        f"run the same `chainpass epcis import {document}` again to import the other 10, from event 51" in stopped.err
    )
    assert (again["recorded"], again["already_on_chain"], again["refused"]) == (10, 51, 0)


def test_verifying_again_says_reverify_is_the_way_to_a_new_credential(
    deployed: Operator,
    tmp_path: Path,
) -> None:
    op, holder = deployed, deployed.accounts[6]
    op.ok(*_verify_args(op, holder, tmp_path / "first.json"))

    again = op.run(*_verify_args(op, holder, tmp_path / "second.json"))

    assert again.code == 1 and "is already verified" in again.err
    assert "`chainpass identity reverify` is the only way to give her a new one" in again.err
    assert not (tmp_path / "second.json").exists()  # refused before sending: nothing to keep


def test_exit_codes_separate_a_negative_answer_from_an_error(
    deployed: Operator,
    tmp_path: Path,
) -> None:
    op, holder, stranger = deployed, deployed.accounts[6], deployed.accounts[7]
    op.ok(*_verify_args(op, holder, tmp_path / "c.json"))

    assert op.run("identity", "status", holder).code == 0
    not_verified = op.run("identity", "status", stranger)
    error = op.run("identity", "status", "0x1234")
    usage = op.run("identity", "status")

    assert not_verified.code == 3 and "NOT VERIFIED" in not_verified.out and not_verified.err == ""
    assert error.code == 1 and error.err.startswith("error: ")
    assert usage.code == 2


def test_root_options_work_after_the_subcommand(deployed: Operator, capsys: pytest.CaptureFixture[str]) -> None:
    op, holder = deployed, deployed.accounts[6]
    # Operator.run puts --rpc/--home first; here they come last, with --json and --rpc=URL.
    for argv in (
        ["identity", "status", holder, "--json", "--rpc", op.rpc, "--home", str(op.home)],
        ["--json", "identity", "status", holder, f"--rpc={op.rpc}", f"--home={op.home}"],
    ):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        out = capsys.readouterr().out
        assert exited.value.code == 3 and json.loads(out)["holder"] == holder


def test_hoisting_leaves_a_subcommand_own_option_of_the_same_name() -> None:
    assert hoist_root_options(["index", "sync", "--confirmations", "3", "--rpc", "http://x"]) == [
        "--rpc", "http://x", "index", "sync", "--confirmations", "3",
    ]  # fmt: skip
    assert hoist_root_options(["identity", "status", "0xab", "--confirmations", "2"]) == [
        "--confirmations", "2", "identity", "status", "0xab",
    ]  # fmt: skip
    # The value of an option of the subcommand is never taken for a root option.
    assert hoist_root_options(["passport", "qr", "C", "--out", "--home"]) == ["passport", "qr", "C", "--out", "--home"]


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["identity", "verify", "{holder}", "--valid-days", "400000000"], 2, "--valid-days"),
        (["identity", "reverify", "{holder}", "--valid-days", "99999999999"], 2, "--valid-days"),
        (["consent", "grant", "{party}", "--days", str(10**30)], 2, "--days"),
        (["consent", "typed-data", "grant", "{holder}", "{party}", "--days", str(10**30)], 2, "--days"),
        (["consent", "typed-data", "rotate", "{holder}", "{party}", "--deadline-hours", str(10**12)], 2, "hours"),
        (["consent", "grant", "{party}", "--days", "12725000"], 1, "the latest time the contract stores"),
        (["--max-fee-gwei", "nan", "accounts"], 2, "--max-fee-gwei"),
        (["--max-fee-gwei", "inf", "accounts"], 2, "--max-fee-gwei"),
        (["--confirmations", str(10**30), "accounts"], 2, "--confirmations"),
        (["--wait", "nan", "accounts"], 2, "--wait"),
        (["--wait", "0", "accounts"], 2, "--wait"),
        (["--wait", "", "accounts"], 2, "--wait"),
        (["--wait", "1e9", "accounts"], 2, "--wait"),
        (["node", "--port", "99999"], 2, "--port"),
        (["identity", "verify", "{holder}", "--credential-out", "{file}/c.json"], 1, "is a file, not a folder"),
        (["identity", "disclose", "--credential", "{file}", "--attribute", "name", "--out", "{file}"], 1, "exists"),
    ],
)
def test_numbers_and_paths_are_checked_before_anything_is_sent(
    deployed: Operator,
    tmp_path: Path,
    args: list[str],
    code: int,
    expected: str,
) -> None:
    op = deployed
    blocker = tmp_path / "a-file"
    blocker.write_text("{}")
    fill = {"{holder}": op.accounts[6], "{party}": op.accounts[2], "{file}": str(blocker)}
    argv = [a.replace(k, v) for a in args for k, v in [next(((k, v) for k, v in fill.items() if k in a), ("", ""))]]
    if argv[:2] in (["identity", "verify"], ["identity", "reverify"]):
        argv += ["--attributes", str(tmp_path / "person.json"), "--level", "low", "--account", "1"]
        if "--credential-out" not in argv:
            argv += ["--credential-out", str(tmp_path / "c.json")]
    if argv[:2] == ["consent", "grant"]:
        argv += ["--account", "6"]
    head = op.ok("identity", "history", op.accounts[6], "--json").out

    result: Result = op.run(*argv)

    assert result.code == code, result
    assert "Traceback" not in result.err and expected in result.err
    assert op.ok("identity", "history", op.accounts[6], "--json").out == head  # nothing was sent
    assert not (tmp_path / "c.json").exists()


def test_two_local_nodes_with_one_chain_id_keep_their_own_records_and_indexes(
    deployed: Operator,
) -> None:
    op = deployed  # deployed on the session's Anvil (chain 31337), node A
    records = op.home / "deployments"
    a_record = {p.name: p.read_bytes() for p in records.iterdir()}
    op.ok("index", "sync")
    # Anvil's genesis block is made from the time it starts: start B in a later second than A.
    genesis_time = Chain.connect(op.rpc).w3.eth.get_block(0)["timestamp"]
    time.sleep(max(0.0, genesis_time + 1.05 - time.time()))
    with AnvilNode(port=free_port()) as other:  # node B: chain 31337 too, another genesis
        on_b = op.run("identity", "status", op.accounts[6], rpc=other.url)
        first = json.loads(op.run("deploy", "--json", rpc=other.url).out)
        again = json.loads(op.run("deploy", "--json", rpc=other.url).out)
        replaced = json.loads(op.run("deploy", "--replace", "--json", rpc=other.url).out)
        index_on_b = op.run("index", "status", rpc=other.url)

    assert on_b.code == 1 and "No deployment record for this node's chain (chain id 31337" in on_b.err
    assert first["created"] is True and again["created"] is False and replaced["created"] is True
    assert Path(first["record"]).name not in a_record and first["record"] == replaced["record"]
    assert {p.name: p.read_bytes() for p in records.iterdir() if p.name in a_record} == a_record  # A's untouched
    assert index_on_b.code == 1 and "index sync" in index_on_b.err  # A's index is not B's
    status = op.run("index", "status", "--json")
    assert status.code == 0 and status.json()["behind"] == 0
    assert op.run("identity", "status", op.accounts[6]).code == 3  # A still works from its record


def test_a_transaction_that_would_change_nothing_is_refused_before_it_costs_gas(
    deployed: Operator,
) -> None:
    op, bureau, bank = deployed, deployed.accounts[1], deployed.accounts[2]
    chain = Chain.connect(op.rpc)
    head = chain.w3.eth.block_number

    again = [
        op.run("identity", "appoint-authority", bureau, "--max-level", "high"),
        op.run("identity", "appoint-relying-party", bank, "--sector", "bank"),
        op.run("identity", "remove-authority", op.accounts[7]),
        op.run("identity", "remove-relying-party", op.accounts[7]),
        op.run("consent", "withdraw", bank, "--account", "6"),
    ]
    changed = op.run("identity", "appoint-authority", bureau, "--max-level", "low")

    for result in again:
        assert result.code == 1 and "nothing to change, so no transaction was sent" in result.err, result
    assert chain.w3.eth.block_number == head + 1  # only the real change was mined
    assert changed.code == 0


def test_passport_brand_consent_and_governance_no_ops_are_refused_before_they_cost_gas(
    supply_chain: Operator,
    tmp_path: Path,
) -> None:
    op, producer, carrier = supply_chain, supply_chain.accounts[2], supply_chain.accounts[3]
    code, gtin = "(01)09506000134352(21)NOOP1", "09506000134352"
    op.ok(*_verify_args(op, op.accounts[6], tmp_path / "c.json"))
    op.ok("passport", "commission", code, "--account", "2")
    op.ok("brand", "license", "9506000", carrier, "--gtin", gtin, "--account", "2")
    op.ok("consent", "grant", op.accounts[2], "--until", "2030-01-01", "--account", "6")
    op.ok("identity", "transfer-governance", op.accounts[8])
    chain = Chain.connect(op.rpc)
    head = chain.w3.eth.block_number

    again = {
        "roles": op.run("passport", "set-roles", producer, "--role", "producer"),
        "owner": op.run("passport", "transfer", code, producer, "--account", "2"),
        "gtin licence": op.run("brand", "license", "9506000", carrier, "--gtin", gtin, "--account", "2"),
        "no prefix licence": op.run("brand", "license", "9506000", carrier, "--revoke", "--account", "2"),
        "no gtin licence": op.run(
            "brand", "license", "9506000", op.accounts[4], "--gtin", gtin, "--revoke", "--account", "2"
        ),
        "consent": op.run("consent", "grant", op.accounts[2], "--until", "2030-01-01", "--account", "6"),
        "offered": op.run("identity", "transfer-governance", op.accounts[8]),
        "governor": op.run("identity", "transfer-governance", op.accounts[0]),
    }
    assert chain.w3.eth.block_number == head  # nothing was sent
    for what, result in again.items():
        assert result.code == 1 and "nothing to change, so no transaction was sent" in result.err, (what, result)
    assert "acts as producer already" in again["roles"].err
    assert f"{code} belongs to {producer} already" in again["owner"].err
    # Real changes still go through: a prefix licence on top of the GTIN one, other roles,
    # a later consent.
    op.ok("brand", "license", "9506000", carrier, "--account", "2")
    op.ok("passport", "set-roles", producer, "--role", "producer", "--role", "inspector")
    op.ok("consent", "grant", op.accounts[2], "--until", "2030-01-02", "--account", "6")
    assert chain.w3.eth.block_number == head + 3
    twice = op.run("brand", "license", "9506000", carrier, "--account", "2")
    assert twice.code == 1 and "may commission under GS1 company prefix 9506000 already" in twice.err


def test_messages_name_what_the_user_typed(
    supply_chain: Operator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    op, holder = supply_chain, supply_chain.accounts[6]
    monkeypatch.delenv("CHAINPASS_PASSWORD", raising=False)
    op.ok(*_verify_args(op, holder, tmp_path / "c.json"))
    op.ok("consent", "grant", op.accounts[2], "--days", "30", "--account", "6")
    code = "(01)09506000134352(21)TYPED1"
    op.ok("passport", "commission", code, "--account", "2")

    twice = op.run("passport", "commission", code, "--account", "2")
    unknown = op.run("identity", "check", holder, "--account", "nobody")
    negative = op.run("identity", "check", holder, "--account", "-1")
    past = op.run("consent", "grant", op.accounts[2], "--until", "2001-02-03", "--account", "6")
    history = op.ok("identity", "history", holder).out

    assert twice.code == 1 and f"Passport {code} exists already" in twice.err
    assert unknown.code == 1 and "No account named 'nobody'" in unknown.err  # not "no terminal for a password"
    assert negative.code == 1 and "dev accounts are numbered from 0" in negative.err
    assert past.code == 1 and "2001-02-03" in past.err and "981158400" not in past.err
    assert "ConsentGranted    by the holder" in history and "None" not in history


def test_passports_are_named_by_their_codes_not_their_ids(
    supply_chain: Operator,
    tmp_path: Path,
) -> None:
    """Trace, verify, show, accept and the refusals name the inputs and containers of what the
    user typed by their GS1 codes, not by passport ids."""
    op, retailer = supply_chain, supply_chain.accounts[4]
    paddy, rice = "(01)09506000134352(10)PADDY1", "(01)09506000134352(21)RICE1"
    case, case_code = "https://id.example.org/01/09506000134352/21/CASE1", "(01)09506000134352(21)CASE1"
    op.ok("passport", "commission", paddy, "--account", "2")
    op.ok("passport", "transform", "MILL-1", "--input", paddy, "--output", rice, "--account", "2")
    op.ok("passport", "commission", case, "--tier", "1", "--account", "2")
    op.ok("passport", "pack", case, rice, "--tier", "1", "--account", "2")
    op.ok("passport", "event", case, "--tier", "1", "--biz-step", "shipping", "--disposition", "in_transit",
          "--account", "2")  # fmt: skip
    op.ok("passport", "recall", paddy, "--account", "2")
    offer = tmp_path / "offer.json"

    trace = op.ok("passport", "trace", rice).out
    verdict = op.no("passport", "verify", rice).out
    shown = op.ok("passport", "show", rice).out
    packed_offer = op.run("passport", "offer", rice, "--to", retailer, "--account", "2")
    op.ok("passport", "offer", case, "--tier", "1", "--to", retailer, "--account", "2", "--out", str(offer))
    accepted = op.ok("passport", "accept", str(offer), "--account", "4").out
    not_held = op.run("passport", "unpack", rice, "--account", "2")
    packed_reclaim = op.run("passport", "reclaim", rice, "--account", "2")

    assert f"(on input {paddy})" in trace and f"packed into {case_code}" in trace
    assert f"(via container {case_code})" in trace
    assert f"RECALLED (recall of {paddy}, which it came from or was in)" in verdict
    assert f"inside {case_code}" in shown
    assert packed_offer.code == 1 and f"is packed in container {case_code}: hand over the container" in packed_offer.err
    assert f"{retailer} now holds {case_code}" in accepted
    assert not_held.code == 1 and f"who holds the goods of passport {case_code}," in not_held.err
    assert packed_reclaim.code == 1 and f"is packed in container {case_code}:" in packed_reclaim.err
    for text in (trace, verdict, accepted, not_held.err, packed_reclaim.err, packed_offer.err):
        assert re.search(r"0x[0-9a-f]{48,64}\b|[0-9a-f]{8}…[0-9a-f]{4}", text) is None, text


def test_an_offer_is_signed_without_a_node_and_taken_with_one(
    supply_chain: Operator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chainpass.backend import ANVIL_DEV_KEYS

    op, retailer = supply_chain, supply_chain.accounts[4]
    code = "(01)09506000134352(21)OFFLINE1"
    monkeypatch.setenv("CHAINPASS_PASSWORD", "offline offers")
    monkeypatch.setenv("CHAINPASS_PRIVATE_KEY", ANVIL_DEV_KEYS[2])  # the producer's key, in a keystore
    op.ok("account", "import", "coop")
    op.ok("passport", "commission", code, "--account", "2")
    shown = op.ok("passport", "show", code, "--json").json()
    no_node = f"http://127.0.0.1:{free_port()}"  # nothing listens: no node is asked
    signed = tmp_path / "offer.json"

    def offline(*args: str) -> Result:
        # A year: the deadline counts from this computer's clock, and the shared test node's
        # clock may run ahead of it (other modules move it).
        return op.run("passport", "offer", code, "--to", retailer, "--account", "coop", "--nonce",
                      str(shown["custody_nonce"]), "--valid-hours", "8760", *args, rpc=no_node)  # fmt: skip

    made = offline("--chain-id", "31337", "--out", str(signed))  # the record gives the contract
    by_option = offline("--contract", _contract(op), "--json")  # the record gives the chain id
    dev_account = op.run("passport", "offer", code, "--to", retailer, "--nonce", "0", rpc=no_node)
    elsewhere = op.run("passport", "offer", code, "--to", retailer, "--account", "coop", "--nonce", "0",
                       rpc=no_node, home=tmp_path / "empty-home")  # fmt: skip
    taken = op.ok("passport", "accept", str(signed), "--account", "4")

    assert made.code == 0, made.err
    typed = json.loads(signed.read_text())["typedData"]
    assert typed["domain"]["chainId"] == 31337 and typed["domain"]["verifyingContract"] == _contract(op)
    assert typed["message"]["nonce"] == shown["custody_nonce"] and typed["message"]["to"] == retailer
    assert by_option.code == 0 and by_option.json()["typedData"]["domain"] == typed["domain"]
    assert dev_account.code == 1 and "keystore" in dev_account.err
    assert elsewhere.code == 1 and "No deployment record of ProductPassport" in elsewhere.err
    assert "--contract ADDRESS and --chain-id ID" in elsewhere.err
    assert f"{retailer} now holds {code}" in taken.out
    assert op.ok("passport", "show", code, "--json").json()["custodian"] == retailer


def _contract(op: Operator) -> str:
    records = [json.loads(p.read_text()) for p in (op.home / "deployments").glob("*.json")]
    return str(records[0]["contracts"]["ProductPassport"]["address"])


def test_times_in_refusals_are_dates_and_the_arguments_stay_numbers() -> None:
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector

    from chainpass.reverts import decode_revert

    data = function_signature_to_4byte_selector("IdentityExpiryNotInFuture(uint40,uint256)") + encode(
        ["uint40", "uint256"], [981158400, 1798950879]
    )
    revert = decode_revert(data)

    assert revert is not None
    assert "2001-02-03 00:00:00 UTC" in str(revert) and "2027-01-03 04:34:39 UTC" in str(revert)
    assert revert.error_args == {"expiresAt": 981158400, "nowTime": 1798950879}


@pytest.mark.parametrize(
    "signature",
    ["IdentityNotCompromised(address,uint40)", "IdentityInvalidCompromise(address,uint40,uint40)",
     "PassportEventInFuture(uint40,uint256)"],
)  # fmt: skip
def test_every_time_in_a_refusal_is_a_date(signature: str) -> None:
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector

    from chainpass.reverts import decode_revert

    types = signature[signature.index("(") + 1 : -1].split(",")
    values = ["0x" + "11" * 20 if t == "address" else 1796372039 + i for i, t in enumerate(types)]
    revert = decode_revert(function_signature_to_4byte_selector(signature) + encode(types, values))

    assert revert is not None
    times = sum(1 for t in types if t != "address")
    assert str(revert).count(" UTC (Unix time 17963720") == times, str(revert)  # each a date, the number beside
