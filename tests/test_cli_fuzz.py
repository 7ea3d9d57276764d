"""Every CLI command, fed generated bad values: never a traceback, never exit 0 with an error.

The test walks click's command tree (so a new command is fuzzed the day it is added),
fills each command's arguments and required options with plausible values, and then
replaces one or two of its parameters with a value hypothesis generates: numbers far out
of range, nan and inf, junk text, paths that are folders or run through a file. Each
example runs `chainpass` in-process against a deployed Anvil node and must end in one of
the documented exit codes (docs/cli.md): 0 without an error message, 1 with one line
`error: ...` (or a JSON error), 2 for a usage mistake, 3 for a negative answer. Any other
exception escaping `main` fails the test with the example that caused it.

Not fuzzed: `node` (it would start a node and run until stopped; its --port is range-checked
by a test in test_cli_operators.py), `serve` (it would serve until stopped; run as a process,
and its refusals, in test_web_resolver.py) and `demo` (a long scripted story that takes no values).
Examples are few per command and derandomised, so the run is short and repeatable.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from cli_world import PERSON
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainpass.cli import cli, main
from chainpass.cli.common import AddressType, FiniteFloat
from chainpass.node import AnvilNode

SKIPPED = {("node",), ("serve",), ("demo",)}
CODE = "(01)09506000134352(21)FUZZ1"
#: Names of path parameters the command writes (a fresh path each time), not reads.
OUTPUTS = {"out", "credential_out", "epcis_out", "state_file"}


def _leaves(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _leaves(sub, (*path, name))
    else:
        yield path, command


COMMANDS = [(path, command) for path, command in _leaves(cli) if path not in SKIPPED]

JUNK = ["", " ", "-1", "0", "0x", "0x" + "zz" * 20, "0x" + "00" * 20, "\uff11\uff12", "\x00", "9" * 80, "(01)123",
        "(01)09506000134352(21)", "https://id.example.org/01/09506000134352/10/L/21/S", "nan", "inf", "-inf",
        "1e309", "-", "--", "{}", "2026-02-30", "99999-01-01"]  # fmt: skip
junk_text = st.one_of(st.sampled_from(JUNK), st.text(max_size=24))
junk_numbers = st.one_of(
    st.sampled_from([str(2**40), str(2**64), str(10**30), "99999999999", "-1", "0", "1.5", "nan", "inf", "1e309"]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)


@pytest.fixture(scope="module")
def node_home(anvil_node: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A deployment of the contracts on the session's Anvil, in a home of its own."""
    home = tmp_path_factory.mktemp("fuzz-home")
    try:
        main(["--rpc", anvil_node.url, "--home", str(home), "deploy"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    return anvil_node.url, home


class Plausible:
    """Plausible values for each parameter, so a generated bad one gets past the others."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = itertools.count()
        self.existing = folder / "input.json"
        self.existing.write_text("{}")
        self.person = folder / "person.json"
        self.person.write_text(json.dumps(PERSON))

    def value(self, param: click.Parameter) -> list[str]:
        kind, name = param.type, param.name or ""
        if isinstance(kind, click.Choice):
            return [str(kind.choices[0])]
        if isinstance(kind, AddressType):
            return ["0x976EA74026E726554dB657fA54763abd0C3a0aa9"]
        if isinstance(kind, click.Path):
            if name in OUTPUTS:
                return [str(self.folder / f"out-{next(self.counter)}.json")]
            if name == "attributes_file":
                return [str(self.person)]
            return [str(self.existing)]
        if isinstance(kind, click.IntRange | FiniteFloat) or kind is click.INT:
            return ["1"]
        if name in ("code", "codes", "container", "inputs", "outputs"):
            return [CODE]
        return {"keys": ["name"], "name": ["fuzz"], "transformation": ["run-1"]}.get(name, ["x"])


def _argv(command: click.Command, plausible: Plausible, bad: dict[str, str], flags: set[str]) -> list[str]:
    """The arguments for ``command``: the generated ``bad`` values where given, else plausible
    ones for what is required, and the chosen ``flags``."""
    options: list[str] = []
    arguments: list[str] = []
    for param in command.params:
        name = param.name or ""
        if isinstance(param, click.Option) and param.is_flag:
            if name in flags:
                options.append(param.opts[0])
            continue
        if name in bad:
            values = [bad[name]]
        elif param.required:
            values = plausible.value(param)
        else:
            continue
        if isinstance(param, click.Argument):
            arguments += values
        else:
            for value in values:
                options += [param.opts[0], value]
    # "--" keeps a generated value that starts with "-" an argument, as a careful shell user would.
    return [*options, "--", *arguments] if arguments else options


def _bad_value(param: click.Parameter) -> st.SearchStrategy[str]:
    if isinstance(param.type, click.IntRange | FiniteFloat) or param.type in (click.INT, click.FLOAT):
        return st.one_of(junk_numbers, junk_text)
    if isinstance(param.type, click.Path):
        return st.sampled_from(["", ".", "/", "/proc/1/nope", "{file}/below.json", "{folder}", "/dev/null"])
    return junk_text


CASES = [
    (path, command, param.name or "")
    for path, command in COMMANDS
    for param in command.params
    if not (isinstance(param, click.Option) and param.is_flag)
] + [(path, command, "") for path, command in COMMANDS if all(isinstance(p, click.Option) and p.is_flag
                                                               for p in command.params)]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "command", "target"), CASES, ids=[" ".join(p) + (f" {t}" if t else "") for p, _, t in CASES]
)
def test_no_traceback_and_no_success_with_an_error(
    path: tuple[str, ...],
    command: click.Command,
    target: str,
    node_home: tuple[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each parameter of each command in turn gets generated bad values, the others plausible ones."""
    rpc, home = node_home
    # No password and no key in the environment: a keystore command stops at once, asking for none.
    monkeypatch.delenv("CHAINPASS_PASSWORD", raising=False)
    monkeypatch.delenv("CHAINPASS_PRIVATE_KEY", raising=False)
    plausible = Plausible(tmp_path)
    flag_names = sorted(p.name or "" for p in command.params if isinstance(p, click.Option) and p.is_flag)
    param = next((p for p in command.params if p.name == target), None)
    bad_values: st.SearchStrategy[dict[str, str]] = (
        st.just({}) if param is None else _bad_value(param).map(lambda value: {target: value})
    )

    @settings(max_examples=6, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(bad=bad_values, flags=st.sets(st.sampled_from(flag_names)) if flag_names else st.just(set()))
    def run(bad: dict[str, str], flags: set[str]) -> None:
        bad = {
            k: v.replace("{file}", str(plausible.existing)).replace("{folder}", str(tmp_path)) for k, v in bad.items()
        }
        argv = ["--rpc", rpc, "--home", str(home), *path, *_argv(command, plausible, bad, flags)]
        code: Any = 0
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if exc.code is not None else 0
        out, err = capsys.readouterr()
        _assert_documented_outcome(argv, code, out, err)

    run()


def _assert_documented_outcome(argv: list[str], code: Any, out: str, err: str) -> None:
    where = f"chainpass {' '.join(argv)}\nexit {code}\nstdout: {out[-400:]}\nstderr: {err[-400:]}"
    assert code in (0, 1, 2, 3), where
    assert "Traceback" not in out + err, where
    if code == 0 or code == 3:
        assert "error" not in err.lower(), where
    elif code == 1:
        if "--json" in argv and out.strip().startswith("{"):
            reply = json.loads(out)
            assert isinstance(reply, dict) and reply.get("error"), where
        else:
            assert err.startswith("error: "), where
    else:
        assert "Error:" in err, where
