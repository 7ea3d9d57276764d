"""Where a :class:`~chainpass.index.TraceIndex` keeps its tables: a SQLite file (the default,
one per chain and contract, for one machine) or a PostgreSQL server (shared by several
``chainpass serve`` workers and a syncing process, on as many machines).

Both hold the same tables (``meta``, ``blocks``, ``logs``; ``anchored_events`` and
``anchored_codes`` for :mod:`chainpass.evidence`) and answer the same SQL: the index
writes its statements once, with ``?`` placeholders and standard upserts (``INSERT ... ON
CONFLICT ... DO UPDATE``), and a store only adapts the placeholders and the column types.

**PostgreSQL**: ``postgresql://user:password@host:port/database`` (libpq's URL, so its
parameters and environment variables such as ``PGPASSWORD`` work too). One database holds
the indexes of any number of chains and contracts, each in a schema of its own named from
the chain id, the genesis block and the contract address (:func:`schema_name`), described by
a comment on the schema. Writers take a transaction-level advisory lock on that schema's key
for every write, and a sync holds a session-level one from start to end, so two syncing
processes take turns (the second finds the first's blocks indexed and has little to do),
and readers, who take no lock, see each range all or nothing (PostgreSQL's read committed).
Migrations (the schema's ``format`` in ``meta``) are run under the same lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from chainpass.errors import IndexMismatch, IndexUnreachable, InvalidInput

#: The URL schemes read as a PostgreSQL server.
POSTGRES_SCHEMES = ("postgresql", "postgres")
#: Seconds to wait for the PostgreSQL server to accept a connection.
CONNECT_TIMEOUT = 10

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number {int} PRIMARY KEY, hash {blob} NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
    id {id},
    block_number {int} NOT NULL,
    block_hash {blob} NOT NULL,
    transaction_index {int} NOT NULL,
    log_index {int} NOT NULL,
    transaction_hash {blob} NOT NULL,
    address TEXT NOT NULL,
    topic0 {blob},
    topic1 {blob},
    topic2 {blob},
    topic3 {blob},
    data {blob} NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0,
    UNIQUE (block_hash, transaction_index, log_index)
);
CREATE INDEX IF NOT EXISTS logs_topic1 ON logs (topic1);
CREATE INDEX IF NOT EXISTS logs_topic2 ON logs (topic2);
CREATE INDEX IF NOT EXISTS logs_position ON logs (block_number, transaction_index, log_index);
CREATE INDEX IF NOT EXISTS logs_first_word
    ON logs (topic0, substr(data, 1, 32), block_number, transaction_index, log_index);
CREATE TABLE IF NOT EXISTS anchored_events (
    root {blob} NOT NULL,
    event_hash {blob} NOT NULL,
    organisation {blob} NOT NULL,
    event_time TEXT NOT NULL,
    bundle TEXT NOT NULL,
    PRIMARY KEY (root, event_hash)
);
CREATE TABLE IF NOT EXISTS anchored_codes (
    passport {blob} NOT NULL,
    code TEXT NOT NULL,
    root {blob} NOT NULL,
    event_hash {blob} NOT NULL,
    PRIMARY KEY (passport, root, event_hash)
);
"""

Row = tuple[Any, ...]


class IndexStore(Protocol):
    """The tables of one trace index, and the statements the index runs on them."""

    #: Where the tables are, for messages and ``chainpass index status`` (no password).
    location: str

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        """The rows ``statement`` selects."""
        ...

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the rows it changed."""
        ...

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows``."""
        ...

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """All of the block's writes or none; writers take turns."""
        ...

    def sync_turn(self) -> contextlib.AbstractContextManager[None]:
        """Held for a whole sync: one syncing process at a time."""
        ...

    def close(self) -> None: ...


def is_postgres(location: Path | str) -> bool:
    """Whether ``location`` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(location, str) and urlsplit(location).scheme in POSTGRES_SCHEMES


def schema_name(chain_id: int, genesis: str, address: str) -> str:
    """The PostgreSQL schema of one chain's contract: ``chainpass_`` and 20 hex digits of a
    hash of the three (PostgreSQL names are at most 63 bytes; the three are 100 characters)."""
    digest = hashlib.sha256(f"{chain_id}:{genesis.lower()}:{address.lower()}".encode()).hexdigest()
    return f"chainpass_{digest[:20]}"


def open_store(location: Path | str, *, schema: str, description: str, create: bool) -> IndexStore:
    """The store at ``location``: a PostgreSQL URL, else a SQLite file path. ``schema`` and
    ``description`` name the index's schema on a server (a file holds one index)."""
    if not str(location).strip():
        raise InvalidInput("The trace index needs a place: a SQLite file or a postgresql:// URL, not an empty value.")
    if is_postgres(location):
        return PostgresStore(str(location), schema=schema, description=description, create=create)
    if isinstance(location, str) and "://" in location:
        raise InvalidInput(
            f"The trace index is a SQLite file or a postgresql:// URL, not {urlsplit(location).scheme}://."
        )
    return SqliteStore(Path(location), create=create)


class SqliteStore:
    """The index in one SQLite file, in WAL mode (readers never wait for the writer)."""

    def __init__(self, path: Path, *, create: bool) -> None:
        self.path = path
        self.location = str(path)
        if not path.exists():
            if not create:
                raise InvalidInput(f"There is no trace index at {path}: run `chainpass index sync` first.")
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_TABLES.format(int="INTEGER", blob="BLOB", id="INTEGER PRIMARY KEY"))
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise IndexMismatch(f"{path} is not a chainpass trace index ({exc}): move it away.") from None

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._db.execute(statement, params))

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        return self._db.execute(statement, params).rowcount

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(statement, rows)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")  # the write lock now, not at the first write
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def sync_turn(self) -> contextlib.AbstractContextManager[None]:
        # Each range is one BEGIN IMMEDIATE transaction; a file has one machine's syncs.
        return contextlib.nullcontext()

    def close(self) -> None:
        self._db.close()


class PostgresStore:
    """The index in one schema of a PostgreSQL database (created with its tables if missing)."""

    def __init__(self, url: str, *, schema: str, description: str, create: bool) -> None:
        self.schema = schema
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        shown = host if parts.port is None else f"{host}:{parts.port}"
        if parts.username:
            shown = f"{parts.username}@{shown}"
        self.location = urlunsplit((parts.scheme, shown, parts.path, "", "")) + f"#{schema}"
        # Two 64-bit advisory-lock keys per schema: one for each write, one for a whole sync.
        digest = hashlib.sha256(schema.encode()).digest()
        self._lock_key = int.from_bytes(digest[:8], "big", signed=True)
        self._sync_key = int.from_bytes(digest[8:16], "big", signed=True)
        with self._reaching():
            try:
                self._db = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
            except psycopg.ProgrammingError as exc:  # libpq could not read the URL
                raise InvalidInput(
                    f"{_first_line(exc)}: give the index as postgresql://user@host:port/database."
                ) from None
        try:
            with self._reaching():
                self._create(schema, description, create)
        except BaseException:
            self._db.close()
            raise

    def _create(self, schema: str, description: str, create: bool) -> None:
        name = sql.Identifier(schema)
        if not self._db.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchall():
            if not create:
                raise InvalidInput(f"There is no trace index at {self.location}: run `chainpass index sync` first.")
            with self._db.transaction():
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                self._db.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
                comment = sql.Literal(f"chainpass trace index: {description}")
                self._db.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(name, comment))
        self._db.execute(sql.SQL("SET search_path TO {}").format(name))
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            self._db.execute(
                _TABLES.format(
                    int="BIGINT", blob="BYTEA", id="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
                ).encode()
            )

    @contextlib.contextmanager
    def _reaching(self) -> Iterator[None]:
        """The server's refusals and silences as chainpass errors, in one sentence."""
        try:
            yield
        except psycopg.OperationalError as exc:
            raise IndexUnreachable(
                f"The trace index's PostgreSQL server at {self.location} did not answer: {_first_line(exc)}"
            ) from None
        except psycopg.errors.InsufficientPrivilege as exc:
            raise IndexUnreachable(
                f"The trace index's PostgreSQL user may not do this at {self.location}: {_first_line(exc)}"
            ) from None

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._reaching():
            return self._db.execute(_placeholders(statement), params).fetchall()

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        with self._reaching():
            return self._db.execute(_placeholders(statement), params).rowcount

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._reaching(), self._db.cursor() as cursor:
            cursor.executemany(_placeholders(statement), rows)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._reaching(), self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            yield

    @contextlib.contextmanager
    def sync_turn(self) -> Iterator[None]:
        with self._reaching():
            self._db.execute("SELECT pg_advisory_lock(%s)", (self._sync_key,))
        try:
            yield
        finally:
            with self._reaching():
                self._db.execute("SELECT pg_advisory_unlock(%s)", (self._sync_key,))

    def close(self) -> None:
        self._db.close()


def _placeholders(statement: str) -> str:
    """The index's ``?`` placeholders as psycopg's ``%s`` (no statement holds a ``?`` or ``%``)."""
    return statement.replace("?", "%s")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
