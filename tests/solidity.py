"""The test-only Solidity in tests/contracts/ (not shipped, not in the artifacts' sources
hash), compiled with the package's pinned compiler once per session."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from chainpass import compiler
from chainpass.artifacts import COMPILER_SETTINGS, Artifact

TEST_CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"


@cache
def compile_test_contract(name: str) -> Artifact:
    """``tests/contracts/<name>.sol`` compiled with the package's pinned compiler, once per session
    (the other test contracts are sources too, so one may import another)."""
    import solcx

    sources = {path.name: {"content": path.read_text(encoding="utf-8")} for path in TEST_CONTRACTS_DIR.glob("*.sol")}
    output = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": sources,
            "settings": {
                "evmVersion": COMPILER_SETTINGS["evmVersion"],
                "optimizer": COMPILER_SETTINGS["optimizer"],
                "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
            },
        },
        solc_binary=compiler.SOLC_SHIM,
        allow_empty=False,
    )
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e.get("severity") == "error"]
    assert not errors, "\n".join(errors)
    compiled = output["contracts"][f"{name}.sol"][name]
    return _test_artifact(name, compiled)


@cache
def compile_conformance_contract(name: str) -> Artifact:
    """``tests/contracts/conformance/<name>.sol``, which sets chainpass's own code beside
    OpenZeppelin's, compiled with the pinned compiler for Cancun (OpenZeppelin 5.7's
    ``SignatureChecker``, ``MessageHashUtils`` and ``ERC721`` need ``mcopy``): it runs on
    the embedded EVM (Prague) only."""
    path = TEST_CONTRACTS_DIR / "conformance" / f"{name}.sol"
    ours = {unit: text for unit, text in compiler.source_files().items() if unit.startswith("contracts/")}
    sources = compiler.with_imports({path.name: path.read_text(encoding="utf-8"), **ours}, compiler.NODE_MODULES)
    # Code for this one contract only: the others are there to be imported.
    only = {path.name: {name: compiler.ARTIFACT_OUTPUT["*"]["*"]}}
    standard_json = compiler.standard_input(sources, only)
    standard_json["settings"]["evmVersion"] = "cancun"
    compiled = compiler.run_compiler(standard_json)["contracts"][path.name][name]
    return _test_artifact(name, compiled)


def _test_artifact(name: str, compiled: dict[str, Any]) -> Artifact:
    """A test contract's artifact from solc's output for it (no immutables, no sources hash)."""
    return Artifact(
        name=name,
        abi=compiled["abi"],
        bytecode=bytes.fromhex(compiled["evm"]["bytecode"]["object"]),
        deployed_bytecode=bytes.fromhex(compiled["evm"]["deployedBytecode"]["object"]),
        immutable_references=(),
        sources_hash="",
    )
