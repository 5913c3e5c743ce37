"""timeline_ms: latency of a home timeline (first and second page) and of a thread, over HTTP.

A real ``murmur serve`` over a database of 1,000,000 messages (100,000 in quick mode; see ``bench.bigdb``) by
1,000 authors. The reader is a member following 200 of them; a home page is 50 items (``limit=50``), the
second page is asked with the first page's cursor (``before``), and the thread is the corpus's root post with
the most replies. One client in a separate process sends the three requests in turn, one at a time, each
signed just before it is sent (signing is not timed); the latency is from the request's first byte written
to the last byte of the answer read. The figure is the p99 of the home timeline's first page; every
percentile is reported beside it. Eight members that follow the same authors take turns, because a member's
requests are rate limited (600 a minute).

With ``--engines sqlite,postgresql``, ``timeline_ms_pg`` is the same over the same messages on PostgreSQL (its own
server), measured interleaved with SQLite's: rounds of 50 requests of each kind go to one server then the other, so
a machine whose load moves during the run moves both alike. Its limit is SQLite's p99 from the same rounds, its
ratio PostgreSQL's over SQLite's, beside the bar of issue 20 (``target_ratio`` 2.0).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from bench.bigdb import readers
from bench.context import Context, Figure, rate_figure
from bench.engines import both, named
from bench.figures.common import big_db, big_server
from bench.httpload import Connection, Reply, build_request, percentile, run_load

FIGURES = both("timeline_ms")
LIMIT = 50
KINDS = ("home", "home_page2", "thread")


async def _first_cursor(port: int, recipient: str) -> str:
    conn = await Connection.open(port)
    reply = await conn.send(
        build_request("GET", f"/api/v1/timelines/home?limit={LIMIT}", b"", readers()[0], recipient=recipient)
    )
    await conn.close()
    assert reply.status == 200, reply.body[:200]
    cursor = orjson.loads(reply.body)["next_cursor"]
    assert isinstance(cursor, str), "the home timeline has no second page"
    return cursor


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.5), 3),
        "p90": round(percentile(values, 0.9), 3),
        "p99": round(percentile(values, 0.99), 3),
        "max": round(max(values), 3) if values else 0.0,
    }


ROUND = 50  # requests of each kind sent to one engine's server before the other's turn


def _targets(port: int, key: str, thread_root: str) -> tuple[str, ...]:
    cursor = asyncio.run(_first_cursor(port, key))
    return (
        f"/api/v1/timelines/home?limit={LIMIT}",
        f"/api/v1/timelines/home?limit={LIMIT}&before={cursor}",
        f"/api/v1/threads/{thread_root}",
    )


def _load(port: int, key: str, targets: tuple[str, ...], requests: int, seconds: float) -> Any:
    members = readers()[:8]

    def make(job: int) -> bytes:
        return build_request("GET", targets[job % 3], b"", members[(job // 3) % len(members)], recipient=key)

    def check(job: int, reply: Reply) -> int:
        assert reply.status == 200, f"HTTP {reply.status}: {reply.body[:200]!r}"
        return 1

    return run_load(port, 3 * requests, make, check, connections=1, seconds=seconds)


def _figure(db: Any, latencies: list[float], statuses: dict[int, int], errors: list[str], **extra: Any) -> Figure:
    by_kind: dict[str, list[float]] = {kind: latencies[i::3] for i, kind in enumerate(KINDS)}
    stats: dict[str, Any] = {kind: _stats(v) for kind, v in by_kind.items()}
    return rate_figure(
        stats["home"]["p99"],
        "ms",
        stored_messages=db.messages,
        followed_authors=200,
        page_limit=LIMIT,
        requests={kind: len(v) for kind, v in by_kind.items()},
        thread_replies=db.thread_replies,
        **{f"{kind}_ms": s for kind, s in stats.items()},
        statuses=statuses,
        errors=errors,
        **extra,
    )


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    engines = [e for e in ctx.engines]
    dbs = {engine: big_db(ctx, engine) for engine in engines}
    servers = {engine: big_server(ctx, engine) for engine in engines}
    targets = {e: _targets(servers[e].port, servers[e].key, dbs[e].thread_root) for e in engines}
    latencies: dict[str, list[float]] = {e: [] for e in engines}
    statuses: dict[str, dict[int, int]] = {e: {} for e in engines}
    errors: dict[str, list[str]] = {e: [] for e in engines}
    # Warm-up: the first requests read pages from disk into the cache, as a server's first minutes do.
    for engine in engines:
        _load(servers[engine].port, servers[engine].key, targets[engine], 10, 10)
    rounds = max(1, -(-sizes.timeline_requests // ROUND))
    ctx.progress(
        f"timeline_ms: {sizes.timeline_requests:,} requests of each kind over {dbs[engines[0]].messages:,} messages"
        f" on {', '.join(engines)}, in {rounds} interleaved rounds"
    )
    for number in range(rounds):
        count = min(ROUND, sizes.timeline_requests - number * ROUND)
        for engine in engines:
            result = _load(servers[engine].port, servers[engine].key, targets[engine], count, sizes.http_max_seconds)
            latencies[engine] += result.latencies_ms
            errors[engine] += result.errors
            for status, n in result.statuses.items():
                statuses[engine][status] = statuses[engine].get(status, 0) + n
    figures: dict[str, Figure] = {}
    for engine in engines:
        figures[named("timeline_ms", engine)] = _figure(
            dbs[engine], latencies[engine], statuses[engine], errors[engine], target=5.0, engine=engine
        )
    if "postgresql" in engines and "sqlite" in engines:
        pg, lite = figures["timeline_ms_pg"], figures["timeline_ms"]
        pg.update(rate_figure(pg["value"], "ms", limit=lite["value"], limit_name="timeline_ms", target_ratio=2.0))
        pg["p50_over_sqlite"] = round(pg["home_ms"]["p50"] / lite["home_ms"]["p50"], 3)
        pg["thread_p99_over_sqlite"] = round(pg["thread_ms"]["p99"] / lite["thread_ms"]["p99"], 3)
        pg["thread_p50_over_sqlite"] = round(pg["thread_ms"]["p50"] / lite["thread_ms"]["p50"], 3)
    return figures
