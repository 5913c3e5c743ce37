"""stream_fanout: members holding ``GET /api/v1/stream`` open while others publish at a steady rate.

For each load of the mode (open streams, posts per second), a fresh ``murmur serve`` (default config) with
1,000 members seeded before it started: one process opens a stream for each of the first N members and waits
until every stream has begun, then another publishes single posts by the members in turn at the given rate for
``fanout_seconds`` (``bench.streamload``). Reported per run: publish p50/p99 (request written to 201 read),
delivery p50/p99 over every (stream, post) pair (request written to the event read on that stream), pairs
never delivered, the server's memory (all its processes) at the end, and the CPU time the server used from the
moment every stream was open until every post had arrived everywhere (per post, and per delivery). Each rate is
also run with no stream open: the unloaded publish latency the loaded ones are held against
(``publish_p99_vs_unloaded``).

The figure's value is the delivery p99 of the biggest load; its limit is the unloaded publish p99 at that rate.
"""

from __future__ import annotations

import random
from typing import Any

from bench.context import Context, Figure, rate_figure
from bench.corpus import post_text
from bench.figures.publish_http import _members
from bench.httpload import percentile
from bench.server import ServerProcess, create, seed
from bench.streamload import run_fanout
from murmur.jcs import canonicalize
from murmur.keys import Identity
from murmur.message import now_ms, sign_draft

FIGURES = ("stream_fanout",)
MEMBERS = 1000


def _posts(members: list[Identity], count: int, salt: int) -> list[tuple[Identity, bytes]]:
    rng = random.Random(salt)
    base = now_ms() - 1000
    posts = []
    for n in range(count):
        member = members[(n * 7 + salt) % len(members)]
        draft = {"kind": "post", "body": {"text": post_text(rng)}}
        posts.append((member, canonicalize(sign_draft(member, draft, created_at=base - n))))
    return posts


def _ms(values: list[float], q: float) -> float:
    return round(percentile(values, q), 2)


def _run(ctx: Context, members: list[Identity], streams: int, rate: int, number: int) -> dict[str, Any]:
    posts = _posts(members, max(1, int(rate * ctx.sizes.fanout_seconds)), number)
    data = create(ctx.tmp / f"stream-fanout-{number}")
    seed(data, members=[m.public_key for m in members])
    with ServerProcess(data.root) as server:
        ctx.progress(f"stream_fanout: {streams} streams, {rate} posts/s against {server.url}")
        result = run_fanout(server.port, server.key, members[:streams], posts, rate, server.cpu_s)
        memory = server.rss_mb()
    return {
        "streams": streams,
        "posts_per_s": rate,
        "posts": len(posts),
        "publish_ms_p50": _ms(result.publish_ms, 0.5),
        "publish_ms_p99": _ms(result.publish_ms, 0.99),
        "delivery_ms_p50": _ms(result.delivery_ms, 0.5),
        "delivery_ms_p99": _ms(result.delivery_ms, 0.99),
        "deliveries": len(result.delivery_ms),
        "missing": result.missing,
        "refused": result.refused,
        "server_mb": round(memory, 1),
        "listener_cpu_s": round(result.listener_cpu_s, 2),
        "server_cpu_s": round(result.server_cpu_s, 2),
        # What one post costs the server, and what each stream adds to it: load on the machine stretches
        # latency far more than it does these.
        "server_cpu_ms_per_post": round(result.server_cpu_s / len(posts) * 1000, 3),
        "server_cpu_us_per_delivery": (
            round(result.server_cpu_s / len(result.delivery_ms) * 1e6, 2) if result.delivery_ms else None
        ),
    }


def run(ctx: Context) -> dict[str, Figure]:
    members = _members(MEMBERS)
    loads = ctx.sizes.fanout_loads
    runs: list[dict[str, Any]] = []
    unloaded: dict[int, float] = {}
    for rate in sorted({r for _, r in loads}):
        done = _run(ctx, members, 0, rate, len(runs))
        unloaded[rate] = done["publish_ms_p99"]
        runs.append(done)
    for streams, rate in loads:
        done = _run(ctx, members, streams, rate, len(runs))
        done["publish_p99_vs_unloaded"] = round(done["publish_ms_p99"] / unloaded[rate], 2) if unloaded[rate] else None
        runs.append(done)
    biggest = runs[-1]
    return {
        "stream_fanout": rate_figure(
            biggest["delivery_ms_p99"],
            "ms",
            limit=unloaded[biggest["posts_per_s"]],
            limit_name="publish p99 with no stream open, same rate",
            streams=biggest["streams"],
            posts_per_s=biggest["posts_per_s"],
            runs=runs,
        )
    }
