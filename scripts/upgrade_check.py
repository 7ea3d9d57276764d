"""Check the contracts' upgrade safety and storage layout with OpenZeppelin's upgrades-core.

    python scripts/upgrade_check.py                    # (make upgrade-check) check contracts/
    python scripts/upgrade_check.py --record 1.0.0     # on a release: keep its sources as the reference

Both ``contracts/`` and the **reference** (the sources of the last release, kept under
``upgrades/reference/<version>/``) are compiled as the artifacts are built (solc 0.8.37
through the solc-js shim ``tools/solc``, viaIR, the optimizer, EVM shanghai; see
``chainpass.compiler``), asking solc also for what upgrades-core reads: every source's
AST, each contract's ``storageLayout``, and ``evm.bytecode.object`` and
``evm.bytecode.linkReferences`` (upgrades-core keys its validations by a hash of the
bytecode and finds external library links in it). Each build is written as a Hardhat
build-info file (``hh-sol-build-info-1``) to its own directory under ``.build/upgrades/``;
a build whose input and compiler are unchanged is reused, and the two builds run side
by side (about a minute each for the real contracts: viaIR code generation).

Then for each contract (IdentityRegistry and ProductPassport unless ``--contract`` says
otherwise) it runs the pinned npm package ``@openzeppelin/upgrades-core`` (its CLI,
``openzeppelin-upgrades-core validate``) with the reference's build as
``--referenceBuildInfoDirs``. That refuses a contract that is not upgrade-safe (a
constructor that does work without ``@custom:oz-upgrades-unsafe-allow constructor``, an
immutable without ``state-variable-immutable``, ``selfdestruct``, ``delegatecall``, a
state variable with an initial value, an external library, ...) and a storage layout
that an upgrade from the reference would corrupt (a variable inserted, removed,
reordered, or retyped, a ``layout at`` base slot moved). One line per contract; on a
refusal, upgrades-core's own explanation follows and the exit status is 1 (2 when
something could not be checked at all: the sources do not compile, a reference is
missing a file, ...).

Before the first upgradeable release there is no reference: the contracts are then
checked for upgrade safety alone, and the line says that the layout was not compared.
``--record VERSION`` copies every source unit of the current build (``contracts/`` and
the npm files it imports, e.g. OpenZeppelin's ``Initializable``) to
``upgrades/reference/VERSION/``, replacing the previous reference, so that the next
version is compared with what was released, whatever npm pins change in between.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solcx.exceptions import SolcError

from chainpass.artifacts import COMPILER_SETTINGS
from chainpass.compiler import (
    BUILD_OUTPUT,
    CONTRACTS_DIR,
    NODE_MODULES,
    REPO_ROOT,
    SOLC_SHIM,
    keep_in_cache,
    run_compiler,
    source_files,
    standard_input,
)

#: The contracts deployed behind proxies, checked by default.
UPGRADEABLE_CONTRACTS = ("IdentityRegistry", "ProductPassport")
#: Where ``--record`` keeps the released sources: one directory, named by the version.
REFERENCE_ROOT = REPO_ROOT / "upgrades" / "reference"
#: Where the build-info files are written (gitignored).
BUILD_ROOT = REPO_ROOT / ".build" / "upgrades"
#: upgrades-core's CLI, as the pinned npm package installs it.
UPGRADES_CORE_BIN = Path(".bin") / "openzeppelin-upgrades-core"
#: Build-info directory names: the current sources', and the reference's (``release-<version>``).
#: upgrades-core names a reference contract ``<dir name>:<contract>``: ``release-1.0.0:IdentityRegistry``.
CURRENT_DIR_NAME = "current"
REFERENCE_DIR_PREFIX = "release-"
#: Earlier builds, by a hash of their input: at most CACHE_SIZE, the least recently used dropped.
CACHE_DIR_NAME = "cache"
CACHE_SIZE = 8

#: What upgrades-core 1.46 reads from a build (src/cli/validate and src/validate/run.ts): each
#: source's AST; each contract's storageLayout (its build-info check insists on it for
#: every contract); evm.bytecode.object (hashed as the contract's version, empty meaning
#: abstract) and evm.bytecode.linkReferences (external libraries). It asks for the artifacts'
#: outputs too (``BUILD_OUTPUT``, one selection): the artifacts' test then reads this build.
UPGRADE_OUTPUT = BUILD_OUTPUT

BUILD_INFO_FORMAT = "hh-sol-build-info-1"


class CheckError(RuntimeError):
    """The check could not be run (as opposed to a contract that fails it)."""


@dataclass(frozen=True)
class Verdict:
    """upgrades-core's answer for one contract."""

    contract: str
    ok: bool
    #: The version the layout was compared with, or None when it was not compared.
    reference: str | None
    #: upgrades-core's own report (its explanation on a refusal).
    explanation: str
    #: upgrades-core's warnings (about the whole build, not only this contract).
    warnings: tuple[str, ...] = ()

    def line(self) -> str:
        """The one-line result."""
        if not self.ok:
            return f"{self.contract}: REFUSED by upgrades-core"
        if self.reference is None:
            return f"{self.contract}: upgrade-safe; storage layout not compared (no reference)"
        return f"{self.contract}: upgrade-safe; storage layout compatible with {self.reference}"


@functools.cache
def solc_long_version() -> str:
    """The shim's compiler version as Hardhat writes it, e.g. ``0.8.37+commit.ed3d1e2a``."""
    text = subprocess.run([str(SOLC_SHIM), "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Version: (\d+\.\d+\.\d+\+commit\.[0-9a-f]+)", text)
    if match is None:
        raise CheckError(f"cannot read the compiler version from {SOLC_SHIM} --version: {text!r}")
    version = match.group(1)
    if version.split("+")[0] != COMPILER_SETTINGS["solc"]:
        raise CheckError(f"{SOLC_SHIM} is solc {version}, the project pins {COMPILER_SETTINGS['solc']}")
    return version


def reference_sources(directory: Path) -> dict[str, str]:
    """Every ``.sol`` file below a reference directory, keyed by its path from that directory
    (which is its source unit name as it was compiled: ``contracts/X.sol``, ``@openzeppelin/...``)."""
    sources = {
        path.relative_to(directory).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(directory.rglob("*.sol"))
    }
    if not sources:
        raise CheckError(f"the reference {directory} holds no .sol file")
    return sources


def cached_build(sources: dict[str, str], cache: Path, long_version: str) -> Path:
    """The Hardhat build-info file of ``sources`` (the project's settings, UPGRADE_OUTPUT) in
    ``cache``, named by a hash of the compiler input and version: compiled only when new there.
    The cache keeps the CACHE_SIZE builds used last."""
    standard_json = standard_input(sources, UPGRADE_OUTPUT)
    digest = hashlib.sha256(json.dumps([long_version, standard_json], sort_keys=True).encode()).hexdigest()[:32]
    cached = cache / f"{digest}.json"
    if cached.is_file():
        os.utime(cached)  # recently used: kept longest
        return cached
    output = run_compiler(standard_json)
    build_info = {
        "_format": BUILD_INFO_FORMAT,
        "id": digest,
        "solcVersion": long_version.split("+")[0],
        "solcLongVersion": long_version,
        "input": standard_json,
        "output": output,
    }
    return keep_in_cache(cached, build_info, CACHE_SIZE)


def write_build_info(sources: dict[str, str], directory: Path, long_version: str) -> Path:
    """The build-info of ``sources`` as the only file in ``directory`` (what upgrades-core reads),
    from the cache beside it (``cache/``)."""
    cached = cached_build(sources, directory.parent / CACHE_DIR_NAME, long_version)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    path = directory / cached.name
    shutil.copyfile(cached, path)
    return path


def reference_build_dir(build_root: Path, version: str) -> Path:
    """Where the reference of release ``version`` is built."""
    return build_root / f"{REFERENCE_DIR_PREFIX}{version}"


def build_both(
    current: dict[str, str], reference: dict[str, str] | None, build_root: Path, version: str | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The build-info of the current sources and of the reference of release ``version`` (when
    given), built side by side."""
    long_version = solc_long_version()
    jobs = [(current, build_root / CURRENT_DIR_NAME)]
    if reference is not None and version is not None:
        jobs.append((reference, reference_build_dir(build_root, version)))
    for old in build_root.glob(f"{REFERENCE_DIR_PREFIX}*"):  # other releases' builds
        if old not in (directory for _, directory in jobs):
            shutil.rmtree(old, ignore_errors=True)
    # Side by side, unless they are the same sources (just recorded): then the second is the first's.
    workers = 1 if reference == current else len(jobs)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        paths = list(pool.map(lambda job: write_build_info(job[0], job[1], long_version), jobs))
    infos: list[dict[str, Any]] = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    return infos[0], infos[1] if len(infos) > 1 else None


def _contract_names(build_info: dict[str, Any]) -> set[str]:
    return {name for contracts in build_info["output"].get("contracts", {}).values() for name in contracts}


def validate(
    contract: str, build_root: Path, reference_version: str | None, node_modules: Path = NODE_MODULES
) -> Verdict:
    """Run upgrades-core's ``validate`` on ``contract`` of the current build, against the
    reference build's contract of the same name when ``reference_version`` is given."""
    cli = node_modules / UPGRADES_CORE_BIN
    if not cli.exists():
        raise CheckError(f"{cli} is not installed: run `make setup` (npm ci)")
    command = [str(cli), "validate", str(build_root / CURRENT_DIR_NAME), "--contract", contract]
    if reference_version is not None:
        reference_dir = reference_build_dir(build_root, reference_version)
        command += ["--reference", f"{reference_dir.name}:{contract}", "--referenceBuildInfoDirs", str(reference_dir)]
    env = {**os.environ, "FORCE_COLOR": "0"}  # plain text, whatever the terminal
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    report = result.stdout.strip()
    if result.returncode not in (0, 1) or not report.endswith(("SUCCESS", "FAILED")):
        # No verdict: upgrades-core stopped on an error of its own (an unknown contract, an
        # unsupported `layout at` expression, ...), or was killed.
        raise CheckError(f"upgrades-core could not check {contract}:\n{(report + chr(10) + result.stderr).strip()}")
    warnings = tuple(
        "Warning:" + block.rstrip() for block in re.split(r"^Warning:", result.stderr, flags=re.MULTILINE)[1:]
    )
    return Verdict(contract, result.returncode == 0, reference_version, report, warnings)


def find_reference(root: Path) -> Path | None:
    """The one recorded reference under ``root``, or None before the first release."""
    if not root.is_dir():
        return None
    versions = sorted(path for path in root.iterdir() if path.is_dir())
    if len(versions) > 1:
        names = ", ".join(path.name for path in versions)
        raise CheckError(f"{root} holds several references ({names}): keep only the last release's")
    return versions[0] if versions else None


def record(version: str, contracts_dir: Path, node_modules: Path, root: Path) -> Path:
    """Keep the sources of release ``version`` (``contracts_dir`` and the npm files it imports)
    as the reference under ``root``, replacing the previous one."""
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.+_-]*", version):
        raise CheckError(f"{version!r} is not a version name (letters, digits, '.', '+', '_', '-')")
    sources = source_files(contracts_dir, node_modules)
    target = root / version
    if root.is_dir():
        for previous in root.iterdir():
            if previous.is_dir():
                shutil.rmtree(previous)
    for name, text in sources.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


def check(
    contracts_dir: Path,
    reference_dir: Path | None,
    contracts: Sequence[str],
    build_root: Path,
    node_modules: Path = NODE_MODULES,
) -> list[Verdict]:
    """Build the current sources and the reference, and validate each contract."""
    reference = reference_sources(reference_dir) if reference_dir is not None else None
    version = reference_dir.name if reference_dir is not None else None
    current_build, reference_build = build_both(
        source_files(contracts_dir, node_modules), reference, build_root, version
    )
    missing = sorted(set(contracts) - _contract_names(current_build))
    if missing:
        raise CheckError(f"not in {contracts_dir}: {', '.join(missing)}")
    in_reference = _contract_names(reference_build) if reference_build is not None else set()
    # A contract new since the reference has nothing to be compared with: safety alone.
    return [validate(name, build_root, version if name in in_reference else None, node_modules) for name in contracts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contracts", type=Path, default=CONTRACTS_DIR, help="the sources to check (contracts/)")
    parser.add_argument(
        "--reference",
        type=Path,
        help="the reference sources' directory (default: the one under upgrades/reference/, if any)",
    )
    parser.add_argument("--no-reference", action="store_true", help="check upgrade safety alone")
    parser.add_argument(
        "--contract",
        action="append",
        dest="names",
        metavar="NAME",
        help=f"a contract to check (repeatable; default: {', '.join(UPGRADEABLE_CONTRACTS)})",
    )
    parser.add_argument("--build-dir", type=Path, default=BUILD_ROOT, help="where the build-info files go")
    parser.add_argument("--node-modules", type=Path, default=NODE_MODULES, help="npm imports and upgrades-core")
    parser.add_argument(
        "--record", metavar="VERSION", help="keep the current sources as the reference of release VERSION"
    )
    parser.add_argument(
        "--reference-root", type=Path, default=REFERENCE_ROOT, help="where references are kept (upgrades/reference/)"
    )
    args = parser.parse_args(argv)
    try:
        if args.record is not None:
            target = record(args.record, args.contracts, args.node_modules, args.reference_root)
            print(f"recorded the sources of {args.record} in {target}; checking them")
            reference_dir: Path | None = target
        elif args.no_reference:
            reference_dir = None
        else:
            reference_dir = args.reference or find_reference(args.reference_root)
        if reference_dir is not None and not reference_dir.is_dir():
            raise CheckError(f"no reference at {reference_dir}")
        verdicts = check(
            args.contracts, reference_dir, args.names or UPGRADEABLE_CONTRACTS, args.build_dir, args.node_modules
        )
    except (CheckError, RuntimeError, SolcError) as error:
        message = str(error).split("\n> command")[0].strip()  # without py-solc-x's dump of solc's output
        print(f"upgrade check: {message}", file=sys.stderr)
        return 2
    for verdict in verdicts:
        print(verdict.line())
        if not verdict.ok:
            print(_indented(verdict.explanation))
    # Each run warns about the whole build: say each warning once.
    for warning in dict.fromkeys(w for verdict in verdicts for w in verdict.warnings):
        print(f"upgrades-core {_indented(warning).lstrip()}")
    return 0 if all(verdict.ok for verdict in verdicts) else 1


def _indented(text: str) -> str:
    return "\n".join(("    " + line).rstrip() for line in text.splitlines())


if __name__ == "__main__":
    raise SystemExit(main())
