"""Opening the database: file creation (0600), pragmas, migrations, and the write transaction.

Durability: WAL journal with ``synchronous=FULL`` by default, so a transaction that returned from COMMIT
survives a process kill and a power cut. ``normal`` keeps process-kill safety (WAL) and trades the last
commits on power loss for fewer fsyncs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

from murmur.errors import StoreError
from murmur.kinds import REGISTRY
from murmur.mentions import handle_key
from murmur.names import name_key
from murmur.store.dialect import PG_FUNCTIONS, POSTGRES
from murmur.store.schema import FILL_HANDLES, MIGRATIONS, REKEY_NAMES, SCHEMA_VERSION

if TYPE_CHECKING:
    from murmur.store import postgres
    from murmur.store.write_turn import WriteTurn

DURABILITY = {"full": "FULL", "normal": "NORMAL"}

T = TypeVar("T")
log = logging.getLogger("murmur.store")


def unhex(text: object) -> bytes | None:
    """The bytes a hex string spells, None for anything else: ``murmur_unhex`` while migrating (SQLite 3.40 has
    no unhex()), for migrations that index an id a message carries in its tags (murmur.kinds.group_state)."""
    if not isinstance(text, str):
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _create_private(path: Path) -> None:
    """Create an empty database file readable by its owner only; SQLite gives its -wal/-shm the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


class ReadConnection(aiosqlite.Connection):
    """The query-only connection, on which a read that fails is a ``StoreError``, as a write is (``Writer``).

    Every statement and every fetch of an aiosqlite connection (its cursors' too) is handed to its thread by
    ``_execute``, so this one override translates every read, whichever module wrote the query: a damaged page,
    a dropped table, a failing disk or a lock held past the busy timeout become one sentence, which the server
    answers with 503. A programming error (wrong bindings, a closed connection) is a bug, not the state of the
    database, and stays what it is.
    """

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-any-return]
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as exc:
            raise StoreError(f"The database could not be read: {exc}.") from exc


class WriteConnection(aiosqlite.Connection):
    """The connection that writes: statements whose outcome nobody reads go to its thread in one hand-off
    (``murmur.kinds.base.execute_each``, as PostgreSQL's go in one pipeline). A batch's derive and notice rules are
    some thirty statements, and each hand-off wakes the database thread and then the event loop: tens of µs each on
    a busy machine, for every batch a server stores."""

    async def execute_each(self, statements: Sequence[str], params: Mapping[str, Any]) -> None:
        await self._execute(_each, self._conn, statements, params)


def _each(conn: sqlite3.Connection, statements: Sequence[str], params: Mapping[str, Any]) -> None:
    for statement in statements:
        conn.execute(statement, params).close()


def _open(path: Path, *, reads: bool) -> aiosqlite.Connection:
    # What aiosqlite.connect does, with murmur's classes (64: aiosqlite's default chunk size).
    kind = ReadConnection if reads else WriteConnection
    return kind(partial(sqlite3.connect, str(path), isolation_level=None), 64)


async def connect(
    path: Path,
    *,
    durability: str = "full",
    migrate_schema: bool = True,
    reads: bool = False,
    database: str | None = None,
) -> aiosqlite.Connection:
    """Open (creating if needed) and migrate the database at ``path``; ``reads`` opens a ``ReadConnection``.

    ``database``, a ``postgresql://`` URL, opens that PostgreSQL database instead (``murmur.store.postgres``);
    the result answers the same calls.
    """
    if durability not in DURABILITY:
        raise StoreError(f"durability must be one of {', '.join(DURABILITY)}; got {durability!r}.")
    if database:
        # Imported here: psycopg takes a tenth of a second to import, which every CLI command and every server on
        # SQLite would pay at start for nothing.
        from murmur.store import postgres

        if reads:
            return await postgres.ReadPool.open(database, durability=durability)  # type: ignore[return-value]
        conn = await postgres.Connection.open(database, reads=reads, durability=durability)
        try:
            if migrate_schema:
                await migrate_postgres(conn)
        except BaseException:
            await conn.close()
            raise
        return conn  # type: ignore[return-value]
    if not path.exists():
        try:
            _create_private(path)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"Cannot create the database {path}: {exc.strerror}.") from exc
    try:
        conn = await _open(path, reads=reads)
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot open the database {path}: {exc}.") from exc
    try:
        await conn.execute("PRAGMA busy_timeout = 10000")
        mode = await (await conn.execute("PRAGMA journal_mode = WAL")).fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise StoreError(f"{path} could not be switched to WAL mode (is the directory read-only?).")
        await conn.execute(f"PRAGMA synchronous = {DURABILITY[durability]}")
        # The default (1000 pages) puts a checkpoint, with its fsync, inside nearly every batch commit once
        # the log is large; a bigger WAL between checkpoints halves commit cost at no loss of durability.
        await conn.execute("PRAGMA wal_autocheckpoint = 8000")
        # Ids are random, so each insert lands on a random page of the id index: keep the hot part of the
        # indexes in memory (64 MiB per connection; SQLite allocates it only as pages are used).
        await conn.execute("PRAGMA cache_size = -65536")
        await conn.execute("PRAGMA foreign_keys = ON")
        if migrate_schema:
            await migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        await conn.close()
        unwritable = _unwritable(path)
        if unwritable:
            raise StoreError(unwritable) from exc
        raise StoreError(
            f"{path} is not a usable murmur database ({exc}). Restore it from a backup, "
            "or move it aside to start empty."
        ) from exc
    except BaseException:
        await conn.close()
        raise
    return conn


async def migrate(conn: aiosqlite.Connection, path: Path) -> None:
    row = await (await conn.execute("PRAGMA user_version")).fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version}, newer than this murmur knows ({SCHEMA_VERSION}). "
            "Upgrade murmur to open it."
        )
    await conn.create_function("murmur_name_key", 1, name_key, deterministic=True)
    await conn.create_function("murmur_handle_key", 1, handle_key, deterministic=True)
    await conn.create_function("murmur_unhex", 1, unhex, deterministic=True)
    for number in range(version, SCHEMA_VERSION):
        # executescript commits first; the version bump is part of the migration's own script so a crash
        # between the two cannot leave a half-migrated file marked as done.
        await conn.executescript(
            f"BEGIN IMMEDIATE;\n{MIGRATIONS[number]}\nPRAGMA user_version = {number + 1};\nCOMMIT;"
        )
    await _migrate_kinds(conn)


async def migrate_postgres(conn: postgres.Connection) -> None:
    """The same migrations, numbered the same, in PostgreSQL's dialect, all in one transaction (PostgreSQL's DDL
    is transactional) under a lock, so two servers starting on one database migrate it once.

    ``murmur_schema`` holds what ``PRAGMA user_version`` holds on SQLite.
    """
    from murmur.store import postgres

    await conn.execute("BEGIN")
    try:
        await conn.script(
            [
                "SELECT pg_advisory_xact_lock(7305726475)",  # any constant: murmur's migration lock
                "CREATE TABLE IF NOT EXISTS murmur_schema (version BIGINT NOT NULL)",
                *PG_FUNCTIONS,
            ]
        )
        row = await (await conn.execute("SELECT max(version) FROM murmur_schema")).fetchone()
        version = int(row[0]) if row and row[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The database has schema version {version}, newer than this murmur knows ({SCHEMA_VERSION}). "
                "Upgrade murmur to open it."
            )
        for number in range(version, SCHEMA_VERSION):
            script = MIGRATIONS[number]
            computed = [(s, column, f) for s, (column, f) in _COMPUTED_FROM_NAMES.items() if s in script]
            for statement, _, _ in computed:
                script = script.replace(statement, "")
            if script.strip():
                await conn.script(POSTGRES.schema(script))
            for _, column, function in computed:
                await _compute_from_names(conn, column, function)
        await conn.execute("DELETE FROM murmur_schema")
        await conn.execute("INSERT INTO murmur_schema (version) VALUES (?)", (SCHEMA_VERSION,))
        await _migrate_kinds(conn, on_postgres=True)  # type: ignore[arg-type]
        await conn.execute("COMMIT")
    except postgres.FAILED as exc:
        await conn.execute("ROLLBACK")
        raise StoreError(f"The database could not be migrated: {postgres.first_line(exc)}.") from exc
    except BaseException:
        await conn.execute("ROLLBACK")
        raise


async def _migrate_kinds(conn: aiosqlite.Connection, *, on_postgres: bool = False) -> None:
    """Run each kind's migrations this file has not had yet, in one transaction with their record.

    A kind whose first migration runs now is one this file did not know: what it carried of the kind's
    messages (as a kind it did not know) is caught up in that same transaction (``ingest.catch_up``), so a
    server that upgrades holds the state a server that always knew the kind holds. A kind that keeps nothing
    in tables of its own has nothing to catch up but what a kind with tables watches for.
    """
    from murmur.store.ingest import catch_up  # ingest validates, and validation imports the registry's kinds

    async with conn.execute("SELECT kind, version FROM kind_schema") as cursor:
        done = {str(kind): int(version) for kind, version in await cursor.fetchall()}
    for kind in REGISTRY.values():
        first = done.get(kind.name, 0)
        if first >= len(kind.migrations):
            continue
        if on_postgres:  # inside migrate_postgres's transaction
            for migration in kind.migrations[first:]:
                await conn.script(POSTGRES.schema(migration))
            await conn.execute(_KIND_DONE, (kind.name, len(kind.migrations)))
            if first == 0:
                await catch_up(conn, [kind])  # type: ignore[arg-type]
            elif kind.upgrade is not None:
                await kind.upgrade(conn, first)  # type: ignore[arg-type]
            continue
        # Kind names are the registry's own identifiers, never input.
        await conn.executescript(
            "BEGIN IMMEDIATE;\n" + "\n".join(kind.migrations[first:]) + "\n"
            f"INSERT INTO kind_schema (kind, version) VALUES ('{kind.name}', {len(kind.migrations)})"
            " ON CONFLICT (kind) DO UPDATE SET version = excluded.version;"
        )
        try:
            if first == 0:
                await catch_up(conn, [kind])
            elif kind.upgrade is not None:
                await kind.upgrade(conn, first)
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise


# The statements of migrations that fill a column of ``profiles`` from each name by murmur's own Python, which
# SQLite calls as a function registered while migrating (``migrate``) and PostgreSQL cannot: there each is taken
# out of its migration and done by ``_compute_from_names``, after the rest of the migration, in its transaction.
_COMPUTED_FROM_NAMES: dict[str, tuple[str, Callable[[str], object]]] = {
    REKEY_NAMES: ("name_key", name_key),
    FILL_HANDLES: ("handle", handle_key),
}


async def _compute_from_names(conn: postgres.Connection, column: str, function: Callable[[str], object]) -> None:
    async with conn.execute("SELECT author, name FROM profiles WHERE name != ''") as cursor:
        rows = await cursor.fetchall()
    await conn.executemany(  # column: a name from _COMPUTED_FROM_NAMES, never input
        f"UPDATE profiles SET {column} = ? WHERE author = ?", [(function(str(name)), author) for author, name in rows]
    )


_KIND_DONE = (
    "INSERT INTO kind_schema (kind, version) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET version = excluded.version"
)


def _unwritable(path: Path) -> str | None:
    """Why the database cannot be written, if the cause is permissions or a read-only file system.

    SQLite reports both as "unable to open database file" or "attempt to write a readonly database", which reads
    like corruption; the advice for corruption (move the file aside) would be wrong here, so say what it is.
    """
    for target in (path.parent, path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if target.exists() and not os.access(target, os.W_OK):
            return (
                f"{target} is read-only: murmur must write its database, and the -wal and -shm files beside it, in "
                f"{path.parent}. Make it writable (check its permissions and whether it is mounted read-only)."
            )
    return None


async def _complete(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` to its end even when the caller is cancelled meanwhile, then pass the cancellation on.

    aiosqlite runs each statement on its own thread: cancelling the task that awaits it does not stop the
    statement, it only stops the caller from learning how it ended. A BEGIN that runs on after its caller was
    cancelled leaves the connection inside a transaction that nobody owns, and every later write fails. So the
    statements that open and close a transaction are shielded, waited for, and only then is the cancellation
    raised, with the connection's state known (the shield of Trio's and anyio's cancel scopes, by hand).
    """
    task = asyncio.ensure_future(awaitable)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as exc:
            if task.cancelled():  # the statement's own task was cancelled, not only its caller
                raise
            cancelled = exc
        except BaseException:  # the statement failed: its task holds the error, raised below
            break
    if cancelled is not None:
        if task.exception() is not None:
            log.info("a transaction statement failed after its caller was cancelled: %s", task.exception())
        raise cancelled
    return task.result()


class Writer:
    """Serialises write transactions on one connection (SQLite allows one writer; so does this lock).

    Whatever happens to the caller (an exception, or a cancellation at any ``await`` inside the transaction,
    including those of BEGIN, COMMIT and ROLLBACK themselves), the lock is released only once the connection is
    out of its transaction: committed, or rolled back.
    """

    def __init__(self, conn: aiosqlite.Connection, turn: WriteTurn | None = None) -> None:
        self.conn = conn
        self.turn = turn
        """Taken around each transaction when other processes of this server write the same file (``workers``)."""
        self._lock = asyncio.Lock()
        # What the connection's driver raises for a statement that failed (rolled back, a StoreError), and for a
        # BEGIN refused; a PostgreSQL connection names psycopg's (so that only it imports psycopg).
        self._failed: tuple[type[Exception], ...] = (sqlite3.Error, *getattr(conn, "FAILED", ()))
        self._refused: tuple[type[Exception], ...] = (sqlite3.OperationalError, *getattr(conn, "REFUSED", ()))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            if self.turn is not None:
                await self.turn.take()
            try:
                await self._begin()
                try:
                    yield self.conn
                except self._failed as exc:
                    await self._rollback()
                    raise StoreError(f"The database refused a write: {exc}. Nothing was changed.") from exc
                except BaseException:
                    await self._rollback()
                    raise
                await self._commit()
            finally:
                if self.turn is not None:
                    self.turn.let_go()  # only now: the connection is out of its transaction, committed or not

    async def _begin(self) -> None:
        try:
            await _complete(self.conn.execute("BEGIN IMMEDIATE"))
        except self._refused as exc:
            await self._rollback()
            raise StoreError(f"The database refused a write: {exc}.") from exc
        except asyncio.CancelledError:
            await self._rollback()  # BEGIN ran to its end: the transaction it opened is nobody's now
            raise

    async def _commit(self) -> None:
        try:
            await _complete(self.conn.execute("COMMIT"))
        except self._failed as exc:
            await self._rollback()
            raise StoreError(f"The database could not commit a write: {exc}. Nothing was changed.") from exc
        except asyncio.CancelledError:
            # COMMIT ran to its end first: either the write is durable (and only its caller will not hear so)
            # or it failed, and the rollback below leaves the connection clean.
            await self._rollback()
            raise

    async def _rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already done so, whatever cancels the caller.

        After SQLITE_FULL or SQLITE_IOERR (a full disk, a failing device) SQLite rolls the transaction back by
        itself; a ROLLBACK then fails with "no transaction is active", and raising that would hide the real error
        (and turn a clear 503 into a 500). If the rollback itself fails, the original error is still the one to
        report: SQLite rolls back from its journal when the connection is next used or opened.

        A statement of the caller's that is still running on aiosqlite's thread (its caller was cancelled) runs
        before this ROLLBACK, which aiosqlite queues behind it.
        """
        if not self.conn.in_transaction:
            return
        with contextlib.suppress(*self._failed):
            await _complete(self.conn.execute("ROLLBACK"))
