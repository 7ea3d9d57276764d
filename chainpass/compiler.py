"""Compile `contracts/` into the ABI + bytecode artifacts shipped in `chainpass/artifacts/`.

This is the only module that runs the Solidity compiler. It drives solc-js (the npm
package ``solc``, pinned in ``package.json``) through ``tools/solc``, a shim that
behaves like a native ``solc`` for ``--version`` and ``--standard-json``, by way of
py-solc-x. The library itself never needs node or solc: it reads the artifacts.

Run ``python -m chainpass.compiler`` (or ``make artifacts``) after changing a contract;
``python -m chainpass.compiler --check`` exits 1 when the artifacts are stale.

The governance contracts (``chainpass.governance``) are artifacts too, checked the same
way, but not built from ``contracts/``: OpenZeppelin's ``TimelockController`` is compiled
from its npm source alone with our settings (its npm build is another compiler's, 0.8.35),
and the Safe 1.4.1 contracts are copied from their npm package's build
(solc 0.7.6: no opcode newer than any chain's), so the Safe we deploy is the audited
bytecode itself. Neither touches the sources hash of our contracts.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from chainpass.artifacts import (
    ANCHOR_CONTRACT,
    ARTIFACT_DIR,
    COMPILER_SETTINGS,
    DEPLOYABLE_CONTRACTS,
    FINANCE_CONTRACTS,
    PROXY_CONTRACTS,
    SAFE_CONTRACTS,
    TIMELOCK_CONTRACT,
)
from chainpass.files import write_bytes_atomic

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = REPO_ROOT / "contracts"
SOLC_SHIM = REPO_ROOT / "tools" / "solc"


#: Import prefixes served from npm packages (pinned in ``package.json``): the same names
#: ``ape-config.yaml`` maps, so both builds see one source tree.
NPM_IMPORTS = ("@openzeppelin/contracts/",)
NODE_MODULES = REPO_ROOT / "node_modules"
#: The timelock's source unit: OpenZeppelin's contract as the pinned npm package ships it.
TIMELOCK_SOURCE = "@openzeppelin/contracts/governance/TimelockController.sol"
#: The proxy's source unit (it imports the ProxyAdmin it creates).
PROXY_SOURCE = "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol"
#: Where the Safe package (pinned in ``package.json``) keeps its build of each contract we deploy.
SAFE_PACKAGE = "@safe-global/safe-contracts"
SAFE_BUILDS = {
    "Safe": "Safe.sol/Safe.json",
    "SafeProxyFactory": "proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
    "CompatibilityFallbackHandler": "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json",
}
assert tuple(SAFE_BUILDS) == SAFE_CONTRACTS
_IMPORT = re.compile(r"""^\s*import\s+(?:[^'";]*?\s+from\s+)?["']([^"']+)["']""", re.MULTILINE)


def source_files(contracts_dir: Path = CONTRACTS_DIR, node_modules: Path = NODE_MODULES) -> dict[str, str]:
    """Every ``.sol`` file below ``contracts_dir``, keyed by its path from the repo root, and
    every npm file they import (directly or not), keyed by its import name."""
    sources = {
        path.relative_to(contracts_dir.parent).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(contracts_dir.rglob("*.sol"))
        # Not hidden folders: `ape compile` copies its npm dependencies into contracts/.cache/.
        if not any(part.startswith(".") for part in path.relative_to(contracts_dir).parts)
    }
    return with_imports(sources, node_modules)


def npm_sources(unit: str, node_modules: Path = NODE_MODULES) -> dict[str, str]:
    """The npm source unit ``unit`` (e.g. :data:`TIMELOCK_SOURCE`) and every npm file it imports."""
    path = node_modules / unit
    if not path.is_file():
        raise RuntimeError(f"{unit} is not installed: run `make setup` (npm ci)")
    return with_imports({unit: path.read_text(encoding="utf-8")}, node_modules)


def with_imports(sources: dict[str, str], node_modules: Path) -> dict[str, str]:
    """``sources`` and every npm file they import, directly or not, keyed by import name."""

    def read(name: str, importer: str) -> str:
        if name in sources:
            return sources[name]
        if not name.startswith(NPM_IMPORTS):
            raise RuntimeError(f"{importer} imports {name!r}: neither in contracts/ nor a pinned npm package")
        path = node_modules / name
        if not path.is_file():
            raise RuntimeError(f"{importer} imports {name}, which is not installed: run `make setup` (npm ci)")
        return path.read_text(encoding="utf-8")

    return dict(sorted(_closure(sources, read).items()))


def imported_by(sources: dict[str, str], roots: tuple[str, ...]) -> dict[str, str]:
    """The units of ``sources`` that ``roots`` need: themselves and what they import, directly
    or not. A contract's bytecode depends on these alone (its metadata names no other unit), so
    a build of some contracts need not compile the rest."""
    needed = _closure(roots, lambda name, _importer: sources[name])
    return {unit: text for unit, text in sources.items() if unit in needed}


def _closure(roots: Iterable[str], read: Callable[[str, str], str]) -> dict[str, str]:
    """``roots`` and every unit they import, directly or not, each read by ``read(name,
    importer)`` (the root itself is its own importer)."""
    found: dict[str, str] = {}
    pending = [(root, root) for root in roots]
    while pending:
        name, importer = pending.pop()
        if name in found:
            continue
        found[name] = text = read(name, importer)
        pending += [(_unit_name(name, imported), name) for imported in _IMPORT.findall(text)]
    return found


def _unit_name(importer: str, imported: str) -> str:
    """The source unit name of ``imported`` as written in ``importer`` (relative or not)."""
    if not imported.startswith("."):
        return imported
    parts = importer.split("/")[:-1]
    for part in imported.split("/"):
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def sources_hash(sources: dict[str, str]) -> str:
    """A SHA-256 over the source paths and texts, recorded in each artifact."""
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return digest.hexdigest()


#: What the builds ask solc for: the shipped artifacts (ABI, bytecode, immutables) and the
#: upgrade check (``scripts/upgrade_check.py``: every source's AST, storage layouts, link
#: references) in one selection, so that both make the same standard-JSON input for the same
#: sources and the second is read from the first's cached output (``run_compiler``): the
#: artifacts' staleness test reads the build `make upgrade-check` made before the suite.
BUILD_OUTPUT: dict[str, dict[str, list[str]]] = {
    "*": {
        "": ["ast"],
        "*": [
            "abi",
            "storageLayout",
            "evm.bytecode.object",
            "evm.bytecode.linkReferences",
            "evm.deployedBytecode.object",
            "evm.deployedBytecode.immutableReferences",
        ],
    }
}
#: What the shipped artifacts need from solc (with the upgrade check's, ``BUILD_OUTPUT``).
ARTIFACT_OUTPUT = BUILD_OUTPUT
#: Where ``run_compiler`` keeps the outputs of recent inputs, and how many.
CACHE_DIR = REPO_ROOT / ".build" / "solc-cache"
CACHE_SIZE = 8

#: What static analysis (Slither, through crytic-compile) reads: every source's AST, and
#: each contract's ABI and NatSpec. No bytecode is asked for, so solc stops after its
#: analysis phase (seconds, where the viaIR code generation takes over a minute); the
#: AST is the same either way, and the settings are the artifacts' own.
ANALYSIS_OUTPUT: dict[str, dict[str, list[str]]] = {
    "*": {
        "": ["ast"],
        "*": ["abi", "devdoc", "userdoc"],
    }
}


def standard_input(sources: dict[str, str], output_selection: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """The standard-JSON input for ``sources`` with the pinned settings (COMPILER_SETTINGS)."""
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "evmVersion": COMPILER_SETTINGS["evmVersion"],
            "optimizer": COMPILER_SETTINGS["optimizer"],
            "viaIR": COMPILER_SETTINGS["viaIR"],
            "metadata": {"bytecodeHash": "none"},
            "outputSelection": output_selection,
        },
    }


def run_compiler(standard_json: dict[str, Any]) -> dict[str, Any]:
    """Run solc (the solc-js shim) on a standard-JSON input; its output, or RuntimeError on errors.

    A successful output is kept in ``CACHE_DIR`` under a hash of the input and the pinned
    solc package's version (the viaIR build takes a minute or more), and read from there
    when the same input comes again; the ``CACHE_SIZE`` used last are kept."""
    key = hashlib.sha256(json.dumps([_solc_version(), standard_json], sort_keys=True).encode()).hexdigest()[:32]
    cached = CACHE_DIR / f"{key}.json"
    if cached.is_file():
        cached.touch()  # used: kept longest
        output: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
        return output
    import solcx  # only this module needs the compiler

    output = solcx.compile_standard(standard_json, solc_binary=SOLC_SHIM, allow_empty=False)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError("\n".join(e["formattedMessage"] for e in errors))
    with contextlib.suppress(OSError):  # a cache not written is only a slower next build
        keep_in_cache(cached, output, CACHE_SIZE)
    return output


def _solc_version() -> str:
    """The pinned solc-js package's version (``node_modules/solc/package.json``)."""
    version: str = json.loads((NODE_MODULES / "solc" / "package.json").read_text(encoding="utf-8"))["version"]
    return version


def keep_in_cache(path: Path, data: Any, keep: int) -> Path:
    """Write ``data`` as JSON to ``path`` whole or not at all (parallel processes write there
    too), and drop all but the ``keep`` JSON files of its folder used last."""
    write_bytes_atomic(path, json.dumps(data).encode("utf-8"))
    for old in sorted(path.parent.glob("*.json"), key=lambda each: each.stat().st_mtime)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def compile_for_analysis(sources: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The standard-JSON input and output of the artifacts' build, for static analysis.

    ``scripts/slither_check.py`` reads this: the same sources, settings and compiler as
    `compile_contracts` (so it analyses the code that ships), with ANALYSIS_OUTPUT.
    """
    standard_json = standard_input(sources, ANALYSIS_OUTPUT)
    return standard_json, run_compiler(standard_json)


def compile_contracts(
    sources: dict[str, str], names: tuple[str, ...] = DEPLOYABLE_CONTRACTS
) -> dict[str, dict[str, Any]]:
    """Compile ``sources`` and return one artifact per contract in ``names`` (by default the
    deployable ones)."""
    output = run_compiler(standard_input(sources, ARTIFACT_OUTPUT))
    digest = sources_hash(sources)
    artifacts: dict[str, dict[str, Any]] = {}
    for source_name, contracts in output["contracts"].items():
        for name, compiled in contracts.items():
            if name not in names:
                continue
            artifacts[name] = {
                "contractName": name,
                "sourceName": source_name,
                "abi": compiled["abi"],
                "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
                "immutableReferences": sorted(
                    [ref["start"], ref["length"]]
                    for refs in compiled["evm"]["deployedBytecode"].get("immutableReferences", {}).values()
                    for ref in refs
                ),
                "compiler": COMPILER_SETTINGS,
                "sourcesHash": digest,
            }
    missing = set(names) - set(artifacts)
    if missing:
        raise RuntimeError(f"contracts not found in the sources: {sorted(missing)}")
    return artifacts


def safe_artifacts(node_modules: Path = NODE_MODULES) -> dict[str, dict[str, Any]]:
    """The Safe contracts' artifacts, copied from the npm package's own build (ABI and bytecode
    unchanged); ``sourcesHash`` is the SHA-256 of the build file they come from."""
    package = node_modules / SAFE_PACKAGE
    try:
        version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    except FileNotFoundError:
        raise RuntimeError(f"{SAFE_PACKAGE} is not installed: run `make setup` (npm ci)") from None
    artifacts: dict[str, dict[str, Any]] = {}
    for name, build in SAFE_BUILDS.items():
        text = (package / "build" / "artifacts" / "contracts" / build).read_text(encoding="utf-8")
        data = json.loads(text)
        if data["linkReferences"] or data["deployedLinkReferences"]:
            raise RuntimeError(f"{SAFE_PACKAGE}'s {name} needs linking, which chainpass does not do")
        artifacts[name] = {
            "contractName": name,
            "sourceName": f"{SAFE_PACKAGE}/{data['sourceName']}",
            "abi": data["abi"],
            "bytecode": data["bytecode"],
            "deployedBytecode": data["deployedBytecode"],
            "immutableReferences": [],
            "compiler": {"npm": f"{SAFE_PACKAGE}@{version}", "solc": "0.7.6"},
            "sourcesHash": hashlib.sha256(text.encode()).hexdigest(),
        }
    return artifacts


def all_artifacts() -> dict[str, dict[str, Any]]:
    """Every artifact the package ships: our contracts, the proxy, the timelock and the Safe."""
    return {
        **compile_contracts(source_files(), (*DEPLOYABLE_CONTRACTS, *FINANCE_CONTRACTS, ANCHOR_CONTRACT)),
        **compile_contracts(npm_sources(TIMELOCK_SOURCE), (TIMELOCK_CONTRACT,)),
        **compile_contracts(npm_sources(PROXY_SOURCE), PROXY_CONTRACTS),
        **safe_artifacts(),
    }


def render(artifact: dict[str, Any]) -> str:
    """The artifact's file text: stable key order, so diffs stay readable."""
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def stale_artifacts(artifacts: dict[str, dict[str, Any]], artifact_dir: Path = ARTIFACT_DIR) -> list[str]:
    """Names of the artifacts whose file differs from a fresh compilation."""
    stale = []
    for name, artifact in artifacts.items():
        path = artifact_dir / f"{name}.json"
        if not path.exists() or path.read_text(encoding="utf-8") != render(artifact):
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the artifacts are stale")
    args = parser.parse_args(argv)
    artifacts = all_artifacts()
    if args.check:
        stale = stale_artifacts(artifacts)
        if stale:
            print(f"stale artifacts: {', '.join(stale)}; run `make artifacts`", file=sys.stderr)
            return 1
        print("artifacts are up to date")
        return 0
    ARTIFACT_DIR.mkdir(parents=True, exist_ok=True)
    for name, artifact in artifacts.items():
        (ARTIFACT_DIR / f"{name}.json").write_text(render(artifact), encoding="utf-8")
        print(f"wrote {ARTIFACT_DIR / name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
