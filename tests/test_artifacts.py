"""The shipped contract artifacts are what the sources compile to (`chainpass.compiler`, `artifacts`).

Runs the real compiler (solc-js through tools/solc), so it needs node_modules. Test-only
contracts live in tests/contracts/, outside the sources the artifacts are built from.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from support import require_shared

from chainpass import compiler
from chainpass.artifacts import (
    ARTIFACT_DIR,
    COMPILER_SETTINGS,
    DEPLOYABLE_CONTRACTS,
    FINANCE_CONTRACTS,
    SAFE_CONTRACTS,
    TIMELOCK_CONTRACT,
    event_topic,
    load_artifact,
)


@pytest.fixture(scope="module")
def compiled() -> dict[str, dict[str, Any]]:
    """A fresh compilation of contracts/, once for the module."""
    return compiler.compile_contracts(compiler.source_files(), DEPLOYABLE_CONTRACTS + FINANCE_CONTRACTS)


def test_shipped_artifacts_are_not_stale(compiled: dict[str, dict[str, Any]]) -> None:
    assert sorted(compiled) == sorted(DEPLOYABLE_CONTRACTS + FINANCE_CONTRACTS)
    assert compiler.stale_artifacts(compiled) == []


@pytest.mark.parametrize("name", DEPLOYABLE_CONTRACTS + FINANCE_CONTRACTS)
def test_recorded_sources_hash_matches_the_sources(name: str) -> None:
    artifact = load_artifact(name)

    assert artifact.sources_hash == compiler.sources_hash(compiler.source_files())


@pytest.mark.parametrize("name", DEPLOYABLE_CONTRACTS + FINANCE_CONTRACTS)
def test_artifact_records_the_pinned_compiler(name: str) -> None:
    data = json.loads((ARTIFACT_DIR / f"{name}.json").read_text(encoding="utf-8"))

    assert data["compiler"] == COMPILER_SETTINGS
    assert data["contractName"] == name


def test_source_files_are_every_solidity_file_and_the_npm_files_they_import() -> None:
    sources = compiler.source_files()

    ours = {name for name in sources if name.startswith("contracts/")}
    assert ours == {
        "contracts/DevStablecoin.sol",
        "contracts/IdentityRegistry.sol",
        "contracts/ProductPassport.sol",
        "contracts/TradeFinance.sol",
        "contracts/interfaces/IIdentityRegistry.sol",
        "contracts/interfaces/IProductPassport.sol",
        "contracts/interfaces/ITradeFinance.sol",
        "contracts/libraries/AttributeProof.sol",
        "contracts/libraries/SignatureCheck.sol",
    }
    # OpenZeppelin's (audited) ECDSA, MerkleProof, ERC20, SafeERC20, ReentrancyGuard and
    # interfaces, and what they import, from the pinned npm package: nothing that needs
    # Cancun's mcopy (Strings, Bytes), which this build's Shanghai lacks.
    identity_and_passports = {
        "@openzeppelin/contracts/interfaces/IERC1271.sol",
        "@openzeppelin/contracts/interfaces/IERC5267.sol",
        "@openzeppelin/contracts/utils/cryptography/ECDSA.sol",
        "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol",
        "@openzeppelin/contracts/utils/cryptography/Hashes.sol",
    }
    assert set(sources) - ours == identity_and_passports | FINANCE_IMPORTS
    assert all("pragma solidity 0.8.37;" in sources[name] for name in ours)


#: What the trade-finance contracts import from OpenZeppelin (issue 17).
FINANCE_IMPORTS = {
    "@openzeppelin/contracts/interfaces/IERC1363.sol",
    "@openzeppelin/contracts/interfaces/IERC165.sol",
    "@openzeppelin/contracts/interfaces/IERC20.sol",
    "@openzeppelin/contracts/interfaces/IERC20Metadata.sol",
    "@openzeppelin/contracts/interfaces/draft-IERC6093.sol",
    "@openzeppelin/contracts/token/ERC20/ERC20.sol",
    "@openzeppelin/contracts/token/ERC20/IERC20.sol",
    "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol",
    "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol",
    "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol",
    "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol",
    "@openzeppelin/contracts/utils/Context.sol",
    "@openzeppelin/contracts/utils/Nonces.sol",
    "@openzeppelin/contracts/utils/ReentrancyGuard.sol",
    "@openzeppelin/contracts/utils/StorageSlot.sol",
    "@openzeppelin/contracts/utils/introspection/IERC165.sol",
}


def test_sources_hash_changes_with_any_source() -> None:
    sources = compiler.source_files()
    edited = {**sources, "contracts/IdentityRegistry.sol": sources["contracts/IdentityRegistry.sol"] + "\n"}
    renamed = {("contracts/Renamed.sol" if k.endswith("AttributeProof.sol") else k): v for k, v in sources.items()}

    digests = {compiler.sources_hash(s) for s in (sources, edited, renamed)}

    assert len(digests) == 3
    assert compiler.sources_hash(dict(reversed(sources.items()))) == compiler.sources_hash(sources)


def test_stale_artifacts_detects_a_changed_or_missing_file(compiled: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    changed_name, *others = compiled
    for name in others:
        (tmp_path / f"{name}.json").write_text(compiler.render(compiled[name]), encoding="utf-8")
    changed = json.loads(compiler.render(compiled[changed_name]))
    changed["bytecode"] += "00"
    (tmp_path / f"{changed_name}.json").write_text(compiler.render(changed), encoding="utf-8")

    assert compiler.stale_artifacts(compiled, tmp_path) == [changed_name]
    assert compiler.stale_artifacts(compiled, tmp_path / "missing") == list(compiled)
    (tmp_path / f"{changed_name}.json").write_text(compiler.render(compiled[changed_name]), encoding="utf-8")
    assert compiler.stale_artifacts(compiled, tmp_path) == []


def test_loaded_artifact_matches_its_file() -> None:
    artifact = load_artifact("IdentityRegistry")
    data = json.loads((ARTIFACT_DIR / "IdentityRegistry.json").read_text(encoding="utf-8"))

    assert artifact.bytecode.hex() == data["bytecode"].removeprefix("0x")
    assert artifact.deployed_bytecode.hex() == data["deployedBytecode"].removeprefix("0x")
    assert artifact.immutable_references == tuple(tuple(r) for r in data["immutableReferences"])
    assert artifact.sources_hash == data["sourcesHash"]
    assert 0 < len(artifact.deployed_bytecode) < len(artifact.bytecode)
    assert event_topic(artifact.abi, "HolderChecked") == keccak(text="HolderChecked(address,address,uint8)")


def test_immutable_references_cover_the_recovery_delay() -> None:
    """The recovery delay, read in two places: 32-byte slots, filled in at deployment. (The
    domain separator is no immutable: behind a proxy it must name the proxy.)"""
    artifact = load_artifact("IdentityRegistry")
    references = artifact.immutable_references

    assert references == tuple(sorted(references))
    assert len(references) >= 2
    assert {length for _, length in references} == {32}
    assert all(start >= 0 and start + length <= len(artifact.deployed_bytecode) for start, length in references)
    assert all(a + la <= b for (a, la), (b, _) in itertools.pairwise(references))  # no overlaps
    # Unfilled, as the compiler leaves them.
    assert all(artifact.deployed_bytecode[s : s + n] == bytes(n) for s, n in references)


def test_built_this_ignores_immutables_and_nothing_else() -> None:
    artifact = load_artifact("IdentityRegistry")
    code = artifact.deployed_bytecode
    start, length = artifact.immutable_references[0]
    filled = bytearray(code)
    for s, n in artifact.immutable_references:
        filled[s : s + n] = (s * 7919).to_bytes(n, "big")  # any value, as a deployment writes
    outside = next(i for i in range(len(code)) if all(not s <= i < s + n for s, n in artifact.immutable_references))
    altered = bytearray(filled)
    altered[outside] ^= 0x01

    assert bytes(filled) != code and artifact.built_this(bytes(filled))
    assert artifact.built_this(code)
    assert not artifact.built_this(bytes(altered))
    assert not artifact.built_this(bytes(filled) + b"\x00")
    assert not artifact.built_this(bytes(filled)[:-1])
    assert not artifact.built_this(b"")
    assert not artifact.built_this(code[: start + length])


def test_shipped_governance_artifacts_are_not_stale() -> None:
    """The Safe's npm build is copied unchanged; the TimelockController artifact records the hash of
    OpenZeppelin's npm sources it was compiled from, with our settings (a full recompilation, 20 s
    more, is `python -m chainpass.compiler --check`)."""
    timelock = json.loads((ARTIFACT_DIR / f"{TIMELOCK_CONTRACT}.json").read_text(encoding="utf-8"))
    npm_safe = json.loads(
        (
            compiler.NODE_MODULES / compiler.SAFE_PACKAGE / "build/artifacts/contracts" / compiler.SAFE_BUILDS["Safe"]
        ).read_text(encoding="utf-8")
    )

    assert compiler.stale_artifacts(compiler.safe_artifacts()) == []
    assert sorted(compiler.safe_artifacts()) == sorted(SAFE_CONTRACTS)
    assert load_artifact("Safe").bytecode.hex() == npm_safe["bytecode"].removeprefix("0x")
    assert timelock["sourcesHash"] == compiler.sources_hash(compiler.npm_sources(compiler.TIMELOCK_SOURCE))
    assert timelock["compiler"] == COMPILER_SETTINGS


def test_a_missing_shared_folder_skips_on_a_laptop_and_fails_in_ci(tmp_path: Path) -> None:
    absent = tmp_path / "shared" / "epcis"
    with pytest.raises(pytest.skip.Exception, match="is absent"):
        require_shared(absent, {})
    with pytest.raises(pytest.fail.Exception, match="with CI=true the conformance tests must run"):
        require_shared(absent, {"CI": "true"})
    absent.mkdir(parents=True)
    require_shared(absent, {"CI": "true"})  # present: nothing to say


def test_hidden_folders_under_contracts_are_not_sources(tmp_path: Path) -> None:
    """`ape compile` copies its npm dependencies into contracts/.cache/: they are not ours."""
    contracts = tmp_path / "contracts"
    (contracts / ".cache" / "dep").mkdir(parents=True)
    (contracts / "Ours.sol").write_text("pragma solidity 0.8.37;\ncontract Ours {}\n")
    (contracts / ".cache" / "dep" / "Theirs.sol").write_text("pragma solidity 0.8.37;\ncontract Theirs {}\n")

    assert list(compiler.source_files(contracts)) == ["contracts/Ours.sol"]
