"""`chainpass node`: its node stops with it however it stops, its state file is written only
when the chain changed (whole, through a rename), and it idles without burning CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from chainpass.node import AnvilNode, free_port, rpc_answers, rpc_call

pytestmark = pytest.mark.anvil


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Running:
    """`chainpass node` in a process of its own, and the node it started."""

    def __init__(self, home: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from chainpass.cli import main; main()", "--home", str(home), "node",
             "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not rpc_answers(self.url):
            assert self.process.poll() is None, self.process.communicate()
            assert time.monotonic() < deadline, "the node did not start"
            time.sleep(0.1)
        (self.node,) = _children(self.process.pid)

    def send(self) -> None:
        accounts = rpc_call(self.url, "eth_accounts", [])
        tx = rpc_call(self.url, "eth_sendTransaction", [{"from": accounts[0], "to": accounts[1], "value": "0x1"}])
        deadline = time.monotonic() + 10
        while rpc_call(self.url, "eth_getTransactionReceipt", [tx]) is None:  # mined
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def head(self) -> int:
        return int(rpc_call(self.url, "eth_blockNumber", []), 16)

    def ended(self, timeout: float = 15) -> int:
        code = self.process.wait(timeout)
        deadline = time.monotonic() + timeout
        while _alive(self.node) and time.monotonic() < deadline:
            time.sleep(0.05)
        return code

    def kill(self) -> None:
        for pid in (self.process.pid, self.node):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    node = Running(tmp_path / "home", free_port())
    yield node
    node.kill()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_stops_the_node_and_keeps_its_state(
    running: Running, tmp_path: Path, stop: signal.Signals
) -> None:
    running.send()
    head = running.head()

    running.process.send_signal(stop)
    code = running.ended()

    assert code == 0
    assert not _alive(running.node) and not rpc_answers(running.url)  # the port is free again
    with AnvilNode(port=free_port(), state_file=tmp_path / "home" / "anvil-state.json") as again:
        assert int(rpc_call(again.url, "eth_blockNumber", []), 16) == head  # written on the way out


def test_the_node_dies_with_chainpass_even_when_it_is_killed(running: Running) -> None:
    running.process.kill()  # SIGKILL: no handler runs; the kernel's parent-death signal does
    running.process.wait()
    deadline = time.monotonic() + 15
    while _alive(running.node) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert not _alive(running.node) and not rpc_answers(running.url)


def test_the_state_file_is_written_when_the_chain_changes_and_not_while_idle(running: Running, tmp_path: Path) -> None:
    state = tmp_path / "home" / "anvil-state.json"
    running.send()
    deadline = time.monotonic() + 10
    while not state.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    written = state.stat().st_mtime_ns
    parent_cpu = _cpu_seconds(running.process.pid)
    node_cpu = _cpu_seconds(running.node)

    time.sleep(3)  # idle

    assert state.stat().st_mtime_ns == written  # nothing rewritten while nothing changed
    assert json.loads(state.read_text())["block"]["number"] == hex(running.head())  # whole, readable
    assert _cpu_seconds(running.process.pid) - parent_cpu < 0.3  # about a tenth of a core at most
    assert _cpu_seconds(running.node) - node_cpu < 0.6
    assert not list(state.parent.glob("*.tmp"))


def test_a_port_taken_by_another_program_is_one_sentence(tmp_path: Path) -> None:
    with AnvilNode(port=free_port()) as other:
        taken = subprocess.run(
            [sys.executable, "-c", "from chainpass.cli import main; main()", "--home", str(tmp_path), "node",
             "--port", str(other.port)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert requests.post(other.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=5).ok

    assert taken.returncode == 1 and "Traceback" not in taken.stderr
    assert f"Port {other.port} is taken" in taken.stderr
