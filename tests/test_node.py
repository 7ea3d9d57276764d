"""`chainpass node` as a process (issue 13, item 5): SIGINT, SIGTERM and SIGHUP stop its node
and keep what was mined, a `kill -9` of chainpass takes the node with it, Anvil's state file
is written when the chain changes and never while idle, and the idle node costs little CPU.

Every test runs the real command (Anvil and Ganache) on a free port of 127.0.0.1 and polls
with generous deadlines (a loaded 2-core CI machine starts Ganache in seconds, not tenths).
Each stop signal is sent to Anvil's; Ganache's gets SIGTERM and a terminal's Ctrl-C
(``STOPS`` says why that is enough).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from eth_account import Account

from chainpass.node import AnvilNode, free_port, rpc_answers, rpc_call

KINDS = ["anvil", "ganache"]
#: Seconds a stop may take on a loaded machine; they are deadlines, not sleeps.
STOP_SECONDS = 30.0
START_SECONDS = 90.0


def _poll(what: str, done: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a node binds: TIME_WAIT is no listener
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


#: As a terminal (or a script's background job) starts it: SIGINT ignored, as a non-interactive
#: shell leaves a background job, which `chainpass node` must still obey; SIGHUP as a terminal's
#: session has it, unless ``nohup``.
_LAUNCH = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "signal.signal(signal.SIGHUP, signal.SIG_IGN if sys.argv.pop(1) == 'nohup' else signal.SIG_DFL); "
    "from chainpass.cli import main; main()"
)


class Running:
    """`chainpass node` in a process of its own, and the node process it started."""

    def __init__(
        self, home: Path, kind: str, port: int | None = None, *, nohup: bool = False, terminal: bool = False
    ) -> None:
        self.kind = kind
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-c", _LAUNCH, "nohup" if nohup else "hup", "--home", str(home), "node"]
        command += ["--port", str(self.port), *(["--ganache"] if kind == "ganache" else [])]
        # terminal: a process group of its own, as a shell's foreground job, for Ctrl-C to the group.
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=terminal
        )
        self.node = 0
        try:
            _poll(f"chainpass node {kind} answers", self._answers, START_SECONDS)
            _poll("its node process is listed", self._found_node, 10)
        except BaseException:
            self.kill()
            raise

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            _, err = self.process.communicate()
            pytest.fail(f"chainpass node exited at start ({self.process.returncode}): {err.decode(errors='replace')}")
        return rpc_answers(self.url)

    def _found_node(self) -> bool:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return False
        if children:
            (self.node,) = map(int, children)
        return bool(children)

    def pay(self, to: str, value: int) -> str:
        """Send ``value`` wei from a dev account to ``to`` and wait until it is mined; the head's hash."""
        accounts = rpc_call(self.url, "eth_accounts", [])
        tx = rpc_call(self.url, "eth_sendTransaction", [{"from": accounts[0], "to": to, "value": hex(value)}])
        _poll("the payment is mined", lambda: rpc_call(self.url, "eth_getTransactionReceipt", [tx]) is not None, 30)
        return str(rpc_call(self.url, "eth_getBlockByNumber", ["latest", False])["hash"])

    def balance(self, of: str) -> int:
        return int(rpc_call(self.url, "eth_getBalance", [of, "latest"]), 16)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send ``sig``; chainpass's exit code once it and its node are gone and the port is free."""
        self.process.send_signal(sig)
        try:
            code = self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"chainpass node did not end within {STOP_SECONDS:.0f} s of {sig.name}")
        self.gone()
        return code

    def gone(self) -> None:
        _poll("the node process ended (no orphan)", lambda: not _alive(self.node), STOP_SECONDS)
        _poll("the port is free", lambda: _port_free(self.port), STOP_SECONDS)

    def kill(self) -> None:
        """Clean-up: SIGKILL what is still running of the two processes this test started."""
        for pid in (self.process.pid, self.node):
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(STOP_SECONDS)
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(kind: str, port: int | None = None, *, nohup: bool = False, terminal: bool = False) -> Running:
        started.append(Running(tmp_path / "home", kind, port, nohup=nohup, terminal=terminal))
        return started[-1]

    yield start
    for running in started:
        running.kill()


#: Each stop signal on Anvil, and SIGTERM on Ganache: `serve` handles the three alike for
#: either kind (a flag, then the node's own stop), so the kind matters for the stop and the
#: restart (a state file, a database), not for the signal; Ctrl-C (SIGINT) on Ganache is
#: the test after this one.
STOPS = [("anvil", signal.SIGTERM), ("anvil", signal.SIGINT), ("anvil", signal.SIGHUP), ("ganache", signal.SIGTERM)]


@pytest.mark.parametrize(("kind", "sig"), STOPS, ids=[f"{kind}-{sig.name}" for kind, sig in STOPS])
def test_a_stop_signal_stops_the_node_and_keeps_what_was_mined(
    launch: Callable[..., Running], kind: str, sig: signal.Signals
) -> None:
    first = launch(kind)
    payee = Account.create().address
    head = first.pay(payee, 12345)

    assert first.stop(sig) == 0  # and the node is gone, the port free (Running.stop checks)

    again = launch(kind, first.port)  # the same home: the same state file or database
    assert again.balance(payee) == 12345
    assert rpc_call(again.url, "eth_getBlockByNumber", ["latest", False])["hash"] == head
    assert again.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_ctrl_c_twice_in_a_terminal_stops_the_node_once_and_keeps_what_was_mined(
    launch: Callable[..., Running], kind: str
) -> None:
    first = launch(kind, terminal=True)
    payee = Account.create().address
    first.pay(payee, 777)

    os.killpg(first.process.pid, signal.SIGINT)  # the terminal signals its foreground group
    time.sleep(0.2)
    with suppress(ProcessLookupError):  # an impatient second Ctrl-C, if chainpass is still there
        os.killpg(first.process.pid, signal.SIGINT)
    first.process.wait(STOP_SECONDS)
    first.gone()

    assert first.process.returncode == 0
    again = launch(kind, first.port)
    assert again.balance(payee) == 777


@pytest.mark.parametrize("kind", KINDS)
def test_a_kill_9_of_chainpass_node_takes_its_node_with_it(launch: Callable[..., Running], kind: str) -> None:
    running = launch(kind)

    running.process.kill()  # no handler runs: the kernel's parent-death signal stops the node
    running.process.wait(STOP_SECONDS)

    running.gone()


def test_a_sighup_ignored_at_start_nohup_is_obeyed(launch: Callable[..., Running]) -> None:
    running = launch("anvil", nohup=True)

    running.process.send_signal(signal.SIGHUP)
    time.sleep(1)  # nothing must happen: a positive check cannot be polled for

    assert running.process.poll() is None and rpc_answers(running.url)
    assert running.stop(signal.SIGTERM) == 0


def _best(state: Path) -> int:
    return int(json.loads(state.read_text())["best_block_number"])


def _state_on_disk(state: Path) -> tuple[int, int, int]:
    info = state.stat()
    return info.st_ino, info.st_size, info.st_mtime_ns


def test_anvil_state_file_is_written_when_the_chain_changes_and_never_while_idle(
    launch: Callable[..., Running], tmp_path: Path
) -> None:
    state = tmp_path / "home" / "anvil-state.json"
    running = launch("anvil")
    running.pay(Account.create().address, 1)
    head = rpc_call(running.url, "eth_blockNumber", [])
    _poll("the state file holds the new block", lambda: state.exists() and _best(state) == int(head, 16), 30)
    written = _state_on_disk(state)
    cpu = {pid: _cpu_seconds(pid) for pid in (running.process.pid, running.node)}
    began = time.monotonic()

    time.sleep(5)  # idle: the measurement itself

    seconds = time.monotonic() - began
    used = {pid: _cpu_seconds(pid) - before for pid, before in cpu.items()}
    assert _state_on_disk(state) == written  # not rewritten (same file, size and time)
    assert not list(state.parent.glob("*.tmp"))
    # A third of a core before the fix; a twentieth is a generous bound for a loaded machine.
    assert used[running.node] < seconds / 20, used
    assert used[running.process.pid] < seconds / 20, used

    assert running.stop(signal.SIGTERM) == 0
    assert _state_on_disk(state) == written  # nothing new to write on the way out

    for _ in range(2):  # restarts that mine nothing leave the file as it was: it does not grow
        launch("anvil", running.port).stop(signal.SIGINT)
        assert _state_on_disk(state) == written


def test_ganache_idles_without_burning_cpu(launch: Callable[..., Running]) -> None:
    running = launch("ganache")
    running.pay(Account.create().address, 1)
    cpu = {pid: _cpu_seconds(pid) for pid in (running.process.pid, running.node)}
    began = time.monotonic()

    time.sleep(5)  # idle: the measurement itself

    seconds = time.monotonic() - began
    used = {pid: _cpu_seconds(pid) - before for pid, before in cpu.items()}
    assert used[running.node] < seconds / 20, used
    assert used[running.process.pid] < seconds / 20, used


@pytest.mark.parametrize("end", ["stop", "kill"])
def test_anvil_runs_in_a_scratch_home_that_goes_with_it(end: str) -> None:
    """Anvil leaves the states it moved to disk in $HOME/.foundry/anvil/tmp: each node gets
    a HOME of its own, removed once the process has exited, cleanly or not."""
    node = AnvilNode(port=free_port()).start()
    scratch = node.scratch
    assert scratch is not None and scratch.is_dir() and scratch != Path.home()
    assert node.process is not None
    environment = Path(f"/proc/{node.process.pid}/environ").read_bytes().split(b"\0")
    assert f"HOME={scratch}".encode() in environment

    getattr(node, end)()

    assert not scratch.exists() and node.scratch is None
