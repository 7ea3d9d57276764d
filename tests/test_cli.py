"""The `chainpass` CLI against a real Anvil node: the operator's flow and every bad input."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chainpass.cli import main
from chainpass.node import AnvilNode, free_port

PERSON = {
    "name": "Li Wei",
    "date_of_birth": "1990-02-03",
    "national_id": "41022519900203123X",
    "address": "Lankao",
}


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Operator:
    """Runs CLI commands against one node with its own chainpass home."""

    capsys: pytest.CaptureFixture[str]
    rpc: str
    home: Path
    accounts: list[str]

    def run(self, *args: str, rpc: str | None = None, home: Path | None = None) -> Result:
        argv = ["--rpc", rpc or self.rpc, "--home", str(home or self.home), *args]
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = self.capsys.readouterr()
        return Result(code, out, err)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.code == 0, result.err
        return result


@pytest.fixture
def operator(anvil_node: AnvilNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Operator:
    op = Operator(capsys, anvil_node.url, tmp_path / "home", [])
    op.accounts = [row["address"] for row in op.ok("accounts", "--json").json()]
    return op


@pytest.fixture
def deployed(operator: Operator, tmp_path: Path) -> Operator:
    """A fresh deployment with the bureau (1) as authority and the bank (2) as relying party."""
    operator.ok("deploy")
    operator.ok("identity", "appoint-authority", operator.accounts[1], "--max-level", "high")
    operator.ok("identity", "appoint-relying-party", operator.accounts[2], "--sector", "bank")
    (tmp_path / "person.json").write_text(json.dumps(PERSON))
    return operator


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
    }


def test_operator_flow(deployed: Operator, tmp_path: Path) -> None:
    op, holder = deployed, deployed.accounts[6]
    credential = tmp_path / "credential.json"

    verified = op.ok(
        "identity", "verify", holder, "--attributes", str(tmp_path / "person.json"), "--level", "high",
        "--valid-days", "30", "--credential-out", str(credential), "--account", "1", "--json",
    ).json()  # fmt: skip
    status = op.ok("identity", "status", holder, "--json").json()
    check = op.ok("identity", "check", holder, "--account", "2", "--json").json()

    assert stat.S_IMODE(credential.stat().st_mode) == 0o600
    assert json.loads(credential.read_text())["commitment"] == verified["commitment"] == status["commitment"]
    assert status["valid"] is True and status["level"] == "high" and status["issuer"] == op.accounts[1]
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
    suspended = op.ok("identity", "check", holder, "--account", "2", "--json").json()
    op.ok("identity", "reinstate", holder, "--account", "1")
    reinstated = op.ok("identity", "check", holder, "--account", "2")
    assert suspended["valid"] is False and suspended["standing"] == "suspended"
    assert "VERIFIED" in reinstated.out and "NOT" not in reinstated.out

    checks = op.ok("identity", "history", holder, "--checks", "--json").json()
    assert [c["standing"] for c in checks] == ["valid", "suspended", "valid"]
    events = [e["event"] for e in op.ok("identity", "history", holder, "--json").json()]
    assert events[:3] == ["HolderVerified", "HolderChecked", "HolderSuspended"]


def _assert_one_line_error(result: Result, expected: str) -> None:
    assert result.code == 1
    assert "Traceback" not in result.err + result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    assert expected in lines[0]


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
        ("unknown account", "is not unlocked on this node"),
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
        document = json.loads(
            op.ok("identity", "disclose", "--credential", str(credential), "--attribute", "name").out
        )
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

    _assert_one_line_error(result, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing half-written


def test_no_deployment_record(operator: Operator, tmp_path: Path) -> None:
    result = operator.run("identity", "status", operator.accounts[6], home=tmp_path / "empty")
    _assert_one_line_error(result, "run `chainpass deploy`")


def test_unreachable_node(operator: Operator) -> None:
    result = operator.run("identity", "status", operator.accounts[6], rpc=f"http://127.0.0.1:{free_port()}")
    _assert_one_line_error(result, "No Ethereum node answers")


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
    _assert_one_line_error(stale, "no code there")
    assert replaced["created"] is True


def test_deploy_script_matches_the_cli(anvil_node: AnvilNode, tmp_path: Path) -> None:
    script = Path(__file__).resolve().parent.parent / "scripts" / "deploy.py"
    command = [sys.executable, str(script), "--rpc", anvil_node.url, "--home", str(tmp_path)]

    first = subprocess.run(command, capture_output=True, text=True, check=True)
    second = subprocess.run(command, capture_output=True, text=True, check=True)

    assert first.stdout.startswith("deployed IdentityRegistry at ")
    assert second.stdout.startswith("found IdentityRegistry at ")
    assert first.stdout.split()[3] == second.stdout.split()[3]


def test_demo_command_runs_on_the_embedded_chain(capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo"])
    out = capsys.readouterr().out
    assert "Chain: embedded" in out
    assert "The bank's next check: suspended" in out
