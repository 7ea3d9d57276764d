"""The layout check (`make upgrade-check`, scripts/upgrade_check.py) passes and refuses as it should.

Small contracts in tests/contracts/upgrades/, one directory per version of a `Counter`
kept at an ERC-7201 slot with `layout at` and initialised through OpenZeppelin's
`Initializable`: ``v1`` is recorded as the reference (as a release would be), ``v2_compatible``
appends a field and fixes a function, ``v2_inserted`` and ``v2_retyped`` break v1's layout,
and ``unsafe`` is not upgrade-safe at all. Everything goes through the real path: the
solc-js shim with the artifacts' settings, Hardhat build-info files, the pinned
upgrades-core CLI. The builds are shared by the module (one cache, warmed in parallel).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from chainpass.artifacts import COMPILER_SETTINGS
from chainpass.compiler import REPO_ROOT, source_files

VERSIONS = REPO_ROOT / "tests" / "contracts" / "upgrades"
RELEASE = "1.0.0"


def _load_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("upgrade_check", REPO_ROOT / "scripts" / "upgrade_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


check = _load_check()


@dataclass(frozen=True)
class Run:
    status: int
    out: str


@dataclass(frozen=True)
class Project:
    build: Path
    references: Path
    recorded: Run

    @property
    def reference(self) -> Path:
        return self.references / RELEASE

    def run(self, *args: str) -> Run:
        """The check's exit status and output, on the module's shared build cache."""
        return _run(["--build-dir", str(self.build), "--contract", "Counter", *args])


def _run(argv: list[str]) -> Run:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        status: int = check.main(argv)
    return Run(status, buffer.getvalue())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """v1 recorded as release 1.0.0, and every version's build in the shared cache."""
    root = tmp_path_factory.mktemp("upgrades")
    build, references = root / "build", root / "references"
    long_version = check.solc_long_version()
    versions = sorted(path for path in VERSIONS.iterdir() if path.is_dir() and path.name != "v1")
    with ThreadPoolExecutor(max_workers=2) as pool:  # compile the others while v1 is recorded
        warmed = [
            pool.submit(check.cached_build, source_files(path), build / check.CACHE_DIR_NAME, long_version)
            for path in versions
        ]
        recorded = _run(
            [
                *("--record", RELEASE, "--contracts", str(VERSIONS / "v1")),
                *("--reference-root", str(references), "--build-dir", str(build), "--contract", "Counter"),
            ]
        )
        for future in warmed:
            future.result()
    return Project(build, references, recorded)


def test_record_keeps_every_source_unit_of_the_release(project: Project) -> None:
    assert project.recorded.status == 0, project.recorded.out
    assert f"Counter: upgrade-safe; storage layout compatible with {RELEASE}" in project.recorded.out
    kept = sorted(path.relative_to(project.reference).as_posix() for path in project.reference.rglob("*.sol"))
    # The npm file it imports too: a later npm bump cannot change what the release was.
    assert kept == ["@openzeppelin/contracts/proxy/utils/Initializable.sol", "v1/Counter.sol"]
    assert check.find_reference(project.references) == project.reference


def test_a_compatible_v2_passes(project: Project) -> None:
    result = project.run("--contracts", str(VERSIONS / "v2_compatible"), "--reference", str(project.reference))
    assert result.status == 0, result.out
    assert result.out.splitlines()[0] == f"Counter: upgrade-safe; storage layout compatible with {RELEASE}"


@pytest.mark.parametrize(
    ("version", "explanation"),
    [
        ("v2_inserted", "v2_inserted/Counter.sol:14: Inserted `_paused`"),
        ("v2_retyped", "v2_retyped/Counter.sol:14: Upgraded `_count` to an incompatible type"),
    ],
)
def test_a_layout_breaking_v2_is_refused_naming_the_variable(project: Project, version: str, explanation: str) -> None:
    result = project.run("--contracts", str(VERSIONS / version), "--reference", str(project.reference))
    assert result.status == 1, result.out
    assert result.out.splitlines()[0] == "Counter: REFUSED by upgrades-core"
    assert explanation in result.out
    assert f"upgrades from release-{RELEASE}:v1/Counter.sol:Counter" in result.out


def test_a_contract_that_is_not_upgrade_safe_is_refused(project: Project) -> None:
    result = project.run("--contracts", str(VERSIONS / "unsafe"), "--no-reference")
    assert result.status == 1, result.out
    assert result.out.splitlines()[0] == "Counter: REFUSED by upgrades-core"
    assert "unsafe/Counter.sol:13: Contract `Counter` has a constructor" in result.out
    assert "Use of selfdestruct is not allowed" in result.out


def test_without_a_reference_the_layout_is_not_compared(project: Project, tmp_path: Path) -> None:
    # An empty reference root: no release recorded yet.
    result = project.run("--contracts", str(VERSIONS / "v2_inserted"), "--reference-root", str(tmp_path))
    assert result.status == 0, result.out
    assert result.out.splitlines()[0] == "Counter: upgrade-safe; storage layout not compared (no reference)"


def test_the_build_info_is_hardhats_with_the_artifacts_settings(project: Project) -> None:
    assert project.run("--contracts", str(VERSIONS / "v1"), "--no-reference").status == 0
    (path,) = (project.build / check.CURRENT_DIR_NAME).glob("*.json")
    build_info = json.loads(path.read_text(encoding="utf-8"))
    assert build_info["_format"] == "hh-sol-build-info-1"
    assert path.stem == build_info["id"]
    assert build_info["solcVersion"] == COMPILER_SETTINGS["solc"]
    assert build_info["solcLongVersion"].startswith(COMPILER_SETTINGS["solc"] + "+commit.")
    settings = build_info["input"]["settings"]
    assert settings["evmVersion"] == COMPILER_SETTINGS["evmVersion"]
    assert settings["optimizer"] == COMPILER_SETTINGS["optimizer"]
    assert settings["viaIR"] == COMPILER_SETTINGS["viaIR"]
    assert settings["outputSelection"] == check.UPGRADE_OUTPUT
    assert "storageLayout" in build_info["output"]["contracts"]["v1/Counter.sol"]["Counter"]


def test_an_unknown_contract_cannot_be_checked(project: Project) -> None:
    result = _run(
        [
            "--build-dir",
            str(project.build),
            "--contracts",
            str(VERSIONS / "v1"),
            "--no-reference",
            "--contract",
            "Nowhere",
        ]
    )
    assert result.status == 2
    assert "not in" in result.out and "Nowhere" in result.out


def test_one_reference_at_a_time(tmp_path: Path) -> None:
    assert check.find_reference(tmp_path / "none") is None
    (tmp_path / "1.0.0").mkdir()
    (tmp_path / "1.1.0").mkdir()
    with pytest.raises(check.CheckError, match=r"several references \(1\.0\.0, 1\.1\.0\)"):
        check.find_reference(tmp_path)
