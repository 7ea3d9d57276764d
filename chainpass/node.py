"""Run a local Anvil node (from the npm package ``@foundry-rs/anvil``) on 127.0.0.1.

``chainpass node`` uses it in the foreground (:func:`serve`); the test suite starts and
stops one itself. State can be kept in a file so that CLI work survives a restart.

Who writes Anvil's state file:

- By default (the test suite's nodes) Anvil itself (``--state``): loaded at start, rewritten
  in place every ``state_interval`` seconds whether or not anything changed, and again on a
  clean stop. Cheap for the suite's small chains; a torn write falls back to ``.last-good``.
- With ``managed_state`` (``chainpass node``) Anvil only loads the file (``--load-state``) and
  chainpass writes it (``anvil_dumpState``, whole, through a temporary file and a rename)
  when the chain's head changed, at most every ``state_interval`` seconds and never more
  than a twentieth of the time (a state that takes 2 s to write waits 40 s), and once more
  on a clean stop. An idle node is never rewritten, and a restart that mines nothing does
  not grow the file (each Anvil start adds a block 0 to its history; it is written only
  with new blocks).

How ``chainpass node`` stops (:func:`serve`): SIGINT, SIGTERM and SIGHUP only set a flag
(a second signal while it stops changes nothing), then the state is written and the node
gets SIGINT and is waited for (killed if it hangs). SIGINT is handled even when it was
ignored at start (a background job of a script); a SIGHUP ignored at start (``nohup``) stays
ignored. The node runs in a session of its own, so a terminal's Ctrl-C or hang-up reaches
chainpass only and the stop happens in that order; and it gets Linux's parent-death signal
(``PR_SET_PDEATHSIG``, SIGTERM), so even a ``kill -9`` of chainpass stops it (an Anvil
then loses the blocks mined since the last write; Ganache closes its database).

Anvil's scratch files: Anvil moves the states of older blocks to disk, under
``$HOME/.foundry/anvil/tmp``, and leaves them there when it stops (a test session's node
leaves gigabytes; sessions added up fill a disk). Each :class:`AnvilNode` therefore runs
Anvil with a ``HOME`` of its own, a temporary folder removed once the process has exited.
"""

from __future__ import annotations

import ctypes
import gzip
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
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


def rpc_call(url: str, method: str, params: list[Any], timeout: float = 5.0, session: Any = requests) -> Any:
    """One JSON-RPC call; :class:`NodeUnreachable` if there is no answer, or an error."""
    try:
        reply = session.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                             timeout=timeout)  # fmt: skip
        answer = reply.json()
    except (requests.exceptions.RequestException, ValueError) as exc:
        raise NodeUnreachable(f"The node at {url} did not answer {method}: {exc}") from None
    if not isinstance(answer, dict) or "result" not in answer:
        raise NodeUnreachable(f"The node at {url} refused {method}: {answer}")
    return answer["result"]


#: The signal the kernel sends the node when chainpass dies (``die_with_parent``).
PARENT_DEATH_SIGNAL = signal.SIGTERM
_PR_SET_PDEATHSIG = 1


def _parent_death_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks the kernel to send the child :data:`PARENT_DEATH_SIGNAL` when
    this process dies (Linux ``prctl``), or None where there is no such call. libc is looked
    up here, before the fork: the child only calls it, then checks that its parent did not
    die before the call (it would otherwise never get the signal)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, int(PARENT_DEATH_SIGNAL), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return hook


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
    #: Run the node in a session of its own and have the kernel stop it if this process
    #: dies, even by SIGKILL (Linux's parent-death signal): ``chainpass node`` does.
    die_with_parent: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Get the node's files ready before it starts (nothing by default)."""

    def _environment(self) -> dict[str, str] | None:
        """The node process's environment (None: this process's)."""
        return None

    def _clean_up(self) -> None:
        """Remove what the node leaves behind once its process has exited (nothing by default)."""

    def start(self, timeout: float = 30.0, cancelled: Callable[[], bool] | None = None) -> Self:
        """Start the node and return once it answers JSON-RPC; a Ctrl-C meanwhile leaves none behind.

        Returns early, the node perhaps not answering yet, once ``cancelled()`` is true (the
        caller then stops it)."""
        if rpc_answers(self.url):
            raise NodeUnreachable(f"Port {self.port} is taken by another node: choose another with --port.")
        self._prepare()
        output = subprocess.DEVNULL if self.quiet else None
        hook = _parent_death_hook() if self.die_with_parent else None
        self.process = subprocess.Popen(
            self.command(),
            stdout=output,
            stderr=output,
            preexec_fn=hook,
            start_new_session=self.die_with_parent,
            env=self._environment(),
        )
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise NodeUnreachable(f"{self.program} exited at start with code {self.process.returncode}.")
                if (cancelled is not None and cancelled()) or rpc_answers(self.url):
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
            self._clean_up()
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._clean_up()

    def kill(self) -> None:
        """Kill the node at once (SIGKILL), as a crash would: it keeps only what it has written."""
        if self.process is None or self.process.poll() is not None:
            self._clean_up()
            return
        self.process.kill()
        self.process.wait()
        self._clean_up()

    def restart(self, timeout: float = 30.0) -> Self:
        """Start the node again on the same port, from its saved state if it has any."""
        self.stop()
        return self.start(timeout)

    def wait(self) -> int:
        """Block until the node exits (Ctrl-C stops it cleanly) and return its exit code."""
        assert self.process is not None
        try:
            code = self.process.wait()
        except KeyboardInterrupt:
            self.stop()
            return 0
        self._clean_up()
        return code

    def tend(self) -> None:
        """What :func:`serve` does every ``state_interval``-ish second while the node runs
        (nothing by default)."""

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
    #: Write the states of blocks older than the last few hundred to disk, for queries at
    #: old blocks (Anvil's default). Anvil writes them to ~/.foundry/anvil/tmp and leaves
    #: them there when it stops: gigabytes after a test session. False keeps none
    #: (``--max-persisted-states 0``); snapshots and reverts do not need them.
    history_on_disk: bool = True
    #: Set by :meth:`start` when the state file was damaged and its last good copy was used.
    restored_state: bool = field(default=False, repr=False)
    #: chainpass writes the state file (see the module's description), not Anvil.
    managed_state: bool = False
    #: The block the state file holds: its number, and its hash once seen on the node.
    _saved_head: tuple[int, str | None] = field(default=(0, None), repr=False)
    _saved_at: float = field(default=0.0, repr=False)
    _save_seconds: float = field(default=0.0, repr=False)
    _session: requests.Session | None = field(default=None, repr=False)
    #: The HOME Anvil runs with (its scratch files go there): see the module's description.
    _scratch: Path | None = field(default=None, repr=False)

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
        if not self.history_on_disk:
            command += ["--max-persisted-states", "0"]
        if self.quiet:
            command.append("--silent")
        return command

    @property
    def scratch(self) -> Path | None:
        """The folder Anvil runs in as its HOME while it runs (removed when it has stopped)."""
        return self._scratch

    def _environment(self) -> dict[str, str] | None:
        self._clean_up()
        self._scratch = Path(tempfile.mkdtemp(prefix="chainpass-anvil-"))
        return {**os.environ, "HOME": str(self._scratch)}

    def _clean_up(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _prepare(self) -> None:
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.restored_state, number = self._check_state_file(self.state_file)
            # What the file holds: blocks mined from the first moment on (even before this
            # start returns, or the first look) differ from it and are written.
            self._saved_head, self._saved_at = (number or 0, None), time.monotonic()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the node cleanly; with ``managed_state`` its state is written first (if the
        chain changed), and a failed write leaves the last complete file."""
        if self.managed_state and self.process is not None and self.process.poll() is None:
            with suppress(NodeUnreachable, ChainpassError):
                self.save_state(force=True)
        super().stop(timeout)

    def tend(self) -> None:
        with suppress(NodeUnreachable):  # busy or going away: the next look tries again
            self.save_state()

    def _rpc(self, method: str, params: list[Any], timeout: float = 5.0) -> Any:
        if self._session is None:
            self._session = requests.Session()  # one kept-alive connection for the looks
        return rpc_call(self.url, method, params, timeout, session=self._session)

    def _head(self) -> tuple[int, str]:
        block = self._rpc("eth_getBlockByNumber", ["latest", False])
        return int(block["number"], 16), str(block["hash"])

    def save_state(self, *, force: bool = False) -> bool:
        """With ``managed_state``: write the state file if the chain's head moved since the last
        write and the pause is over (any time, if ``force``). Returns whether it wrote.

        State changed without a new block (``anvil_setBalance`` and the like) is written with
        the next block."""
        if not self.managed_state or self.state_file is None:
            return False
        head = self._head()
        number, known = self._saved_head
        if head[0] == number and known in (None, head[1]):
            self._saved_head = head  # the loaded head, now with its hash
            return False
        pause = max(float(self.state_interval), 20 * self._save_seconds)
        if not force and time.monotonic() - self._saved_at < pause:
            return False
        began = time.monotonic()
        dumped = bytes.fromhex(str(self._rpc("anvil_dumpState", [], timeout=600)).removeprefix("0x"))
        try:
            state = gzip.decompress(dumped)  # checked: a cut dump fails here
        except (OSError, EOFError):  # a plain JSON dump
            state = dumped
            json.loads(state)
        write_bytes_atomic(self.state_file, state)
        self._saved_head, self._saved_at = head, time.monotonic()
        self._save_seconds = self._saved_at - began
        return True

    @staticmethod
    def _check_state_file(state: Path) -> tuple[bool, int | None]:
        """Keep a last good copy of the state file, and fall back to it when the file is damaged.

        Anvil rewrites its state file in place every ``state_interval``; a node killed during
        that write leaves a truncated file that Anvil then refuses to start from. Each start
        first copies a state file that reads back into ``<state>.last-good``; a damaged one is
        replaced by that copy (the chain loses what it mined since then, as a crash loses
        what is not yet written). Returns whether the copy was used, and the number of the
        state's last block.
        """
        if not state.exists():
            return False, None
        backup = state.with_name(state.name + ".last-good")
        data = state.read_bytes()
        try:
            number = _best_block(json.loads(data))
        except ValueError:
            if not backup.exists():
                raise NodeUnreachable(
                    f"The node's state file {state} is damaged (the node was killed while writing it) and there "
                    "is no earlier copy: move it aside to start an empty chain."
                ) from None
            data = backup.read_bytes()
            write_bytes_atomic(state, data)
            with suppress(ValueError):
                return True, _best_block(json.loads(data))
            return True, None
        write_bytes_atomic(backup, data)
        return False, number


def _best_block(state: Any) -> int | None:
    """The number of an Anvil state dump's last block, if it says."""
    best = state.get("best_block_number") if isinstance(state, dict) else None
    if isinstance(best, str):
        return int(best, 16)
    return best if isinstance(best, int) else None


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

    def start(self, timeout: float = 60.0, cancelled: Callable[[], bool] | None = None) -> Self:
        """Start ganache (slower to start than Anvil) and return once it answers JSON-RPC."""
        return super().start(timeout, cancelled)

    def _prepare(self) -> None:
        if self.db_dir is not None:
            self.db_dir.mkdir(parents=True, exist_ok=True)


# ----------------------------------------------------------------------------- serve

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _StopFlag:
    """Stop signals set a flag and wake :meth:`sleep` (through Python's wakeup fd); nothing is
    raised, so no signal can cut a stop (or a state write) in half."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}
        self._read, self._write = os.pipe()
        for fd in (self._read, self._write):
            os.set_blocking(fd, False)
        self._previous_fd = -1

    def __call__(self, signum: int, _frame: Any) -> None:
        if self.received is None:
            self.received = signal.Signals(signum)

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            if sig == signal.SIGHUP and signal.getsignal(sig) == signal.SIG_IGN:
                continue  # nohup: the user asked to outlive the terminal
            self._previous[sig] = signal.signal(sig, self)
        self._previous_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)

    def restore(self) -> None:
        signal.set_wakeup_fd(self._previous_fd)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        os.close(self._read)
        os.close(self._write)

    def sleep(self, seconds: float) -> None:
        """Sleep, waking at once when a signal arrives."""
        if self.received is None:
            select.select([self._read], [], [], seconds)
        with suppress(BlockingIOError):
            while os.read(self._read, 512):
                pass


def serve(node: LocalNode, ready: Callable[[LocalNode], None], watch: float = 1.0) -> int:
    """Run ``node`` until SIGINT, SIGTERM or SIGHUP (exit code 0) or until it exits by itself
    (its code, 1 if it was killed), calling ``ready(node)`` once it answers; ``chainpass node``.

    The node is stopped however this ends (a signal, an error here, the node's end); see the
    module's description for the order. Every ``watch`` seconds :meth:`LocalNode.tend` runs (an
    Anvil with ``managed_state`` writes its state if the chain changed). Only from the main
    thread (signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("serve() runs in the main thread: it handles the stop signals")
    node.die_with_parent = True
    flag = _StopFlag()
    flag.install()  # before the node starts: it inherits default dispositions, not SIG_IGN
    try:
        node.start(cancelled=lambda: flag.received is not None)
        if flag.received is not None:
            return 0
        ready(node)
        assert node.process is not None
        while flag.received is None:
            code = node.process.poll()
            if code is not None:
                return code if code > 0 else 1
            node.tend()
            flag.sleep(watch)
        return 0
    finally:
        node.stop(timeout=20.0)
        flag.restore()
