"""ape's build of contracts/ is chainpass's: same compiler (the solc shim), same settings."""

from __future__ import annotations

from typing import Any

import pytest

from chainpass.artifacts import DEPLOYABLE_CONTRACTS, load_artifact


def without_metadata(code: bytes) -> bytes:
    """The code without solc's CBOR metadata trailer (its length is in the last two bytes).

    ape-solidity keeps the IPFS hash of the metadata; chainpass/compiler.py sets
    bytecodeHash none: that trailer is the only difference allowed.
    """
    return code[: -(int.from_bytes(code[-2:], "big") + 2)]


@pytest.mark.parametrize("name", DEPLOYABLE_CONTRACTS)
def test_ape_compiles_the_shipped_artifacts(project: Any, name: str) -> None:
    contract_type = getattr(project, name).contract_type
    artifact = load_artifact(name)
    runtime = bytes(contract_type.runtime_bytecode.to_bytes())
    assert without_metadata(runtime) == without_metadata(artifact.deployed_bytecode)
    assert {e["name"] for e in artifact.abi if e["type"] == "function"} == {
        e.name for e in contract_type.abi if e.type == "function"
    }
