"""Run a local Anvil node (from the npm package ``@foundry-rs/anvil``) on 127.0.0.1.

``chainpass node`` uses it in the foreground; the test suite starts and stops one
itself. State can be kept in a file so that CLI work survives a restart: it is loaded at
start and written again while the node runs and on a clean stop.

Who writes the state file: by default Anvil itself (``--state``: every ``state_interval``
seconds, whether or not anything changed, in place). ``chainpass node`` uses
``managed_state`` instead: Anvil only loads the file, and :meth:`AnvilNode.wait` writes it
(``anvil_dumpState``, through a temporary file and a rename) when the chain has new
blocks, no more often than every ``state_interval`` seconds and never more than a
twentieth of the time (a big state that takes 2 s to write is written at most every 40 s).
An idle node is then never rewritten, and a killed one leaves its last complete file.

Whatever stops ``chainpass node`` (Ctrl-C, SIGTERM, SIGHUP, an error of its own) stops its
node first; with ``die_with_parent`` the kernel stops the node even if chainpass is killed
outright (Linux's parent-death signal).
"""

from __future__ import annotations

import ctypes
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

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


def rpc_call(url: str, method: str, params: list[Any], timeout: float = 5.0) -> Any:
    """One JSON-RPC call; :class:`NodeUnreachable` if there is no answer, or an error."""
    try:
        reply = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                              timeout=timeout)  # fmt: skip
        answer = reply.json()
    except (requests.exceptions.RequestException, ValueError) as exc:
        raise NodeUnreachable(f"The node at {url} did not answer {method}: {exc}") from None
    if "result" not in answer:
        raise NodeUnreachable(f"The node at {url} refused {method}: {answer.get('error')}")
    return answer["result"]


class StopSignal(Exception):
    """A stop signal (SIGTERM, SIGHUP) arrived."""


@contextmanager
def stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`StopSignal` (SIGINT raises KeyboardInterrupt as ever), so
    that whatever stops the process runs its clean-up; only in the main thread."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        raise StopSignal(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends it SIGINT when its parent dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the signal handlers still stop it
        pass


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
    #: Have the kernel stop the node if this process dies, even by SIGKILL (Linux).
    die_with_parent: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    #: Seconds between looks at the node while :meth:`wait` waits (it sleeps in between).
    watch: ClassVar[float] = 1.0

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
        preexec: Callable[[], None] | None = _die_with_parent if self.die_with_parent else None
        # With die_with_parent the node also gets a session of its own: a Ctrl-C or a hang-up
        # from the terminal reaches chainpass only, which stops the node in order (state first).
        self.process = subprocess.Popen(
            self.command(), stdout=output, stderr=output, preexec_fn=preexec, start_new_session=self.die_with_parent
        )
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise NodeUnreachable(
                        f"{self.program} exited at start with code {self.process.returncode}: is port {self.port} "
                        "taken by another program? Choose another with --port. (Without --quiet its own "
                        "message shows.)"
                    )
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
        """Block until the node exits and return its exit code. Ctrl-C, SIGTERM and SIGHUP stop
        it cleanly (exit code 0), as does any error here: the node never outlives this call."""
        assert self.process is not None
        try:
            with stop_signals():
                while True:
                    code = self.process.poll()
                    if code is not None:
                        return code
                    self._tend()
                    time.sleep(self.watch)
        except (KeyboardInterrupt, StopSignal):
            return 0
        finally:
            self.stop()

    def _tend(self) -> None:
        """What to do every :attr:`watch` seconds while the node runs (nothing by default)."""

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
    #: Write the state file from here (see the module's description) instead of Anvil's
    #: rewriting it every ``state_interval`` seconds.
    managed_state: bool = False
    _saved_head: str | None = field(default=None, repr=False)
    _saved_at: float = field(default=0.0, repr=False)
    _save_seconds: float = field(default=0.0, repr=False)

    def command(self) -> list[str]:
        command = [
            str(find_anvil()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(ANVIL_CHAIN_ID),
            "--hardfork", HARDFORK,
        ]  # fmt: skip
        if self.state_file is not None and self.managed_state:
            if self.state_file.exists():
                command += ["--load-state", str(self.state_file)]
        elif self.state_file is not None:
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

    def start(self, timeout: float = 30.0) -> Self:
        super().start(timeout)
        if self.managed_state:
            self._saved_head, self._saved_at = self._head(), time.monotonic()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.managed_state and self.process is not None and self.process.poll() is None:
            with suppress(NodeUnreachable, OSError):  # else the last complete file stays
                self.save_state(force=True)
        super().stop(timeout)

    def _tend(self) -> None:
        with suppress(NodeUnreachable):  # busy or going away: the next look tries again
            self.save_state()

    def _head(self) -> str:
        return str(rpc_call(self.url, "eth_getBlockByNumber", ["latest", False])["hash"])

    def save_state(self, *, force: bool = False) -> bool:
        """With ``managed_state``: write the state file if the chain has new blocks since the
        last write and enough time has passed (always, if ``force`` and it changed).
        Returns whether it wrote."""
        if not self.managed_state or self.state_file is None:
            return False
        head = self._head()
        if head == self._saved_head:
            return False
        pause = max(float(self.state_interval), 20 * self._save_seconds)
        if not force and time.monotonic() - self._saved_at < pause:
            return False
        began = time.monotonic()
        dumped = str(rpc_call(self.url, "anvil_dumpState", [], timeout=300))
        try:
            state = gzip.decompress(bytes.fromhex(dumped.removeprefix("0x")))
        except (ValueError, OSError, EOFError):  # a plain JSON dump
            state = bytes.fromhex(dumped.removeprefix("0x"))
        write_bytes_atomic(self.state_file, state)
        self._saved_head, self._saved_at = head, time.monotonic()
        self._save_seconds = self._saved_at - began
        return True

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
