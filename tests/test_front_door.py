"""The package's front door: its public API, its one version, the README's Python
example and the example scripts, each run as a reader would run it (embedded chain)."""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import re
import runpy
from pathlib import Path

import pytest

import chainpass
from chainpass import Chain, IdentityRegistry, ProductPassports, TradeFinance, deploy

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "scripts" / "examples").glob("*.py"))
#: What each example script must print (fragments).
PRINTS = {
    "resident_consent": ["learns: no_consent", "paid by the bank", "after it: valid, level high", "balance: 0 wei"],
    "bank_disclosure": ["{'name': 'Li Wei', 'age_over_18': 'true'}", "stands valid", "a forged name is refused"],
    "cooperative_lot": ["genuine True, in_transit, held by the carrier", "CustodyTransferred by Henan Cold Chain"],
}


def test_the_public_api_is_every_name_in_all_and_each_is_documented() -> None:
    assert chainpass.__all__ == sorted(chainpass.__all__)
    for name in chainpass.__all__:
        if name != "__version__":
            assert getattr(chainpass, name).__doc__, f"chainpass.{name} has no docstring"


def test_one_version_for_the_package_and_the_contracts_it_deploys() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", chainpass.__version__)
    assert importlib.metadata.version("chainpass") == chainpass.__version__
    chain = Chain.embedded()
    deployment, _ = deploy(chain, chain.dev_accounts()[0])
    for client in (IdentityRegistry, ProductPassports, TradeFinance):
        contract = client.from_deployment(chain, deployment).contract
        assert contract.functions.version().call() == chainpass.__version__


def printed_by(code: str, filename: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, filename, "exec"), {"__name__": "__main__"})
    return out.getvalue()


def public_names_imported(code: str) -> set[str]:
    """The names ``code`` imports from chainpass; it must import nothing from its modules."""
    assert not re.search(r"^\s*(from|import) chainpass\.", code, re.MULTILINE), "only the public API"
    imports = re.findall(r"^from chainpass import \(?([^()]*?)\)?$", code, re.MULTILINE | re.DOTALL)
    return {name for block in imports for name in re.split(r"[\s,]+", block) if name}


def test_the_readmes_python_example_runs_and_prints_what_it_says() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    promised = re.search(r"# (.+)$", example.strip().splitlines()[-1])

    assert promised is not None and promised.group(1) == "VALID True"
    assert public_names_imported(example) <= set(chainpass.__all__)
    assert printed_by(example, "README.md").strip() == promised.group(1)


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_the_example_scripts_use_the_public_api_and_run(script: Path) -> None:
    code = script.read_text(encoding="utf-8")
    assert public_names_imported(code) <= set(chainpass.__all__)

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(script), run_name="__main__")

    for fragment in PRINTS[script.stem]:
        assert fragment in out.getvalue()


def test_every_example_script_is_checked() -> None:
    assert {path.stem for path in EXAMPLES} == set(PRINTS)
