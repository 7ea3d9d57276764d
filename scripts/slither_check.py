"""Run Slither on the project's own build and hold every finding to the triage file.

The build is `chainpass.compiler.compile_for_analysis`: the sources and settings that
make the shipped artifacts (solc 0.8.37 through the solc-js shim ``tools/solc``, viaIR,
the optimizer, EVM shanghai). Slither reads it through crytic-compile's standard-JSON
parser, in process: no solc-select, nothing downloaded.

Every detector runs. A finding whose every element lies outside the analysed contracts
directory (``node_modules``, ``@openzeppelin/...``) is a dependency's and is left out.
Each remaining finding must have an entry in ``slither-triage.toml`` with a one-line
reason; the check fails on a finding with no entry, and on an entry whose finding no
longer occurs (so the file stays honest). ``docs/static-analysis.md`` says how to triage.

Run ``python scripts/slither_check.py`` (or ``make slither``) from the repository root.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import logging
import re
import sys
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from solcx.exceptions import SolcError

from chainpass.compiler import CONTRACTS_DIR, NODE_MODULES, REPO_ROOT, compile_for_analysis, source_files

TRIAGE_FILE = REPO_ROOT / "slither-triage.toml"
#: A source reference in a Slither description, e.g. ``(contracts/X.sol#12-14)``.
_LINES = re.compile(r"\s*\([^()]*#\d+(?:-\d+)?\)")


@dataclass(frozen=True)
class Finding:
    """One Slither result, named so that it survives unrelated line shifts."""

    #: 16 hex digits of SHA-256 over the detector and `where` (no line numbers).
    id: str
    detector: str
    impact: str
    confidence: str
    #: The first element's qualified name, e.g. ``IdentityRegistry.revoke(address)``.
    where: str
    #: ``file:line`` of the first element.
    location: str
    description: str


@dataclass(frozen=True)
class TriageEntry:
    """A reviewed finding and the one-line reason it stays."""

    id: str
    detector: str
    where: str
    reason: str


class TriageFileError(ValueError):
    """The triage file cannot be read as a list of well-formed entries."""


def _qualified_name(element: dict[str, Any]) -> str:
    """``Contract.function(sig).expression``-style name of a result element, without lines."""
    fields = element.get("type_specific_fields", {})
    name = str(fields.get("signature") or element.get("name", ""))
    parent = fields.get("parent")
    return f"{_qualified_name(parent)}.{name}" if isinstance(parent, dict) else name


def _where(elements: list[dict[str, Any]]) -> str:
    """The first element's qualified name; for a constant's initialiser, the constant's name."""
    if not elements:
        return ""
    first = elements[0]
    if str(first.get("name", "")).startswith("slitherConstructor") and len(elements) > 1:
        # Slither puts constant and state initialisers in a made-up constructor.
        contract = first.get("type_specific_fields", {}).get("parent", {}).get("name", "")
        return f"{contract}.{str(elements[1].get('name', '')).split(' =')[0]}"
    return _qualified_name(first)


def _location(element: dict[str, Any]) -> str:
    mapping = element.get("source_mapping") or {}
    lines = mapping.get("lines") or [0]
    return f"{mapping.get('filename_short', '?')}:{lines[0]}"


def _is_dependency(element: dict[str, Any], contracts_dir: Path) -> bool:
    """Whether the element lies outside the analysed contracts (node_modules, @openzeppelin/...)."""
    mapping = element.get("source_mapping") or {}
    absolute = mapping.get("filename_absolute")
    if not absolute:
        return False
    return not Path(absolute).resolve().is_relative_to(contracts_dir.resolve())


def findings_from_results(results: list[dict[str, Any]], contracts_dir: Path) -> list[Finding]:
    """Slither's result dicts as findings, dependencies' own left out, sorted by location."""
    found: list[Finding] = []
    seen: dict[str, int] = {}
    ours = [
        r for r in results if not r.get("elements") or not all(_is_dependency(e, contracts_dir) for e in r["elements"])
    ]
    # Two results of one detector on one name are numbered in the order of their text
    # without line numbers, which Slither's order of results does not change.
    ours.sort(key=lambda r: (r["check"], _where(r.get("elements", [])), _LINES.sub("", r["description"])))
    for result in ours:
        elements: list[dict[str, Any]] = result.get("elements", [])
        where = _where(elements)
        # The detector and what it points at, by name: no line numbers, and not the
        # secondary elements (Slither's list of, say, a function's timestamp comparisons
        # varies with Python's hash seed).
        key = f"{result['check']}\n{where}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key += f"\n#{seen[key]}"
        found.append(
            Finding(
                id=hashlib.sha256(key.encode()).hexdigest()[:16],
                detector=result["check"],
                impact=result["impact"],
                confidence=result["confidence"],
                where=where,
                location=_location(elements[0]) if elements else "?",
                description=" ".join(result["description"].split()),
            )
        )
    return sorted(found, key=lambda f: (f.location, f.detector, f.id))


def run_slither(contracts_dir: Path = CONTRACTS_DIR, node_modules: Path = NODE_MODULES) -> list[dict[str, Any]]:
    """Build ``contracts_dir`` as the artifacts are built and run every Slither detector on it."""
    from crytic_compile import CryticCompile
    from crytic_compile.compilation_unit import CompilationUnit
    from crytic_compile.compiler.compiler import CompilerVersion
    from crytic_compile.platform.solc_standard_json import SolcStandardJson, parse_standard_json_output
    from slither import Slither
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    from chainpass.artifacts import COMPILER_SETTINGS

    working_dir = contracts_dir.resolve().parent
    standard_json, output = compile_for_analysis(source_files(contracts_dir, node_modules))
    settings = standard_json["settings"]
    # Slither reads the ASTs; crytic-compile's parser also wants per-contract bytecode and
    # source maps, which the analysis build does not generate (see compile_for_analysis).
    for contracts in output.get("contracts", {}).values():
        for compiled in contracts.values():
            empty = {"object": "", "sourceMap": ""}
            compiled.setdefault("evm", {"bytecode": empty, "deployedBytecode": empty})

    class ProjectBuild(SolcStandardJson):
        """crytic-compile's standard-JSON platform, fed the build above instead of running solc."""

        def compile(self, crytic_compile: CryticCompile, **kwargs: Any) -> None:
            unit = CompilationUnit(crytic_compile, "chainpass")
            unit.compiler_version = CompilerVersion(
                compiler="solc",
                version=COMPILER_SETTINGS["solc"],
                optimized=settings["optimizer"]["enabled"],
                optimize_runs=settings["optimizer"]["runs"],
                via_ir=settings["viaIR"],
            )
            parse_standard_json_output(output, unit, solc_working_dir=str(working_dir))

    logging.getLogger("Slither").setLevel(logging.ERROR)
    logging.getLogger("CryticCompile").setLevel(logging.ERROR)
    # show_ignored_findings: `// slither-disable` comments do not hide anything; the triage
    # file is the one place a finding is accepted.
    slither = Slither(CryticCompile(ProjectBuild(standard_json)), show_ignored_findings=True)
    for _, detector in inspect.getmembers(all_detectors, inspect.isclass):
        if issubclass(detector, AbstractDetector):
            slither.register_detector(detector)
    results: list[dict[str, Any]] = [r for batch in slither.run_detectors() for r in batch]
    return results


def load_triage(path: Path) -> list[TriageEntry]:
    """The entries of triage file ``path`` (TOML, ``[[finding]]`` tables); TriageFileError if malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except tomllib.TOMLDecodeError as error:
        raise TriageFileError(f"{path} is not valid TOML: {error}") from error
    entries: list[TriageEntry] = []
    seen: set[str] = set()
    for number, raw in enumerate(data.get("finding", []), start=1):
        fields = {key: raw.get(key) for key in ("id", "detector", "where", "reason")}
        missing = [key for key, value in fields.items() if not isinstance(value, str) or not value.strip()]
        if missing:
            raise TriageFileError(f"{path}: entry {number} needs {', '.join(missing)} (non-empty strings)")
        if "\n" in str(fields["reason"]):
            raise TriageFileError(f"{path}: entry {number} ({fields['id']}): the reason must be one line")
        if fields["id"] in seen:
            raise TriageFileError(f"{path}: entry {number}: id {fields['id']} is triaged twice")
        seen.add(str(fields["id"]))
        entries.append(TriageEntry(**{key: str(value) for key, value in fields.items()}))
    return entries


def compare(findings: list[Finding], triage: list[TriageEntry]) -> tuple[list[Finding], list[TriageEntry]]:
    """The findings with no triage entry, and the triage entries with no finding."""
    triaged = {entry.id for entry in triage}
    found = {finding.id for finding in findings}
    return [f for f in findings if f.id not in triaged], [e for e in triage if e.id not in found]


def _stanza(finding: Finding) -> str:
    return (
        "[[finding]]\n"
        f'id = "{finding.id}"\n'
        f"detector = {json.dumps(finding.detector)}\n"
        f"where = {json.dumps(finding.where)}\n"
        'reason = "TODO: why this is safe, in one line"\n'
    )


def report(untriaged: list[Finding], stale: list[TriageEntry], triage_path: Path) -> list[str]:
    """The sentences to print for a failed check (empty when it passed)."""
    lines: list[str] = []
    for finding in untriaged:
        lines.append(
            f"{finding.location}: untriaged Slither finding {finding.id} ({finding.detector}, "
            f"impact {finding.impact}, confidence {finding.confidence}) in {finding.where}: "
            f"{finding.description} Fix the code, or if it is safe add this entry to {triage_path.name}:\n"
            + _stanza(finding)
        )
    for entry in stale:
        lines.append(
            f"{triage_path.name}: triage entry {entry.id} ({entry.detector} in {entry.where}) matches no "
            "current finding: remove it (the code changed or the finding is gone)."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contracts", type=Path, default=CONTRACTS_DIR, help="contracts directory to analyse")
    parser.add_argument("--triage", type=Path, default=TRIAGE_FILE, help="triage file (TOML)")
    parser.add_argument("--node-modules", type=Path, default=NODE_MODULES, help="where npm imports are read from")
    parser.add_argument("--json", action="store_true", help="print every finding and the verdict as JSON")
    args = parser.parse_args(argv)
    try:
        triage = load_triage(args.triage)
    except TriageFileError as error:
        print(f"slither check: {error}", file=sys.stderr)
        return 2
    try:
        results = run_slither(args.contracts, args.node_modules)
    except (RuntimeError, SolcError) as error:  # the contracts do not compile: solc says where
        message = str(error).split("\n> command")[0].strip()  # without py-solc-x's dump of solc's output
        print(f"slither check: the contracts do not compile:\n{message}", file=sys.stderr)
        return 2
    findings = findings_from_results(results, args.contracts)
    untriaged, stale = compare(findings, triage)
    if args.json:
        verdict = {
            "findings": [asdict(f) for f in findings],
            "untriaged": [f.id for f in untriaged],
            "stale": [e.id for e in stale],
        }
        print(json.dumps(verdict, indent=1))
    else:
        for line in report(untriaged, stale, args.triage):
            print(line, file=sys.stderr)
        if not untriaged and not stale:
            print(f"slither: {len(findings)} findings, all triaged in {args.triage.name}")
    return 1 if untriaged or stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
