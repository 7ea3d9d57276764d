"""The compiled contracts shipped with the package (ABI, bytecode, compiler settings)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from eth_utils import keccak

ARTIFACT_DIR = Path(str(resources.files("chainpass"))) / "contract_artifacts"

#: The contracts the package deploys; `chainpass.compiler` writes one artifact each.
DEPLOYABLE_CONTRACTS = ("IdentityRegistry",)

#: Compiler settings, pinned: solc-js from the npm package `solc` (package.json).
#: shanghai is the newest EVM that Ganache 7.9 runs.
COMPILER_SETTINGS: dict[str, Any] = {
    "solc": "0.8.28",
    "evmVersion": "shanghai",
    "optimizer": {"enabled": True, "runs": 10_000},
}


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    sources_hash: str

    @property
    def code_hash(self) -> str:
        """keccak256 of the runtime code, as `eth_getCode` returns it after deployment."""
        return "0x" + keccak(self.deployed_bytecode).hex()


@cache
def load_artifact(name: str) -> Artifact:
    """The shipped artifact of contract `name`."""
    data = json.loads((ARTIFACT_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
        sources_hash=data["sourcesHash"],
    )


def event_topic(abi: list[dict[str, Any]], name: str) -> bytes:
    """topic0 of event ``name`` in ``abi``: keccak256 of its canonical signature."""
    (entry,) = [e for e in abi if e["type"] == "event" and e["name"] == name]
    return keccak(text=f"{name}({','.join(i['type'] for i in entry['inputs'])})")
