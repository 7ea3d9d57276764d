"""A throwaway PostgreSQL server on 127.0.0.1, for the tests and the benchmarks (as
:class:`~chainpass.node.AnvilNode` is a throwaway chain): started, given databases, stopped.

Debian's ``postgresql`` package (``make test`` installs it when missing:
scripts/debian_setup.sh). Its ``initdb`` and ``pg_ctl`` refuse to run as root, and CI runs as
root: there they run as the ``postgres`` user that the package creates (``runuser``), on a
data folder that user owns. The cluster trusts local connections (it listens on loopback
only, on a free port, with its socket in its own folder) and is made for speed, not safety
(``fsync=off``): it lives for one test session or benchmark run. Not for keeping an index in: run a real
server for that (docs/operations.md).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from chainpass.errors import ChainpassError
from chainpass.node import free_port

#: Where Debian puts each major version's server programs.
DEBIAN_BINARIES = Path("/usr/lib/postgresql")


def binaries() -> Path:
    """The newest installed PostgreSQL's ``bin`` folder."""
    found = sorted(DEBIAN_BINARIES.glob("*/bin/initdb"), key=lambda path: int(path.parent.parent.name))
    if not found:
        raise ChainpassError("No PostgreSQL server is installed: run `make debian-setup` (Debian's postgresql).")
    return found[-1].parent


@dataclass
class LocalPostgres:
    """One throwaway cluster; :meth:`database` makes a fresh database in it per test."""

    folder: Path
    port: int = field(default_factory=free_port)
    _names: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://chainpass@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, *args], check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> LocalPostgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        bin_ = binaries()
        self._run(str(bin_ / "initdb"), "-D", str(self.data), "-U", "chainpass", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off -c full_page_writes=off"
        self._run(
            str(bin_ / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )
        return self

    def stop(self) -> None:
        self._run(str(binaries() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def database(self) -> str:
        """The URL of a new, empty database."""
        name = f"index_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def start_postgres() -> LocalPostgres:
    """A new cluster in a temporary folder, started (stop it with :meth:`LocalPostgres.stop`)."""
    return LocalPostgres(Path(tempfile.mkdtemp(prefix="chainpass-pg-"))).start()
