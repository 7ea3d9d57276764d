"""Shared set-up for the CLI tests: an ``Operator`` that runs `chainpass` commands in process
against the session's Anvil node, and template homes set up once per module.

conftest.py loads this module as a plugin, so its fixtures (``operator``, ``templates``,
``deployed``, ``supply_chain``) are there for every test module; import the helpers.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chainpass.chain import Chain
from chainpass.cli import main
from chainpass.node import AnvilNode

PERSON = {
    "name": "Li Wei",
    "date_of_birth": "1990-02-03",
    "national_id": "41022519900203123X",
    "address": "Lankao",
}


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Operator:
    """Runs CLI commands against one node with its own chainpass home."""

    capsys: pytest.CaptureFixture[str]
    rpc: str
    home: Path
    accounts: list[str]

    def run(self, *args: str, rpc: str | None = None, home: Path | None = None) -> Result:
        argv = ["--rpc", rpc or self.rpc, "--home", str(home or self.home), *args]
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = self.capsys.readouterr()
        return Result(code, out, err)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.code == 0, result.err
        return result

    def no(self, *args: str) -> Result:
        """A negative answer (not verified, not genuine, recalled): exit code 3, no error."""
        result = self.run(*args)
        assert result.code == 3 and "error" not in result.err, (result.code, result.err)
        return result

    def error(self, *args: str) -> str:
        """A refused command: exit code 1, one line on stderr, no traceback."""
        result = self.run(*args)
        assert result.code == 1, (result.code, result.out, result.err)
        assert result.err.startswith("error: ") and "Traceback" not in result.err
        return result.err


@pytest.fixture
def operator(anvil_node: AnvilNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Operator:
    op = Operator(capsys, anvil_node.url, tmp_path / "home", [])
    op.accounts = [row["address"] for row in op.ok("accounts", "--json").json()]
    return op


class Uncaptured:
    """``capsys``'s place in module set-up (capsys is per test): the output is not read."""

    def readouterr(self) -> tuple[str, str]:
        return "", ""


def _deploy_steps(op: Operator, _person: Path) -> None:
    """A fresh deployment with the bureau (1) as authority and the bank (2) as relying party."""
    op.ok("deploy")
    op.ok("identity", "appoint-authority", op.accounts[1], "--max-level", "high")
    op.ok("identity", "appoint-relying-party", op.accounts[2], "--sector", "bank")


def enlist(op: Operator, attributes: Path, roles: Mapping[int, str]) -> None:
    """Each dev account of ``roles`` (by index) verified by the bureau (1) at level high with
    ``attributes`` (its credential written beside them, ``org<index>.json``), and given its
    passport role by the governor (0)."""
    for index, role in roles.items():
        op.ok(
            "identity", "verify", op.accounts[index], "--attributes", str(attributes), "--level", "high",
            "--credential-out", str(attributes.parent / f"org{index}.json"), "--account", "1",
        )  # fmt: skip
        op.ok("passport", "set-roles", op.accounts[index], "--role", role)


def _supply_steps(op: Operator, attributes: Path) -> None:
    """``_deploy_steps``, then producer (2), carrier (3), retailer (4) and a GS1 member
    organisation (5, registrar), each verified by the bureau and holding its role; the
    registrar registers the producer's GS1 company prefix 9506000 to it, so it may
    commission its codes."""
    _deploy_steps(op, attributes)
    enlist(op, attributes, {2: "producer", 3: "carrier", 4: "retailer", 5: "registrar"})
    op.ok("brand", "register", "9506000", op.accounts[2], "--account", "5")


def build_templates(node: AnvilNode, root: Path, steps: dict[str, Callable[[Operator, Path], None]]) -> dict[str, Path]:
    """A chainpass home per entry of ``steps`` under ``root``, each with its own deployment
    on ``node``, made by its steps (given the operator and a person's attributes file)."""
    accounts = Chain.connect(node.url).dev_accounts()
    (root / "person.json").write_text(json.dumps(PERSON))
    homes = {}
    for name, make in steps.items():
        homes[name] = root / name.replace(" ", "-")
        make(Operator(Uncaptured(), node.url, homes[name], accounts), root / "person.json")  # type: ignore[arg-type]
    return homes


def from_template(operator: Operator, template: Path, tmp_path: Path) -> Iterator[Operator]:
    """``operator`` with a copy of ``template`` as its home, on a chain snapshot that is
    reverted after the test: each test starts from the template's state."""
    chain = Chain.connect(operator.rpc)
    snapshot = chain.snapshot()
    shutil.copytree(template, operator.home, dirs_exist_ok=True)
    (tmp_path / "person.json").write_text(json.dumps(PERSON))
    yield operator
    chain.revert(snapshot)


@pytest.fixture(scope="module")
def deployed_template(anvil_node: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``_deploy_steps``' home, set up once for the module (its set-up was most of a CLI
    test's time); the chain returns to the state before it after the module."""
    yield from module_template(anvil_node, tmp_path_factory, "deployed", _deploy_steps)


@pytest.fixture(scope="module")
def supply_template(anvil_node: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``_supply_steps``' home, set up once for the module."""
    yield from module_template(anvil_node, tmp_path_factory, "supply chain", _supply_steps)


def module_template(
    node: AnvilNode, factory: pytest.TempPathFactory, name: str, steps: Callable[[Operator, Path], None]
) -> Iterator[Path]:
    """For a module-scoped fixture: the home ``steps`` make (``build_templates``), and the
    chain back to the state before them after the module."""
    chain = Chain.connect(node.url)
    before = chain.snapshot()
    yield build_templates(node, factory.mktemp("cli-template"), {name: steps})[name]
    chain.revert(before)


@pytest.fixture
def deployed(operator: Operator, deployed_template: Path, tmp_path: Path) -> Iterator[Operator]:
    """A deployment with the bureau (1) as authority and the bank (2) as relying party."""
    yield from from_template(operator, deployed_template, tmp_path)


@pytest.fixture
def supply_chain(operator: Operator, supply_template: Path, tmp_path: Path) -> Iterator[Operator]:
    """A deployment as ``deployed``'s, with the organisations of ``_supply_steps``."""
    yield from from_template(operator, supply_template, tmp_path)


def assert_one_line_error(result: Result, expected: str) -> None:
    assert result.code == 1
    assert "Traceback" not in result.err + result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
