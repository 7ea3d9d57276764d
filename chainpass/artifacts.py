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
DEPLOYABLE_CONTRACTS = ("IdentityRegistry", "ProductPassport")
#: The trade-finance contracts (docs/finance.md), built from our sources but deployed without
#: a proxy (nobody may change the rules under escrowed money): the escrow and receivables, and
#: the ERC-2612 dollar `chainpass deploy` creates on a development chain.
FINANCE_CONTRACTS = ("TradeFinance", "DevStablecoin")
#: The governance contracts `chainpass.governance` deploys on request, not built from our
#: sources: OpenZeppelin's TimelockController (compiled from its npm source with the settings
#: below), and Safe 1.4.1's singleton, proxy factory and fallback handler (their npm package's
#: own build, solc 0.7.6, which runs on every EVM version).
TIMELOCK_CONTRACT = "TimelockController"
SAFE_CONTRACTS = ("Safe", "SafeProxyFactory", "CompatibilityFallbackHandler")
#: OpenZeppelin's transparent proxy, which each deployed contract sits behind, and the
#: ProxyAdmin it creates (owned by the governor: the only way to an upgrade); compiled
#: from the pinned npm source with the settings below (docs/upgrades.md).
PROXY_CONTRACTS = ("TransparentUpgradeableProxy", "ProxyAdmin")

#: Compiler settings, pinned: solc-js from the npm package `solc` (package.json).
#: shanghai is the newest EVM that Ganache 7.9 runs.
COMPILER_SETTINGS: dict[str, Any] = {
    "solc": "0.8.37",
    "evmVersion": "shanghai",
    "optimizer": {"enabled": True, "runs": 20},
    "viaIR": True,
}


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    #: (offset, length) of each immutable value in the runtime code: filled in at deployment.
    immutable_references: tuple[tuple[int, int], ...]
    sources_hash: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        """An artifact from its JSON form (a shipped file, or `chainpass.compiler`'s output)."""
        return cls(
            name=data["contractName"],
            abi=data["abi"],
            bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
            deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
            immutable_references=tuple((int(start), int(length)) for start, length in data["immutableReferences"]),
            sources_hash=data["sourcesHash"],
        )

    def built_this(self, runtime_code: bytes) -> bool:
        """Whether ``runtime_code`` (from `eth_getCode`) was deployed from this artifact.

        Immutable values (chain id, domain separator, constructor settings) differ per
        deployment, so those bytes are left out of the comparison.
        """
        return _mask(runtime_code, self.immutable_references) == _mask(
            self.deployed_bytecode, self.immutable_references
        )


def _mask(code: bytes, references: tuple[tuple[int, int], ...]) -> bytes:
    masked = bytearray(code)
    for start, length in references:
        masked[start : start + length] = bytes(length)
    return bytes(masked)


@cache
def load_artifact(name: str) -> Artifact:
    """The shipped artifact of contract `name`."""
    return Artifact.from_json(json.loads((ARTIFACT_DIR / f"{name}.json").read_text(encoding="utf-8")))


def event_topic(abi: list[dict[str, Any]], name: str) -> bytes:
    """topic0 of event ``name`` in ``abi``: keccak256 of its canonical signature."""
    (entry,) = [e for e in abi if e["type"] == "event" and e["name"] == name]
    return keccak(text=f"{name}({','.join(i['type'] for i in entry['inputs'])})")
