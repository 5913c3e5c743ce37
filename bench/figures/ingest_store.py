"""ingest_store: messages per second validated and stored by the core in batches, no HTTP.

A fresh SQLite file in the run's temporary directory, opened as a server opens it (WAL, ``synchronous=FULL``),
takes the signed corpus in batches of 500 wire-byte messages through ``Store.ingest_stream``, as bundle import
does: every message is parsed, validated, verified and written with its indexes and full-text row, one
transaction per batch, the next batch validated while the last one is written. The figure is bounded by
``verify_limit`` (one verification per message); the target is 80 % of it.

``ingest_store_serial`` is the same load through one awaited ``Store.ingest`` call per batch (nothing
overlaps), into a second fresh file: what one caller that waits for each batch gets.

``ingest_store_large`` then stores further messages into the table that already holds the whole count, so the
cost of deeper indexes (random 32-byte ids in a B-tree) shows as the gap between the two.

With ``--engines sqlite,postgresql``, ``ingest_store_pg`` is ``ingest_store``'s load into a fresh PostgreSQL
database (fsync on, ``synchronous_commit`` on: as durable as SQLite's ``FULL``), run right after SQLite's, with the
one-core verification rate measured just before and after it too; ``over_sqlite`` is its rate over SQLite's.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.context import Context, Figure, rate_figure
from bench.engines import cluster, fresh_database
from bench.figures.common import corpus
from bench.figures.verify import nearby
from murmur.store import Store

FIGURES = ("ingest_store", "ingest_store_serial", "ingest_store_large", "ingest_store_pg")


async def _ingest(
    store: Store, messages: list[bytes], batch: int, max_seconds: float, *, stream: bool = True
) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    batch_seconds: list[float] = []
    done = 0
    start = time.perf_counter()

    def batches() -> Iterator[list[bytes]]:
        for offset in range(0, len(messages), batch):
            if time.perf_counter() - start > max_seconds:
                return
            yield messages[offset : offset + batch]

    t0 = time.perf_counter()
    if stream:
        async for results in store.ingest_stream(batches()):
            # Between two answers: one batch's share of the pipeline, not one batch's own latency.
            batch_seconds.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            statuses.update(r.status for r in results)
            done += len(results)
    else:
        for part in batches():
            results = await store.ingest(part)
            batch_seconds.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            statuses.update(r.status for r in results)
            done += len(results)
    return {
        "count": done,
        "seconds": time.perf_counter() - start,
        "batch_seconds": batch_seconds,
        "statuses": dict(statuses),
    }


def _rate_of(batches: list[float], batch: int) -> float:
    return len(batches) * batch / sum(batches) if batches else 0.0


async def _run(
    path: Path, main: list[bytes], tail: list[bytes], batch: int, max_seconds: float, database: str | None = None
) -> tuple[Any, ...]:
    async with await Store.open(path, database=database) as store:
        # One warm-up batch into a throwaway table would not warm this one; the first batch's cost is real
        # (page cache, statement cache) and is included, as a server pays it too.
        first = await _ingest(store, main, batch, max_seconds)
        rows = await store.count()
        second = await _ingest(store, tail, batch, max_seconds)
        total_rows = await store.count()
    return first, rows, second, total_rows


async def _run_serial(path: Path, main: list[bytes], batch: int, max_seconds: float) -> dict[str, Any]:
    async with await Store.open(path) as store:
        return await _ingest(store, main, batch, max_seconds, stream=False)


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    messages = corpus(ctx).messages
    main = messages[: sizes.ingest_messages]
    tail = messages[sizes.ingest_messages : sizes.ingest_messages + sizes.ingest_tail]
    verify_limit = ctx.limit("verify_limit")
    path = ctx.tmp / "ingest.db"
    ctx.progress(f"ingest_store: {len(main):,} messages in batches of {sizes.batch} into {path.name}")
    before = nearby(min(1.0, sizes.seconds))
    first, rows, second, total_rows = asyncio.run(_run(path, main, tail, sizes.batch, sizes.ingest_max_seconds))
    after = nearby(min(1.0, sizes.seconds))
    batches = first["batch_seconds"]
    tenth = max(1, len(batches) // 10)
    ms = sorted(s * 1000 for s in batches)
    figures: dict[str, Figure] = {
        "ingest_store": rate_figure(
            first["count"] / first["seconds"],
            "msg/s",
            limit=verify_limit,
            limit_name="verify_limit",
            target_ratio=0.8,
            messages=first["count"],
            truncated=first["count"] < len(main),
            batch=sizes.batch,
            authors=sizes.authors,
            statuses=first["statuses"],
            first_tenth_rate=round(_rate_of(batches[:tenth], sizes.batch), 1),
            last_tenth_rate=round(_rate_of(batches[-tenth:], sizes.batch), 1),
            batch_ms_p50=round(statistics.median(ms), 2),
            batch_ms_max=round(ms[-1], 2),
            us_per_message=round(first["seconds"] / first["count"] * 1e6, 2),
            durability="full",
            # The one-core verification rate just before and just after this figure, for reading the ratio on a
            # shared machine; the ratio itself is always against verify_limit.
            verify_rate_before=round(before, 1),
            verify_rate_after=round(after, 1),
            db_mb=round(sum(f.stat().st_size for f in ctx.tmp.glob("ingest.db*")) / 1e6, 1),
        )
    }
    ctx.progress(f"ingest_store_serial: the same {len(main):,} messages, one awaited Store.ingest per batch")
    serial = asyncio.run(_run_serial(ctx.tmp / "ingest-serial.db", main, sizes.batch, sizes.ingest_max_seconds))
    figures["ingest_store_serial"] = rate_figure(
        serial["count"] / serial["seconds"],
        "msg/s",
        limit=verify_limit,
        limit_name="verify_limit",
        messages=serial["count"],
        truncated=serial["count"] < len(main),
        batch=sizes.batch,
        statuses=serial["statuses"],
        us_per_message=round(serial["seconds"] / serial["count"] * 1e6, 2),
    )
    if "postgresql" in ctx.engines:
        figures["ingest_store_pg"] = _postgres(ctx, main, verify_limit)
        if "sqlite" in ctx.engines:
            figures["ingest_store_pg"]["over_sqlite"] = round(
                figures["ingest_store_pg"]["value"] / figures["ingest_store"]["value"], 4
            )
    figures["ingest_store_large"] = rate_figure(
        second["count"] / second["seconds"] if second["count"] else 0.0,
        "msg/s",
        limit=verify_limit,
        limit_name="verify_limit",
        messages=second["count"],
        table_rows_before=rows,
        table_rows_after=total_rows,
        statuses=second["statuses"],
    )
    return figures


def _postgres(ctx: Context, main: list[bytes], verify_limit: float) -> Figure:
    sizes = ctx.sizes
    url = fresh_database(cluster(ctx), "ingest_store")
    ctx.progress(f"ingest_store_pg: {len(main):,} messages in batches of {sizes.batch} into PostgreSQL")
    before = nearby(min(1.0, sizes.seconds))
    got, rows, _, _ = asyncio.run(_run(ctx.tmp / "unused.db", main, [], sizes.batch, sizes.ingest_max_seconds, url))
    after = nearby(min(1.0, sizes.seconds))
    return rate_figure(
        got["count"] / got["seconds"],
        "msg/s",
        limit=verify_limit,
        limit_name="verify_limit",
        target_ratio=0.8,
        engine="postgresql",
        messages=got["count"],
        truncated=got["count"] < len(main),
        table_rows=rows,
        batch=sizes.batch,
        statuses=got["statuses"],
        us_per_message=round(got["seconds"] / got["count"] * 1e6, 2),
        durability="full",
        verify_rate_before=round(before, 1),
        verify_rate_after=round(after, 1),
    )
