"""The Slither gate (`make slither`, scripts/slither_check.py) fails when it should.

Each test builds a small contract in a temporary project through the same path as the
real check (chainpass.compiler.compile_for_analysis, the solc-js shim, Slither in
process), so it needs node_modules and the dev extra's slither-analyzer.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from chainpass.compiler import REPO_ROOT

# `tx.origin` for authorisation: Slither's tx-origin detector (impact Medium) finds it.
VAULT = """// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

contract Vault {
    address private immutable _owner;

    constructor() {
        _owner = msg.sender;
    }

    function sweep(address payable to) external {
        require(tx.origin == _owner, "not the owner");
        to.transfer(address(this).balance);
    }
}
"""
SWEEP_LINE = VAULT.splitlines().index("    function sweep(address payable to) external {") + 1


def _load_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("slither_check", REPO_ROOT / "scripts" / "slither_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


check = _load_check()


def _project(root: Path, source: str = VAULT) -> Path:
    contracts = root / "contracts"
    contracts.mkdir(parents=True, exist_ok=True)
    (contracts / "Vault.sol").write_text(source, encoding="utf-8")
    return contracts


def _run(contracts: Path, triage: Path, *extra: str) -> int:
    result: int = check.main(["--contracts", str(contracts), "--triage", str(triage), *extra])
    return result


def _findings(contracts: Path, triage: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    _run(contracts, triage, "--json")
    found: list[dict[str, str]] = json.loads(capsys.readouterr().out)["findings"]
    return found


def _triage_all(path: Path, findings: list[dict[str, str]], extra: str = "") -> None:
    entries = [
        f'[[finding]]\nid = "{f["id"]}"\ndetector = "{f["detector"]}"\nwhere = "{f["where"]}"\nreason = "reviewed"\n'
        for f in findings
    ]
    path.write_text("\n".join(entries) + extra, encoding="utf-8")


def test_an_untriaged_finding_fails_with_its_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    contracts = _project(tmp_path)
    triage = tmp_path / "slither-triage.toml"
    triage.write_text("# nothing reviewed yet\n", encoding="utf-8")

    assert _run(contracts, triage) == 1
    err = capsys.readouterr().err
    assert f"contracts/Vault.sol:{SWEEP_LINE}: untriaged Slither finding" in err
    assert "(tx-origin, impact Medium" in err
    assert "in Vault.sweep(address):" in err
    # The entry to paste, should the finding be safe.
    assert 'detector = "tx-origin"\nwhere = "Vault.sweep(address)"' in err


def test_triaged_findings_pass_and_a_stale_entry_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    contracts = _project(tmp_path)
    triage = tmp_path / "slither-triage.toml"
    findings = _findings(contracts, triage, capsys)
    assert "tx-origin" in {f["detector"] for f in findings}

    _triage_all(triage, findings)
    assert _run(contracts, triage) == 0
    assert f"slither: {len(findings)} findings, all triaged" in capsys.readouterr().out

    # The code is fixed: the tx-origin entry now matches nothing and must go.
    _project(tmp_path, VAULT.replace("tx.origin == _owner", "msg.sender == _owner"))
    assert _run(contracts, triage) == 1
    tx_origin = next(f for f in findings if f["detector"] == "tx-origin")
    assert (
        f"triage entry {tx_origin['id']} (tx-origin in Vault.sweep(address)) matches no current finding: remove it"
        in capsys.readouterr().err
    )


def test_a_finding_id_survives_an_unrelated_line_shift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    triage = tmp_path / "none.toml"
    before = _findings(_project(tmp_path / "a"), triage, capsys)
    shifted = VAULT.replace("contract Vault {", "/// A vault.\n/// Two lines longer.\ncontract Vault {")
    after = _findings(_project(tmp_path / "b", shifted), triage, capsys)

    assert {f["id"] for f in before} == {f["id"] for f in after}
    origin_before = next(f for f in before if f["detector"] == "tx-origin")
    origin_after = next(f for f in after if f["detector"] == "tx-origin")
    assert origin_before["location"] == f"contracts/Vault.sol:{SWEEP_LINE}"
    assert origin_after["location"] == f"contracts/Vault.sol:{SWEEP_LINE + 2}"


def test_findings_inside_dependencies_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The dependency (an npm package, as OpenZeppelin's) holds the tx.origin check; our
    # contract only inherits it.
    dependency = tmp_path / "node_modules" / "@openzeppelin" / "contracts" / "vendor" / "Vault.sol"
    dependency.parent.mkdir(parents=True)
    dependency.write_text(VAULT, encoding="utf-8")
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "Safe.sol").write_text(
        "// SPDX-License-Identifier: Apache-2.0\npragma solidity 0.8.37;\n\n"
        'import {Vault} from "@openzeppelin/contracts/vendor/Vault.sol";\n\ncontract Safe is Vault {}\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    _run(contracts, tmp_path / "none.toml", "--json", "--node-modules", str(tmp_path / "node_modules"))
    findings = json.loads(capsys.readouterr().out)["findings"]

    assert "tx-origin" not in {f["detector"] for f in findings}
    assert all(f["location"].startswith("contracts/") for f in findings)


def test_the_triage_file_refuses_malformed_entries(tmp_path: Path) -> None:
    triage = tmp_path / "t.toml"
    triage.write_text('[[finding]]\nid = "ab"\ndetector = "tx-origin"\nwhere = "Vault.sweep(address)"\n')
    with pytest.raises(check.TriageFileError, match="entry 1 needs reason"):
        check.load_triage(triage)
    triage.write_text('[[finding]]\nid = "ab"\ndetector = "d"\nwhere = "w"\nreason = """two\nlines"""\n')
    with pytest.raises(check.TriageFileError, match="must be one line"):
        check.load_triage(triage)
    entry = '[[finding]]\nid = "ab"\ndetector = "d"\nwhere = "w"\nreason = "r"\n'
    triage.write_text(entry + entry)
    with pytest.raises(check.TriageFileError, match="triaged twice"):
        check.load_triage(triage)


def test_every_committed_triage_entry_has_a_real_reason() -> None:
    entries = check.load_triage(check.TRIAGE_FILE)
    assert entries
    for entry in entries:
        assert len(entry.id) == 16 and int(entry.id, 16) >= 0
        assert "TODO" not in entry.reason and len(entry.reason) > 20


def test_a_contract_that_does_not_compile_is_a_sentence_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contracts = _project(tmp_path, VAULT.replace("_owner = msg.sender;", "_owner = sender;"))
    assert _run(contracts, tmp_path / "none.toml") == 2
    err = capsys.readouterr().err
    assert err.startswith("slither check: the contracts do not compile:\nDeclarationError: Undeclared identifier.")
    assert "contracts/Vault.sol:8:" in err and "Traceback" not in err
