"""Run a local Anvil node (from the npm package ``@foundry-rs/anvil``) on 127.0.0.1.

``chainpass node`` uses it in the foreground; the test suite starts and stops one
itself. State can be kept in a file (Anvil's ``--state``) so that CLI work survives a
restart: it is loaded at start, written every second and again on a clean stop.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self

import requests

from chainpass.errors import ChainpassError, NodeUnreachable
from chainpass.files import write_bytes_atomic

DEFAULT_PORT = 8545
#: Anvil's default chain id; the same for every fresh Anvil, which is why deployment
#: records are checked against the code on chain.
ANVIL_CHAIN_ID = 31337
#: Same as the compiler target, and the newest EVM Ganache 7.9 runs.
HARDFORK = "shanghai"


class AnvilNotFound(ChainpassError):
    """No anvil binary: run `make setup` (npm ci) or set CHAINPASS_ANVIL."""


def find_anvil() -> Path:
    """The anvil binary: $CHAINPASS_ANVIL, the npm package next to us or the cwd, or PATH."""
    explicit = os.environ.get("CHAINPASS_ANVIL")
    if explicit:
        return Path(explicit)
    roots = [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parent.parent]
    for root in roots:
        for binary in sorted((root / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
            if os.access(binary, os.X_OK):
                return binary
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise AnvilNotFound(
        "No anvil binary found: run `make setup` in the chainpass checkout (it runs `npm ci`), "
        "or set CHAINPASS_ANVIL to the binary's path."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rpc_answers(url: str, timeout: float = 1.0) -> bool:
    try:
        reply = requests.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=timeout
        )
        return reply.ok and "result" in reply.json()
    except (requests.exceptions.RequestException, ValueError):
        return False


@dataclass
class LocalNode:
    """A local node process on 127.0.0.1 that chainpass starts and stops (Anvil, Ganache)."""

    #: The program's name, for messages.
    program: ClassVar[str] = "node"
    #: Seconds between looks while it starts.
    poll: ClassVar[float] = 0.05

    port: int = DEFAULT_PORT
    quiet: bool = True
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Get the node's files ready before it starts (nothing by default)."""

    def start(self, timeout: float = 30.0) -> Self:
        """Start the node and return once it answers JSON-RPC; a Ctrl-C meanwhile leaves none behind."""
        if rpc_answers(self.url):
            raise NodeUnreachable(f"Port {self.port} is taken by another node: choose another with --port.")
        self._prepare()
        output = subprocess.DEVNULL if self.quiet else None
        self.process = subprocess.Popen(self.command(), stdout=output, stderr=output)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise NodeUnreachable(f"{self.program} exited at start with code {self.process.returncode}.")
                if rpc_answers(self.url):
                    return self
                time.sleep(self.poll)
        except BaseException:
            self.stop()
            raise
        self.stop()
        raise NodeUnreachable(f"{self.program} did not answer on {self.url} within {timeout:.0f} s.")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the node cleanly (SIGINT: Anvil writes its state file, Ganache closes its
        database), killing it if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """Kill the node at once (SIGKILL), as a crash would: it keeps only what it has written."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill()
        self.process.wait()

    def restart(self, timeout: float = 30.0) -> Self:
        """Start the node again on the same port, from its saved state if it has any."""
        self.stop()
        return self.start(timeout)

    def wait(self) -> int:
        """Block until the node exits (Ctrl-C stops it cleanly) and return its exit code."""
        assert self.process is not None
        try:
            return self.process.wait()
        except KeyboardInterrupt:
            self.stop()
            return 0

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class AnvilNode(LocalNode):
    """One Anvil process on 127.0.0.1."""

    program: ClassVar[str] = "anvil"

    state_file: Path | None = None
    #: Seconds between state-file writes (Anvil's --state-interval); a killed node loses at most this much.
    state_interval: int = 1
    #: Mine a block every this many seconds instead of one per transaction (Anvil's --block-time).
    block_time: float | None = None
    #: Set by :meth:`start` when the state file was damaged and its last good copy was used.
    restored_state: bool = field(default=False, repr=False)

    def command(self) -> list[str]:
        command = [
            str(find_anvil()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(ANVIL_CHAIN_ID),
            "--hardfork", HARDFORK,
        ]  # fmt: skip
        if self.state_file is not None:
            command += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        if self.block_time is not None:
            command += ["--block-time", f"{self.block_time:g}"]
        if self.quiet:
            command.append("--silent")
        return command

    def _prepare(self) -> None:
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.restored_state = self._check_state_file(self.state_file)

    @staticmethod
    def _check_state_file(state: Path) -> bool:
        """Keep a last good copy of the state file, and fall back to it when the file is damaged.

        Anvil rewrites its state file in place every ``state_interval``; a node killed during
        that write leaves a truncated file that Anvil then refuses to start from. Each start
        first copies a state file that reads back into ``<state>.last-good``; a damaged one is
        replaced by that copy (the chain loses what it mined since then, as a crash loses
        what is not yet written). Returns whether the copy was used.
        """
        if not state.exists():
            return False
        backup = state.with_name(state.name + ".last-good")
        data = state.read_bytes()
        try:
            json.loads(data)
        except ValueError:
            if not backup.exists():
                raise NodeUnreachable(
                    f"The node's state file {state} is damaged (the node was killed while writing it) and there "
                    "is no earlier copy: move it aside to start an empty chain."
                ) from None
            write_bytes_atomic(state, backup.read_bytes())
            return True
        write_bytes_atomic(backup, data)
        return False


# ----------------------------------------------------------------------------- Ganache

#: Ganache's default chain id (also what MetaMask and Truffle expect of a local Ganache).
GANACHE_CHAIN_ID = 1337
#: The mnemonic Anvil and Hardhat use: Ganache then holds the same ten dev accounts
#: (same addresses, same keys) as Anvil, so scripts and docs work on either node.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
#: Ether per dev account: Anvil's 10,000, plenty for the suite's faucet and deployments.
GANACHE_BALANCE_ETHER = 10_000
#: Anvil's block gas limit (30M): large batches and deployments fit as they do on Anvil.
GANACHE_BLOCK_GAS_LIMIT = 30_000_000


class GanacheNotFound(ChainpassError):
    """No ganache CLI: run `make setup` (npm ci) or set CHAINPASS_GANACHE."""


def find_ganache() -> Path:
    """The ganache CLI: $CHAINPASS_GANACHE, the npm package next to us or the cwd, or PATH."""
    explicit = os.environ.get("CHAINPASS_GANACHE")
    if explicit:
        return Path(explicit)
    roots = [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parent.parent]
    for root in roots:
        binary = root / "node_modules" / ".bin" / "ganache"
        if os.access(binary, os.X_OK):
            return binary
    found = shutil.which("ganache")
    if found:
        return Path(found)
    raise GanacheNotFound(
        "No ganache found: run `make setup` in the chainpass checkout (it runs `npm ci`), "
        "or set CHAINPASS_GANACHE to the ganache CLI's path."
    )


@dataclass
class GanacheNode(LocalNode):
    """One Ganache 7.9 process on 127.0.0.1: shanghai, instamine, Anvil's dev accounts.

    ``db_dir`` keeps the chain in a directory (Ganache's ``--database.dbPath``) so that it
    survives a restart, as Anvil's state file does.
    """

    program: ClassVar[str] = "ganache"
    poll: ClassVar[float] = 0.1

    db_dir: Path | None = None
    accounts: int = 10

    def command(self) -> list[str]:
        command = [
            str(find_ganache()),
            "--server.host", "127.0.0.1",
            "--server.port", str(self.port),
            "--chain.chainId", str(GANACHE_CHAIN_ID),
            "--chain.hardfork", HARDFORK,
            "--wallet.mnemonic", DEV_MNEMONIC,
            "--wallet.totalAccounts", str(self.accounts),
            "--wallet.defaultBalance", str(GANACHE_BALANCE_ETHER),
            "--miner.blockGasLimit", hex(GANACHE_BLOCK_GAS_LIMIT),
            "--miner.instamine", "eager",
        ]  # fmt: skip
        if self.db_dir is not None:
            command += ["--database.dbPath", str(self.db_dir)]
        if self.quiet:
            command.append("--logging.quiet")
        return command

    def start(self, timeout: float = 60.0) -> Self:
        """Start ganache (slower to start than Anvil) and return once it answers JSON-RPC."""
        return super().start(timeout)

    def _prepare(self) -> None:
        if self.db_dir is not None:
            self.db_dir.mkdir(parents=True, exist_ok=True)
