"""The message store: one SQLite file (or one PostgreSQL database) holding the log, its indexes and the state
derived from it.

``Store`` is the object every layer uses; queries that serve one feature live in modules named for it, and
nowhere outside this package (and ``murmur.kinds``) is SQL written (docs/architecture.md):

    schema         the tables and forward-only migrations (PRAGMA user_version)
    db             opening (0600 file, WAL, pragmas), migrating, the one write transaction, and the read
                   connection, on which a failed read is a StoreError as a failed write is
    ingest         validate-then-store for every entry point, deletes, latest-wins state, derived notices
    items          TimelineItem and Page, and turning candidate rows into items with their counts
    timelines      home, local, federated, mentions, hashtag, author (and re-exports thread, notifications)
    threads        a thread as a tree, placeholders for missing parents
    notifications  notifications, unread count, read markers
    members        members and single-use invites
    search         posts by full text; people by name, bio or key prefix
    export         which messages a bundle or a member's own export takes
    repair         what the repair set (murmur.sync.index) reads: the log's changes, what peers may see
    backup         a consistent copy of the file while a server writes to it
    dialect        where SQLite and PostgreSQL differ: the store's SQL translated for PostgreSQL, once per statement
    postgres       a psycopg connection answering the calls the store makes on an aiosqlite one
    copy           a whole store copied from SQLite into PostgreSQL and checked (admin migrate-db)
    inbox          not a server's: a device's own store of the direct messages it opened (SQLite, FTS5, 0600)
    vault          that store sealed under a passphrase (Argon2id, ChaCha20-Poly1305), saved whole, atomically
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from murmur.errors import StoreError
from murmur.kinds import shown_sql
from murmur.message import Message, Verified
from murmur.store.db import Writer, connect
from murmur.store.group import group_of, ingest_grouped
from murmur.store.ingest import IngestResult, Item, Policy, store_batch, to_write, validate_all
from murmur.store.outcomes import settled
from murmur.validate import load_stored

__all__ = ["IngestResult", "LogEntry", "Profile", "Store"]

STREAM_AHEAD = 8  # batches validated ahead of the writer at most (and so stored together at most)
# A follow counts while the message that made it readers are shown (murmur.kinds.shown_sql): one a device signed
# for its identity while its log cannot judge it, or a fork in it disputes the device, is no follow until then.
_SHOWN_FOLLOWS = (
    "SELECT f.{who} FROM follows f CROSS JOIN messages m ON m.id = f.msg_id"
    f" WHERE f.{{key}} = ? AND f.following = 1 AND {shown_sql('m')} ORDER BY f.{{who}}"
)


async def _committed(
    writer: Writer, origin: str, results: list[IngestResult | None], done: asyncio.Future[None] | None
) -> list[IngestResult]:
    if done is not None:
        await asyncio.shield(done)
    return settled(writer, results, origin)


async def _each(batches: AsyncIterable[Sequence[Item]] | Iterable[Sequence[Item]]) -> AsyncIterator[Sequence[Item]]:
    if isinstance(batches, AsyncIterable):
        async for batch in batches:
            yield batch
    else:
        for batch in batches:
            yield batch


@dataclass(frozen=True, slots=True)
class LogEntry:
    seq: int
    raw: bytes


@dataclass(frozen=True, slots=True)
class Profile:
    author: str
    name: str
    bio: str
    created_at: int


class Store:
    """A murmur database. Open with ``await Store.open(path)``; close with ``await store.close()``.

    Two connections: writes go through ``writer`` (one transaction at a time), reads through ``conn``, which
    is query-only. Reading on the writer's connection would see a batch between its statements, before it is
    committed or rolled back: a live stream could then announce a message that was never stored.
    """

    def __init__(
        self,
        conn: aiosqlite.Connection,
        path: Path,
        *,
        write_conn: aiosqlite.Connection | None = None,
        database: str | None = None,
    ) -> None:
        self.conn = conn
        self.path = path
        self.database = database
        self.writer = Writer(write_conn or conn)

    @classmethod
    async def open(
        cls, path: Path, *, durability: str = "full", database: str | None = None, shared: bool = False
    ) -> Store:
        """Open the SQLite file at ``path``, or, given ``database`` (a ``postgresql://`` URL), that database:
        the same store on another engine (docs/architecture.md, "Two engines"). ``shared``: other processes of
        this server write it too (``workers``), taking turns with this one (``murmur.store.write_turn``)."""
        from murmur.store.write_turn import WriteTurn  # fcntl: only where a server runs workers

        turn = WriteTurn.beside(path) if shared and not database else None
        try:
            store = await cls._open(path, durability=durability, database=database)
        except BaseException:
            if turn is not None:
                turn.close()
            raise
        store.writer.turn = turn
        return store

    @classmethod
    async def _open(cls, path: Path, *, durability: str, database: str | None) -> Store:
        write_conn = await connect(path, durability=durability, database=database)
        try:
            read_conn = await connect(path, durability=durability, migrate_schema=False, reads=True, database=database)
            if not database:  # a PostgreSQL read connection is read-only from its opening
                await read_conn.execute("PRAGMA query_only = ON")
        except BaseException:
            await write_conn.close()
            raise
        return cls(read_conn, path, write_conn=write_conn, database=database)

    async def close(self) -> None:
        await self.conn.close()
        if self.writer.conn is not self.conn:
            await self.writer.conn.close()
        if self.writer.turn is not None:
            self.writer.turn.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def ingest(
        self,
        items: Sequence[Item],
        *,
        origin: str = "local",
        now: int | None = None,
        policy: Policy | None = None,
    ) -> list[IngestResult]:
        """Validate and store a batch in one transaction; one result per item, in order.

        Every entry point (client publish, peer push, peer pull, bundle import) comes through here, so
        every message passes the same validation before anything is written. ``now`` is the receiver's clock
        in ms (the current time when not given): the future-skew rule and the arrival time both read it.
        """
        results, valid = await validate_all(items, now=now, policy=policy, reader=self.conn)
        return await self._store(results, valid, origin, received_at=now)

    async def ingest_grouped(
        self, items: Sequence[Item], *, origin: str, policy: Policy | None = None
    ) -> list[IngestResult]:
        """``ingest`` for a server's concurrent requests (``murmur.store.group.ingest_grouped``): batches waiting
        for the writer together share one commit; a peer's door reads what messages name on the store's
        connection."""
        return await ingest_grouped(self.writer, items, origin=origin, policy=policy, reader=self.conn)

    async def ingest_stream(
        self,
        batches: AsyncIterable[Sequence[Item]] | Iterable[Sequence[Item]],
        *,
        origin: str = "local",
        now: int | None = None,
        policy: Policy | None = None,
        ahead: int = STREAM_AHEAD,
    ) -> AsyncGenerator[list[IngestResult], None]:
        """``ingest`` each batch in turn and yield its results, in order, while later batches are validated.

        Results are those of one ``ingest`` call per batch, and each batch is stored whole or not at all. But
        validation runs up to ``ahead`` batches in front of the writer, and the batches waiting for it when it
        is free are written in one transaction (``murmur.store.group``): a loop of ``ingest`` calls leaves one
        core idle during every write, and pays for every index page a batch touches once per batch, which is
        most of the cost of a write once the indexes are large. A batch's results are yielded only once it is
        committed; stopping early loses nothing that was yielded.
        """
        group = group_of(self.writer)
        queued: deque[tuple[list[IngestResult | None], asyncio.Future[None] | None]] = deque()
        try:
            async for items in _each(batches):
                results, valid = await validate_all(items, now=now, policy=policy, reader=self.conn)
                queued.append((results, group.submit(valid, results, origin) if to_write(valid, results) else None))
                while queued and (len(queued) >= ahead or queued[0][1] is None or queued[0][1].done()):
                    yield await _committed(self.writer, origin, *queued.popleft())
            while queued:
                yield await _committed(self.writer, origin, *queued.popleft())
        finally:
            # The consumer stopped (or failed) with batches queued: let them be committed or rolled back before
            # anything else uses the writer. They were never yielded, so nobody was told they were stored.
            for _, done in queued:
                if done is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(done)

    async def _store(
        self,
        results: list[IngestResult | None],
        valid: list[tuple[int, Verified]],
        origin: str,
        *,
        received_at: int | None,
    ) -> list[IngestResult]:
        if to_write(valid, results):
            async with self.writer.transaction() as conn:
                await store_batch(conn, valid, results, origin, received_at=received_at)
        return settled(self.writer, results, origin)

    async def get(self, msg_id: str) -> Message | None:
        raw = await self.get_raw(msg_id)
        return None if raw is None else load_stored(raw)

    async def get_raw(self, msg_id: str) -> bytes | None:
        try:
            key = bytes.fromhex(msg_id)
        except ValueError:
            return None
        async with self.conn.execute("SELECT raw FROM messages WHERE id = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return bytes(row[0]) if row else None

    async def log_after(self, cursor: int, limit: int = 500) -> list[LogEntry]:
        """Messages stored after log position ``cursor``, oldest first."""
        async with self.conn.execute(
            "SELECT seq, raw FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", (cursor, limit)
        ) as cur:
            return [LogEntry(row[0], bytes(row[1])) for row in await cur.fetchall()]

    async def last_seq(self) -> int:
        """The highest log position ever handed out (deleted rows and peers' withheld notices included), 0 for an
        empty log."""
        async with self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def count(self) -> int:
        async with self.conn.execute("SELECT count(*) FROM messages") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def size_bytes(self) -> int:
        """The database's size in bytes: its pages, as the newest committed state holds them."""
        sql = "SELECT p.page_count * s.page_size FROM pragma_page_count() p, pragma_page_size() s"
        async with self.conn.execute(sql) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def is_deleted(self, msg_id: str) -> bool:
        """Whether a delete for the message is held that removes it.

        A delete counts only when signed by the message's author; while the message itself is not held its
        author is unknown, so then any held delete for it counts.
        """
        try:
            target = bytes.fromhex(msg_id)
        except ValueError:
            return False
        async with self.conn.execute(
            "SELECT 1 FROM tombstones t JOIN messages d ON d.id = t.delete_id WHERE t.target = ?1"
            " AND coalesce((SELECT m.author = t.author FROM messages m WHERE m.id = ?1), TRUE) LIMIT 1",
            (target,),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def profile(self, author: str) -> Profile | None:
        async with self.conn.execute(
            "SELECT name, bio, created_at FROM profiles WHERE author = ?", (bytes.fromhex(author),)
        ) as cursor:
            row = await cursor.fetchone()
        return Profile(author, row[0], row[1], row[2]) if row else None

    async def display_names(self, keys: Sequence[str]) -> dict[str, str]:
        """The current display name of each key that has set one (latest-wins profile)."""
        wanted = sorted({k for k in keys if len(k) == 64})
        names: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            part = [bytes.fromhex(k) for k in wanted[start : start + 500]]
            marks = ",".join("?" * len(part))
            sql = f"SELECT author, name FROM profiles WHERE author IN ({marks}) AND name != ''"
            async with self.conn.execute(sql, part) as cursor:
                names.update((bytes(r[0]).hex(), str(r[1])) for r in await cursor.fetchall())
        return names

    async def shared_names(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` have a display name that another key here also uses (``murmur.names.name_key``
        decides what counts as the same name: case, compatibility forms and invisible characters aside)."""
        wanted = sorted({k for k in keys if len(k) == 64})
        shared: set[str] = set()
        for start in range(0, len(wanted), 500):
            part = [bytes.fromhex(k) for k in wanted[start : start + 500]]
            marks = ",".join("?" * len(part))
            # q.name_key != '' lets the partial index profiles_by_name_key serve the look-up.
            sql = (
                f"SELECT p.author FROM profiles p WHERE p.author IN ({marks}) AND p.name_key != '' AND EXISTS"
                " (SELECT 1 FROM profiles q WHERE q.name_key = p.name_key AND q.name_key != ''"
                " AND q.author != p.author)"
            )
            async with self.conn.execute(sql, part) as cursor:
                shared.update(bytes(r[0]).hex() for r in await cursor.fetchall())
        return shared

    async def is_following(self, follower: str, subject: str) -> bool:
        async with self.conn.execute(
            "SELECT following FROM follows WHERE follower = ? AND subject = ?",
            (bytes.fromhex(follower), bytes.fromhex(subject)),
        ) as cursor:
            row = await cursor.fetchone()
        return bool(row and row[0])

    async def following(self, follower: str) -> list[str]:
        """Whom ``follower`` follows, by follows readers are shown (``_SHOWN_FOLLOWS``)."""
        async with self.conn.execute(
            _SHOWN_FOLLOWS.format(who="subject", key="follower"), (bytes.fromhex(follower),)
        ) as c:
            return [bytes(r[0]).hex() for r in await c.fetchall()]

    async def followers(self, subject: str) -> list[str]:
        """Who follows ``subject``, by follows readers are shown (``_SHOWN_FOLLOWS``)."""
        async with self.conn.execute(
            _SHOWN_FOLLOWS.format(who="follower", key="subject"), (bytes.fromhex(subject),)
        ) as c:
            return [bytes(r[0]).hex() for r in await c.fetchall()]

    async def search_posts(self, query: str, limit: int = 20) -> list[bytes]:
        """Raw messages of posts matching a full-text query, best match first."""
        async with self.conn.execute(
            "SELECT m.raw FROM posts_fts f JOIN messages m ON m.seq = f.rowid WHERE posts_fts MATCH :q"
            " ORDER BY rank LIMIT :n",
            {"q": fts_query(query), "n": limit},
        ) as cursor:
            return [bytes(r[0]) for r in await cursor.fetchall()]

    async def integrity_check(self) -> str:
        async with self.conn.execute("PRAGMA integrity_check") as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else "no answer"

    async def damage(self, *, full: bool, most: int = 100) -> list[str]:
        """What SQLite finds wrong with the file, at most ``most`` lines; empty when it is sound.

        ``full`` runs ``integrity_check`` (also matches every index against its table: minutes on a big file);
        otherwise ``quick_check`` (every page read and its structure checked: seconds), which a server runs
        before it serves. A file too damaged to be checked at all is reported as one line, not raised.
        """
        if self.database:  # PostgreSQL checks its own pages (data checksums, amcheck); there is no pragma to run
            return []
        pragma = "integrity_check" if full else "quick_check"
        try:
            async with self.conn.execute(f"PRAGMA {pragma}({int(most)})") as cursor:
                lines = [str(row[0]) for row in await cursor.fetchall()]
        except StoreError as exc:  # the read connection's translation of a sqlite3.DatabaseError
            return [f"the check itself failed: {exc.__cause__ or exc}"]
        return [] if lines == ["ok"] else lines


def fts_query(text: str, *, prefix: bool = False) -> str:
    """Turn what a person typed into an FTS5 query of quoted terms, so their punctuation is never syntax.

    NUL ends a string inside FTS5's query parser ("unterminated string"), and a lone surrogate cannot be
    encoded for SQLite at all, so both are dropped first. ``prefix`` makes every term match as a prefix.
    """
    text = "".join(" " if c == "\x00" else c for c in text).encode("utf-8", "ignore").decode("utf-8")
    star = "*" if prefix else ""
    terms = [t.replace('"', '""') for t in text.split() if t.strip()]
    return " ".join(f'"{t}"{star}' for t in terms) or '""'
