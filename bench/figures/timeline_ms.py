"""timeline_ms: latency of a home timeline (first and second page) and of a thread, over HTTP.

A real ``murmur serve`` over a database of 1,000,000 messages (100,000 in quick mode; see ``bench.bigdb``) by
1,000 authors. The reader is a member following 200 of them; a home page is 50 items (``limit=50``), the
second page is asked with the first page's cursor (``before``), and the thread is the corpus's root post with
the most replies. One client in a separate process sends the three requests in turn, one at a time, each
signed just before it is sent (signing is not timed); the latency is from the request's first byte written
to the last byte of the answer read. The figure is the p99 of the home timeline's first page; every
percentile is reported beside it. Eight members that follow the same authors take turns, because a member's
requests are rate limited (600 a minute).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from bench.bigdb import readers
from bench.context import Context, Figure, rate_figure
from bench.figures.common import big_db, big_server
from bench.httpload import Connection, Reply, build_request, percentile, run_load

FIGURES = ("timeline_ms",)
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


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    db = big_db(ctx)
    server = big_server(ctx)
    cursor = asyncio.run(_first_cursor(server.port, server.key))
    members = readers()[:8]
    targets = (
        f"/api/v1/timelines/home?limit={LIMIT}",
        f"/api/v1/timelines/home?limit={LIMIT}&before={cursor}",
        f"/api/v1/threads/{db.thread_root}",
    )
    counts: dict[str, int] = {}

    def make(job: int) -> bytes:
        return build_request("GET", targets[job % 3], b"", members[(job // 3) % len(members)], recipient=server.key)

    def check(job: int, reply: Reply) -> int:
        assert reply.status == 200, f"HTTP {reply.status}: {reply.body[:200]!r}"
        return 1

    # Warm-up: the first requests read pages from disk into the cache, as a server's first minutes do.
    run_load(server.port, 30, make, check, connections=1, seconds=10)
    ctx.progress(f"timeline_ms: {sizes.timeline_requests:,} requests of each kind over {db.messages:,} messages")
    result = run_load(
        server.port, 3 * sizes.timeline_requests, make, check, connections=1, seconds=sizes.http_max_seconds * 3
    )
    by_kind: dict[str, list[float]] = {kind: result.latencies_ms[i::3] for i, kind in enumerate(KINDS)}
    counts = {kind: len(v) for kind, v in by_kind.items()}
    stats: dict[str, Any] = {kind: _stats(v) for kind, v in by_kind.items()}
    return {
        "timeline_ms": rate_figure(
            stats["home"]["p99"],
            "ms",
            target=5.0,
            stored_messages=db.messages,
            followed_authors=200,
            page_limit=LIMIT,
            requests=counts,
            thread_replies=db.thread_replies,
            **{f"{kind}_ms": s for kind, s in stats.items()},
            statuses=result.statuses,
            errors=result.errors,
        )
    }
