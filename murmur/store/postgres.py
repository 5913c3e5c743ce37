"""A PostgreSQL connection that answers the calls the store makes on an aiosqlite one.

The store and the kinds call ``execute`` (awaited, or used as ``async with``), ``fetchone``/``fetchall`` on the
cursor it gives, ``executemany``, ``rowcount``, ``in_transaction`` and ``close``; this class answers those on a
psycopg 3 ``AsyncConnection``, with each statement translated once (``murmur.store.dialect``). Rows are fetched
whole when the statement runs, as a client-side cursor does, so a cursor's fetches never wait on the server.

Writes bind their parameters on the client (``AsyncClientCursor``): SQLite types a parameter by its value, and so
does a literal, where a server-side parameter must be typed by its context ("could not determine data type of
parameter $1" for ``? IS NULL``); a statement the server refuses inside a transaction aborts it. The rows of a plain
INSERT's ``executemany`` go by COPY (``murmur.store.postgres_bulk``); any other's are pipelined, bound on the
server. A write whose values are all integers (the rules each ingest batch runs over its seqs) is
prepared on the server, as reads are (``_prepared_write``); a batch's rules go in one pipeline
(``execute_each``), a round trip for all of them.

A fresh database has no planner statistics until autovacuum's first round: the write connection analyses the
tables it has filled once it has copied enough rows into them (``_analyse_if_stale``).

No session compiles its statements (``jit = off``): the store's statements are short, and a misestimate on a
fresh database made PostgreSQL compile one ingest statement on every batch (docs/performance.md).

Reads are prepared on the server, once per statement and connection: planning the timeline's statements costs
more than running them (~0.9 ms against ~0.2), and a prepared statement is planned once. A statement the
server cannot type that way (``_UNTYPED``, refused before it runs: a read has done nothing yet) is bound on the
client from then on, as writes are, so a read never fails for the way it is bound. PgBouncer's transaction
mode keeps prepared statements from 1.21 with ``max_prepared_statements`` set (docs/self-hosting.md).

Each statement sent alone is a round trip to a backend, which on a loaded machine waits for a core: reads a
request asks as a group (``murmur.store.together``: a page's names and withheld notices) go in one pipeline on
one connection, and a write transaction's advisory lock goes in the same simple query as its BEGIN.

A read connection turns a database error (not a programming error) into ``StoreError``, as ``ReadConnection``
does for SQLite; the write connection leaves them to ``Writer``, which rolls back and says so.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Generator, Iterable, Mapping, Sequence
from typing import Any, NoReturn

import psycopg
import psycopg.errors
import psycopg.sql

from murmur.errors import StoreError
from murmur.store.dialect import POSTGRES
from murmur.store.postgres_bulk import insert_rows
from murmur.store.together import group

Params = Sequence[Any] | Mapping[str, Any]
log = logging.getLogger("murmur.store")

# What psycopg raises for a statement that failed.
FAILED = (psycopg.Error,)
# Errors that say something about the database or the server, not about the statement: the read connection's
# StoreError. A table gone is the database's state (as SQLite reports it); any other ProgrammingError (a syntax
# error, wrong bindings) is a bug and stays one.
_STATE_ERRORS = (
    psycopg.OperationalError,
    psycopg.InternalError,
    psycopg.IntegrityError,
    psycopg.NotSupportedError,
    psycopg.errors.UndefinedTable,
)


# What the server says when it cannot type a parameter bound on its side, where a client-side literal would have
# been typed by its value: raised at parse or bind, before the statement does anything.
_UNTYPED = (
    psycopg.errors.IndeterminateDatatype,
    psycopg.errors.UndefinedFunction,
    psycopg.errors.AmbiguousFunction,
    psycopg.errors.DatatypeMismatch,
)
# The tables of the current schema whose rows changed (copied by this connection, given as names and counts, or
# written since their last ANALYZE, as the server counts them) by more than twice the rows their statistics
# describe (``reltuples``, -1 before any), and by more than 100 (a few rows plan alike whatever their number);
# and those this connection wrote that have no statistics at all: a plan kept (a prepared statement's) made
# without them takes an equality on a column for a rare value, and still holds when the table has grown.
_STALE = """
SELECT c.relname FROM pg_class c
LEFT JOIN unnest(%s::text[], %s::float8[]) AS w (name, copied) ON w.name = c.relname
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
AND (greatest(coalesce(w.copied, 0), coalesce(s.n_mod_since_analyze, 0)) > 2 * greatest(c.reltuples, 0) + 100
     OR (c.reltuples < 0 AND w.copied > 0))
"""
_INSERT_INTO = re.compile(r"\s*INSERT INTO (?P<table>\w+)", re.I)
# Read statements (as translated) bound on the client since the server could not type them: the same for every
# connection, so learnt once per process.
_CLIENT_BOUND: set[str] = set()
PREPARED_MAX = 512  # statements a read connection keeps prepared (psycopg drops the least recently used)
ANALYSE_FIRST = 1_000  # rows a write connection copies before it first looks at the planner's statistics
READERS = 4  # read connections of a store (ReadPool)
GATHER_TURNS = 3  # turns of the event loop a read waits, at most, for others asked beside it (ReadPool)


class Cursor:
    """A statement's outcome: its rows (already fetched), ``rowcount`` and ``lastrowid`` (always None here:
    write ``INSERT ... RETURNING`` to learn a new row's id on both engines)."""

    lastrowid = None

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount

    async def fetchone(self) -> tuple[Any, ...] | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    async def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._at = self._rows[self._at :], len(self._rows)
        return rows

    async def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        rows = self._rows[self._at : self._at + size]
        self._at += len(rows)
        return rows

    async def close(self) -> None:
        self._rows = []

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> tuple[Any, ...]:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _Pending:
    """What ``execute`` returns: awaited, the cursor; or ``async with``, as aiosqlite's result is used."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._run.__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> Cursor:
        cursor: Cursor = await self._run
        return cursor

    async def __aexit__(self, *exc: object) -> None:
        return None


def _bind(numbered: bool, params: Params | None) -> Params:
    if params is None:
        return ()
    if numbered and not isinstance(params, Mapping):
        return {f"p{n}": value for n, value in enumerate(params, 1)}
    return params


_Asked = tuple[str, "Params | None", "asyncio.Future[Cursor]"]  # a read, and where its outcome goes

WRITE_LOCK = "SELECT pg_advisory_xact_lock(7305726476)"  # any constant, not the migration lock's (murmur.store.db)


class Connection:
    """One PostgreSQL connection, in autocommit: ``Writer`` opens and ends each transaction itself.

    A connection the server dropped (a restart, a failover, an idle timeout) is opened again where that loses
    nothing: before a read, which is then run once more, and before a BEGIN. A statement inside a transaction is
    never moved to a new connection: it fails, the writer rolls back (the server already did), and the next
    transaction starts on a fresh connection.
    """

    dialect = POSTGRES
    FAILED = FAILED  # the Writer rolls back and says so (murmur.store.db.Writer)
    REFUSED = (psycopg.OperationalError,)  # a BEGIN the server refused

    def __init__(self, conn: psycopg.AsyncConnection[Any], *, reads: bool, url: str, durability: str) -> None:
        self.raw = conn
        self.reads = reads
        self._url = url
        self._durability = durability
        # Writes prepared on this connection, by statement and the widths of its integers (each width is a
        # parameter type of its own to the server: a statement typed for int2 is not known typable for int8).
        self._prepared: set[tuple[str, tuple[int, ...]]] = set()
        # Rows this connection wrote, by table (``_analyse_if_stale``): by COPY (they set when it looks), and by
        # pipelined INSERTs (the tables it looks at then).
        self._copied: dict[str, int] = {}
        self._inserted: dict[str, int] = {}
        self._look_at = ANALYSE_FIRST

    @classmethod
    async def open(cls, url: str, *, reads: bool, durability: str = "full") -> Connection:
        return cls(await _session(url, reads=reads, durability=durability), reads=reads, url=url, durability=durability)

    async def _reopen(self) -> None:
        log.warning("the connection to %s was lost; opening it again", redact(self._url))
        self.raw = await _session(self._url, reads=self.reads, durability=self._durability)
        self._prepared.clear()

    def execute(self, sql: str, params: Params | None = None) -> _Pending:
        return _Pending(self._execute(sql, params))

    async def _execute(self, sql: str, params: Params | None) -> Cursor:
        text, numbered = POSTGRES.translate(sql)
        if not self.reads and text.upper().startswith("BEGIN"):
            # SQLite's BEGIN IMMEDIATE takes the file's one write lock; this is PostgreSQL's, so that the
            # processes of one server (``workers = N``, an admin command beside it) write one at a time, as the
            # store's writes assume: each reads the log's end and numbers its batch from it. Sent with the BEGIN,
            # as one simple query (no parameters: bound on the client), so it costs no round trip of its own.
            text = f"{text};\n{WRITE_LOCK}"
        return await self._execute_one(text, _bind(numbered, params))

    async def _execute_one(self, text: str, bound: Params) -> Cursor:
        starts = self.reads or text.upper().startswith("BEGIN")
        if self.raw.broken:
            if text.upper().startswith("ROLLBACK"):
                return Cursor([], 0)  # the server rolled back when the connection died
            if starts:
                await self._reopen()
        try:
            done = await self._run(text, bound)
        except _STATE_ERRORS as exc:
            if not (starts and self.raw.broken):
                self._fail(exc)
        else:
            if text.upper().startswith("COMMIT"):
                await self._analyse_if_stale()
            return done
        await self._reopen()  # dropped while idle, found out only now: nothing was done yet
        try:
            return await self._run(text, bound)
        except _STATE_ERRORS as exc:
            self._fail(exc)

    async def _run(self, text: str, params: Params) -> Cursor:
        if self.reads and text not in _CLIENT_BOUND:
            try:
                return await self._fetch(psycopg.AsyncCursor(self.raw), text, params, prepare=True)
            except _UNTYPED:
                _CLIENT_BOUND.add(text)
        elif not self.reads and text not in _CLIENT_BOUND and ";\n" not in text and _integers(params):
            return await self._prepared_write(text, params)
        return await self._fetch(self.raw.cursor(), text, params, prepare=None)

    async def _prepared_write(self, text: str, params: Params) -> Cursor:
        """A write whose values are all integers (the rules each ingest batch runs over its ``:lo``..``:hi``: the
        notices, what kinds derive, the audience), prepared on the server and planned once per connection, as
        reads are: planning them cost more than running them (0.4-1.8 ms against 0.03-0.6 ms a rule). Tried
        first under a savepoint, which a statement the server cannot type on its side rolls back to before the
        transaction is lost; it is then bound on the client, as other writes are."""
        shape = (text, _widths(params))
        if shape in self._prepared:
            return await self._fetch(psycopg.AsyncCursor(self.raw), text, params, prepare=True)
        guarded = self.in_transaction
        if guarded:
            await self._fetch(self.raw.cursor(), "SAVEPOINT murmur_prepare", (), prepare=None)
        try:
            done = await self._fetch(psycopg.AsyncCursor(self.raw), text, params, prepare=True)
        except _UNTYPED:
            if guarded:
                await self._fetch(self.raw.cursor(), "ROLLBACK TO SAVEPOINT murmur_prepare", (), prepare=None)
            _CLIENT_BOUND.add(text)
            done = await self._fetch(self.raw.cursor(), text, params, prepare=None)
        else:
            self._prepared.add(shape)
        if guarded:
            await self._fetch(self.raw.cursor(), "RELEASE SAVEPOINT murmur_prepare", (), prepare=None)
        return done

    async def run_together(self, batch: Sequence[_Asked]) -> None:
        """Reads asked together (``ReadPool``), each answered on its own future: in one pipeline when every one is
        bound on the server, else (or when the pipeline fails) one at a time through ``_execute``, which reopens a
        dropped connection, learns what must be bound on the client and says what failed, statement by statement.
        A read changes nothing, so one run again after a failed pipeline does no harm."""
        runs = [(*POSTGRES.translate(sql), params, asked) for sql, params, asked in batch]
        if len(runs) > 1 and not self.raw.broken and not any(text in _CLIENT_BOUND for text, *_ in runs):
            cursors = [psycopg.AsyncCursor(self.raw) for _ in runs]
            try:
                async with self.raw.pipeline():
                    for cursor, (text, numbered, params, _) in zip(cursors, runs, strict=True):
                        await cursor.execute(text, _bind(numbered, params), prepare=True)
                for cursor, (*_, asked) in zip(cursors, runs, strict=True):
                    rows = await cursor.fetchall() if cursor.description is not None else []
                    if not asked.done():
                        asked.set_result(Cursor(rows, cursor.rowcount))
                return
            except psycopg.Error:
                pass  # each is asked again below, alone, and answered (or refused) for itself
            finally:
                for cursor in cursors:
                    await cursor.close()
        for sql, params, asked in batch:
            if asked.done():  # answered by the pipeline, or given up by its caller
                continue
            try:
                done = await self._execute(sql, params)
            except Exception as exc:
                if not asked.done():
                    asked.set_exception(exc)
            else:
                if not asked.done():
                    asked.set_result(done)

    async def execute_each(self, statements: Sequence[str], params: Params) -> None:
        """Run write statements whose outcome nobody reads (an ingest batch's rules), in order, in one pipeline:
        sent together and answered together, one round trip and one wake of the server for them all, where each
        would otherwise wait for its answer before the next is sent. Each is bound as ``execute`` binds it
        (prepared, or on the client); until every one has run once on this connection (how the server types it
        is found out then, ``_prepared_write``), they run one at a time. A statement that fails fails the
        pipeline, and the writer rolls back, as it would have one at a time."""
        runs = []
        for sql in statements:
            text, numbered = POSTGRES.translate(sql)
            bound = _bind(numbered, params)
            prepare = (text, _widths(bound)) in self._prepared if _integers(bound) else False
            if (prepare is False and _integers(bound) and text not in _CLIENT_BOUND) or ";\n" in text:
                runs = []  # not run on this connection yet: how it binds is not known
                break
            runs.append((text, bound, prepare))
        if self.reads or self.raw.broken or not self.in_transaction or len(runs) < len(statements):
            for sql in statements:
                await self._execute(sql, params)
            return
        cursors = [psycopg.AsyncCursor(self.raw) if prepare else self.raw.cursor() for _, _, prepare in runs]
        try:
            async with self.raw.pipeline():
                for cursor, (text, bound, prepare) in zip(cursors, runs, strict=True):
                    await cursor.execute(text, bound, prepare=prepare or None)
        finally:
            for cursor in cursors:
                await cursor.close()

    @staticmethod
    async def _fetch(cursor: Any, text: str, params: Params, *, prepare: bool | None) -> Cursor:
        async with cursor as cur:
            await cur.execute(text, params, prepare=prepare)
            rows = await cur.fetchall() if cur.description is not None else []
            return Cursor(rows, cur.rowcount)

    def _fail(self, exc: psycopg.Error) -> NoReturn:
        if self.reads:
            raise StoreError(f"The database could not be read: {first_line(exc)}.") from exc
        raise exc

    async def execute_fetchall(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """aiosqlite's one-call read, which ``murmur.store.items.select`` uses."""
        return await (await self._execute(sql, params)).fetchall()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> Cursor:
        text, numbered = POSTGRES.translate(sql)
        bound = [_bind(numbered, r) for r in rows]
        if not bound:
            return Cursor([], 0)
        copied = None if numbered else await insert_rows(self.raw, text, bound)
        if copied is not None:
            table, written = copied
            self._copied[table.lower()] = self._copied.get(table.lower(), 0) + written
            return Cursor([], written)
        # Bound on the server: parsed and planned once, then each row sent as values only, in one pipeline; a
        # client-bound row is a statement of its own, parsed and planned again (most of an insert's cost). The
        # store's executemany are INSERTs of values into columns, which type every parameter.
        async with psycopg.AsyncCursor(self.raw) as cur:
            await cur.executemany(text, bound)
            # Counted too: the rules read tallies (INSERT OR IGNORE, so pipelined) by its key, and planned
            # without its statistics they read the whole table for each row of a batch.
            into = _INSERT_INTO.match(text)
            if into is not None:
                table = into["table"].lower()
                self._inserted[table] = self._inserted.get(table, 0) + max(cur.rowcount, 0)
            return Cursor([], cur.rowcount)

    async def _analyse_if_stale(self) -> None:
        """After a commit, once this connection has copied 1,000 rows (then 10,000, 100,000, ...): ANALYZE the
        tables whose planner statistics describe well under the rows they hold, and those it wrote (by COPY or
        pipelined INSERTs) that have none yet (``_STALE``).

        A fresh database has no statistics until autovacuum's first round (up to a minute, and its threshold is
        a tenth of the rows last counted): meanwhile the planner takes ``kind = 'post'`` for a rare value, and
        one of ingest's rules (the edit notices of a post's repliers) walked every post of the log for each
        post of a batch, which grows with the log (docs/performance.md, "Two engines"). The tables alone, not
        the database: an ANALYZE of every table cost 260-340 ms at 1,500 messages, the stale ones 40-80 ms.
        SQLite's plans are fixed by the store's hints and need none. Statistics are a plan's input only: an
        ANALYZE that fails is logged, and the commit stands."""
        copied = sum(self._copied.values())
        if copied < self._look_at or self.in_transaction:
            return
        self._look_at = copied * 10
        try:
            async with self.raw.cursor() as cur:
                written = dict(self._inserted)
                for table, rows in self._copied.items():
                    written[table] = written.get(table, 0) + rows
                await cur.execute(_STALE, (list(written), list(written.values())))
                stale = [psycopg.sql.Identifier(str(name)) for (name,) in await cur.fetchall()]
                if stale:
                    await cur.execute(psycopg.sql.SQL("ANALYZE {}").format(psycopg.sql.SQL(", ").join(stale)))
        except psycopg.Error as exc:
            log.warning("could not update the database's statistics (ANALYZE): %s", first_line(exc))

    async def script(self, statements: Iterable[str]) -> None:
        """Run migration statements, already in PostgreSQL's dialect, as they are (no parameters)."""
        async with self.raw.cursor() as cur:
            for statement in statements:
                await cur.execute(statement.encode())

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    async def close(self) -> None:
        await self.raw.close()


class ReadPool:
    """The store's reads on several connections: each statement on whichever is free, so that concurrent requests
    read side by side, as SQLite's readers do under WAL (one connection made them wait for each other: 1.6-2.2x
    the home timelines per second at 8 concurrent readers with 4 connections, docs/performance.md).

    Every read is one statement in autocommit, so which connection runs it changes nothing it sees. Each
    connection keeps its own prepared statements, and opens itself again when dropped (``Connection``).
    psycopg_pool would hand out connections too, but not the retry of a read on a reopened connection, which
    ``Connection`` already does statement by statement.
    """

    dialect = POSTGRES
    reads = True
    in_transaction = False

    def __init__(self, conns: list[Connection]) -> None:
        self._conns = conns
        self._free: asyncio.Queue[Connection] = asyncio.Queue()
        self._asked: dict[object, list[_Asked]] = {}  # reads of each group (murmur.store.together), not yet sent
        self._sending: set[asyncio.Task[None]] = set()
        for conn in conns:
            self._free.put_nowait(conn)

    @classmethod
    async def open(cls, url: str, *, size: int | None = None, durability: str = "full") -> ReadPool:
        conns: list[Connection] = []
        try:
            for _ in range(size or READERS):
                conns.append(await Connection.open(url, reads=True, durability=durability))
        except BaseException:
            for conn in conns:
                await conn.close()
            raise
        return cls(conns)

    def execute(self, sql: str, params: Params | None = None) -> _Pending:
        return _Pending(self._execute(sql, params))

    async def _execute(self, sql: str, params: Params | None) -> Cursor:
        """The statement's outcome; one asked in a group (``murmur.store.together``: the names and the withheld
        notices of a page) is sent with the others of its group in one pipeline on one connection."""
        together = group()
        if together is None:
            conn = await self._free.get()
            try:
                return await conn._execute(sql, params)
            finally:
                self._free.put_nowait(conn)
        asked: asyncio.Future[Cursor] = asyncio.get_running_loop().create_future()
        waiting = self._asked.setdefault(together, [])
        waiting.append((sql, params, asked))
        if len(waiting) == 1:
            asyncio.get_running_loop().call_soon(self._send_asked, together, 0, 0)
        return await asked

    def _send_asked(self, together: object, seen: int, turns: int) -> None:
        # Sent once a turn of the loop adds nothing: a read of the group that gathers reads of its own (a thread's
        # participants) asks them a turn later than its siblings ask theirs.
        waiting = self._asked[together]
        if len(waiting) > seen and turns < GATHER_TURNS:
            asyncio.get_running_loop().call_soon(self._send_asked, together, len(waiting), turns + 1)
            return
        del self._asked[together]
        task = asyncio.ensure_future(self._send(waiting))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[_Asked]) -> None:
        try:
            conn = await self._free.get()
        except BaseException:  # cancelled while waiting for a connection (the store closing): so is the batch
            for _, _, asked in batch:
                asked.cancel()
            raise
        try:
            await conn.run_together(batch)
        finally:
            self._free.put_nowait(conn)

    async def execute_fetchall(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return await (await self._execute(sql, params)).fetchall()

    async def close(self) -> None:
        for conn in self._conns:
            await conn.close()


async def _session(url: str, *, reads: bool, durability: str) -> psycopg.AsyncConnection[Any]:
    try:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True, cursor_factory=psycopg.AsyncClientCursor)
    except psycopg.Error as exc:
        raise StoreError(f"Cannot connect to the database {redact(url)}: {first_line(exc)}.") from exc
    conn.prepared_max = PREPARED_MAX
    try:
        async with conn.cursor() as cur:
            await cur.execute("SET jit = off")  # see the module's docstring
            if reads:
                await cur.execute("SET default_transaction_read_only = on")
            # One plan per prepared statement, made without its values: the store's reads walk an index in order
            # and stop at a LIMIT, whatever the values. Left to choose, PostgreSQL plans home's statement again at
            # every call (~1 ms) and runs it slower than the plan it keeps (2.5 against 8-11 ms a call, 100,000
            # messages, loaded machine; docs/performance.md). The prepared writes are an ingest batch's rules over
            # its seqs (a range of about a batch, whatever the values), some of which were planned again at every
            # batch too (1-3 ms each). A new ANALYZE makes the plans anew.
            await cur.execute("SET plan_cache_mode = force_generic_plan")
            if durability == "normal":  # process-kill safe (the server survives), not power-cut safe
                await cur.execute("SET synchronous_commit = off")
    except psycopg.Error as exc:
        await conn.close()
        raise StoreError(f"Cannot use the database {redact(url)}: {first_line(exc)}.") from exc
    return conn


def _integers(params: Params) -> bool:
    values = list(params.values()) if isinstance(params, Mapping) else list(params)
    return bool(values) and all(type(v) is int for v in values)


def _widths(params: Params) -> tuple[int, ...]:
    """The size class of each integer (int2, int4, int8, numeric), as psycopg types it for the server."""
    values = list(params.values()) if isinstance(params, Mapping) else list(params)
    return tuple(sum(not -(2**bits) <= v < 2**bits for bits in (15, 31, 63)) for v in values)


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")


def redact(url: str) -> str:
    """The URL without its password, to be shown or logged."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "(a PostgreSQL URL that could not be read)"
    user, host, db = info.get("user", ""), info.get("host", ""), info.get("dbname", "")
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{user}{'@' if user else ''}{host}{port}/{db}"
