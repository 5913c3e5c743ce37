"""A server data directory holding N messages, for the read figures (timeline_ms, catchup, rss_mb, the TUI).

Signing a million messages takes a while, so the directory is built once and kept under the system's temp
dir, keyed by size and a format version; later runs copy nothing and reuse it (the figures only read, apart
from a peer's contact time). Building: the corpus is signed and checked (signatures too) in worker processes,
one chunk at a time, and stored with ``Store.ingest`` in batches as ``Verified`` messages, at durability
``normal``: the figures built on this measure reads.

Besides the corpus the database holds a member who follows 200 of the corpus's authors (the home timeline
of ``timeline_ms``) and a serve-only peer (the puller of ``catchup``).

On PostgreSQL (``build_postgres``) the same messages go in through the store's own batch path: the SQLite database's
log is read in its order, verified again in worker processes, and stored with ``Store.ingest`` in batches of 500
(an import's batch), every batch running its rules as a server's would. How long a batch took as the log grew is
kept beside the database (``batches.json``; ``batch_times``): at 0, 100,000 and 1,000,000 messages it says whether
ingest's work follows the batch or the log. The database is kept in the bench's PostgreSQL cluster
(``bench.engines``) for later runs, with a data directory of its own (the server's key and config).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import _make_chunk, author_identity, mp_context
from bench.engines import fresh_database, has_database
from bench.server import create, seeded
from murmur.keys import Identity
from murmur.message import Verified, now_ms, sign_draft
from murmur.store import Store
from murmur.store.members import add_member
from murmur.store.peers import add_peer
from murmur.store.schema import MIGRATIONS, SCHEMA_VERSION
from murmur.validate import check
from tests.postgres_server import PostgresServer

FORMAT = 1
PG_FORMAT = 2  # of the PostgreSQL database: 2 is stored through ``Store.ingest`` (1 was migrate-db's copy)
# A cached database belongs to the schema that built it: two checkouts with different migrations numbered alike
# (branches in progress) must not share one, or the newer code reads a database without its tables.
SCHEMA = hashlib.sha256("\0".join(MIGRATIONS).encode()).hexdigest()[:8]
CHUNK = 10_000
PG_BATCH = 500  # messages a batch on PostgreSQL (murmur.sync.transfer's IMPORT_BATCH)
WINDOW = 10_000  # messages over which ``batch_times`` takes a batch's time
FOLLOWED = 200
READERS = 9  # members that follow the same 200 authors: a member's requests are rate limited (600 a minute)


@dataclass(frozen=True, slots=True)
class BigDb:
    root: Path  # the server's data directory
    messages: int  # messages stored (fewer than asked when the build hit its time cap)
    thread_root: str  # the root post with the most replies
    thread_replies: int
    build_seconds: float  # 0 when reused from an earlier run
    truncated: bool
    database: str = ""  # the PostgreSQL URL the server is started on; empty for the SQLite file in ``root``


def readers() -> list[Identity]:
    """Members who each follow the same 200 authors; the last one is the TUI's."""
    return [seeded(f"reader-{n}") for n in range(READERS)]


def cache_dir() -> Path:
    """Where built databases are kept between runs; MURMUR_BENCH_CACHE gives a run its own (two runs sharing one
    would both start a server on the same data)."""
    return Path(os.environ.get("MURMUR_BENCH_CACHE") or Path(tempfile.gettempdir()) / "murmur-bench-cache")


def _checked_chunk(job: tuple[int, int, int, int, int]) -> list[Verified]:
    # Verified here, in the pool's processes: ingest takes only a Verified message without checking it again.
    return [check(raw) for raw in _make_chunk(job)]


async def _seat(store: Store) -> None:
    """The serve-only peer and the reader members (their follows are messages: the caller stores them)."""
    await add_peer(store, seeded("peer").public_key, "", mode="serve-only")
    for member in readers():
        await add_member(store, member.public_key, invited_by="bench")


async def _store(root: Path, count: int, authors: int, max_seconds: float, progress: Callable[[str], None]) -> int:
    data = create(root)
    async with await Store.open(data.db_path, durability="normal") as store:
        await _seat(store)
        base_ms = now_ms() - 120_000
        for member in readers():
            follows = [
                sign_draft(member, {"kind": "follow", "body": {}, "tags": [["subject", author_identity(n).public_key]]},
                           created_at=base_ms - count * 8 - n)
                for n in range(0, authors, max(1, authors // FOLLOWED))
            ][:FOLLOWED]  # fmt: skip
            await store.ingest(follows)
        jobs = [(s, min(CHUNK, count - s), count, authors, base_ms) for s in range(0, count, CHUNK)]
        stored = 0
        started = time.monotonic()
        with mp_context().Pool(2) as pool:
            for chunk in pool.imap(_checked_chunk, jobs):
                for offset in range(0, len(chunk), 2000):
                    await store.ingest(chunk[offset : offset + 2000])
                stored += len(chunk)
                if stored % 100_000 < CHUNK:
                    progress(f"timeline db: {stored:,} of {count:,} stored")
                if time.monotonic() - started > max_seconds:
                    pool.terminate()
                    break
        await store.conn.execute("PRAGMA optimize")
    return stored


async def _thread_root(db: Path) -> tuple[str, int]:
    async with (
        await Store.open(db) as store,
        store.conn.execute(
            "SELECT root, count(*) FROM messages WHERE root IS NOT NULL GROUP BY root ORDER BY 2 DESC LIMIT 1"
        ) as cursor,
    ):
        row = await cursor.fetchone()
    return (bytes(row[0]).hex(), int(row[1])) if row else ("", 0)


def build(count: int, authors: int, max_seconds: float, progress: Callable[[str], None]) -> BigDb:
    """The data directory for ``count`` messages, built now or reused from an earlier run."""
    # Keyed by schema version too: opening a cached database migrates it, and an older murmur (another checkout
    # sharing the temp dir) would then refuse it as newer than it knows. The digest of the migrations (SCHEMA)
    # tells apart checkouts whose migrations share numbers but differ.
    root = cache_dir() / f"timeline-v{FORMAT}-s{SCHEMA_VERSION}-{SCHEMA}-{count}-{authors}"
    meta_path = root / "bench-meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return BigDb(
            root / "data", meta["messages"], meta["thread_root"], meta["thread_replies"], 0.0, meta["truncated"]
        )
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    progress(f"timeline db: building {count:,} messages in {root} (kept for later runs; capped at {max_seconds:.0f} s)")
    started = time.monotonic()
    stored = asyncio.run(_store(root / "data", count, authors, max_seconds, progress))
    thread_root, replies = asyncio.run(_thread_root(root / "data" / "murmur.db"))
    meta = {"messages": stored, "thread_root": thread_root, "thread_replies": replies, "truncated": stored < count}
    meta_path.write_text(json.dumps(meta))
    return BigDb(root / "data", stored, thread_root, replies, time.monotonic() - started, stored < count)


def _verified_range(job: tuple[str, int, int]) -> list[Verified]:
    # In the pool's processes: the log's messages with seq in (after, upto], verified again (ingest takes only a
    # Verified message without checking it).
    path, after, upto = job
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT raw FROM messages WHERE seq > ? AND seq <= ? ORDER BY seq", (after, upto))
        return [check(bytes(raw)) for (raw,) in rows]


def batch_times(times: list[tuple[int, float]], count: int) -> dict[str, dict[str, float]]:
    """Wall time of a batch (ms; median and p90) over the first ``WINDOW`` messages, the ``WINDOW`` from 100,000
    and the last ``WINDOW``, from ``(messages held before the batch, ms)`` pairs."""
    starts = {"at_0": 0, "at_100k": 100_000, f"at_{count:,}": count - WINDOW}
    out: dict[str, dict[str, float]] = {}
    for name, start in starts.items():
        window = sorted(ms for held, ms in times if start <= held < start + WINDOW)
        if window and start >= 0:
            out[name] = {"median_ms": round(window[len(window) // 2], 2),
                         "p90_ms": round(window[int(len(window) * 0.9)], 2), "batches": len(window)}  # fmt: skip
    return out


async def _ingest(source: Path, database: str, progress: Callable[[str], None]) -> list[tuple[int, float]]:
    """Every message of the SQLite database ``source``, in its log order, stored on ``database`` through
    ``Store.ingest`` in batches of ``PG_BATCH``; each batch's wall time, by the messages held before it."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as conn:
        last = int(conn.execute("SELECT coalesce(max(seq), 0) FROM messages").fetchone()[0])
    jobs = iter([(str(source), after, min(after + CHUNK, last)) for after in range(0, last, CHUNK)])
    times: list[tuple[int, float]] = []
    held = 0
    async with await Store.open(source, database=database) as store:
        await _seat(store)
        with mp_context().Pool(2) as pool:
            # At most a few chunks verified ahead of the writer, so the log is never all in memory at once.
            ahead = [pool.apply_async(_verified_range, (job,)) for job in itertools.islice(jobs, 3)]
            while ahead:
                chunk = ahead.pop(0).get()
                ahead += [pool.apply_async(_verified_range, (job,)) for job in itertools.islice(jobs, 1)]
                for offset in range(0, len(chunk), PG_BATCH):
                    started = time.perf_counter()
                    await store.ingest(chunk[offset : offset + PG_BATCH])
                    times.append((held, (time.perf_counter() - started) * 1e3))
                    held += len(chunk[offset : offset + PG_BATCH])
                if held % 100_000 < len(chunk):
                    progress(f"timeline db (postgresql): {held:,} stored; last batch {times[-1][1]:.0f} ms")
    return times


def build_postgres(
    sqlite: BigDb, authors: int, server: PostgresServer, home: Path, progress: Callable[[str], None]
) -> BigDb:
    """``sqlite``'s messages stored on ``server`` through the store (``_ingest``), built now or reused from the kept
    cluster; the server's data directory goes under ``home`` (not in the cluster's: the server refuses a key in
    another user's folder)."""
    name = f"timeline_v{PG_FORMAT}_s{SCHEMA_VERSION}_{SCHEMA}_{sqlite.messages}_{authors}"
    root = home / name
    data = root / "data"
    meta_path = root / "bench-meta.json"
    url = server.url(name)
    if meta_path.exists() and has_database(server, name):
        return dataclasses.replace(sqlite, root=data, build_seconds=0.0, database=url)
    shutil.rmtree(root, ignore_errors=True)
    progress(f"timeline db: storing {sqlite.messages:,} messages on PostgreSQL ({name}; kept for later runs)")
    started = time.monotonic()
    fresh_database(server, name)
    times = asyncio.run(_ingest(sqlite.root / "murmur.db", url, progress))
    data.mkdir(mode=0o700, parents=True)
    for kept in ("server.key", "config.toml"):  # the same server, on its own directory (its own lock)
        shutil.copy2(sqlite.root / kept, data / kept)
    (root / "batches.json").write_text(json.dumps(times))
    progress(f"timeline db (postgresql): batch times {batch_times(times, sqlite.messages)}")
    meta_path.write_text(json.dumps({"messages": sqlite.messages}))
    return dataclasses.replace(sqlite, root=data, build_seconds=time.monotonic() - started, database=url)
