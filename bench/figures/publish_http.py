"""publish_http: single signed posts per second from many concurrent member clients.

A real ``murmur serve`` (default config: durability ``full``, 600 requests a minute per member key) with
1,000 members added to its database before it started. The load generator, a separate process, keeps 32
connections open, each acting for members in turn; every request is ``POST /api/v1/messages`` with one
post signed ahead of time by its member, and the request itself is signed just before it is sent (the
server refuses request signatures older than 60 s and remembers every nonce). The figure is the median over
fresh servers of posts accepted (201) over the wall time of the run.

``publish_http_generator`` is the same generator against a do-nothing server: its ceiling.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.context import Context, Figure, rate_figure
from bench.corpus import post_text
from bench.httpload import Reply, Sink, build_request, percentile, run_load
from bench.server import ServerProcess, create, seed, seeded
from murmur.jcs import canonicalize
from murmur.keys import Identity
from murmur.message import now_ms, sign_draft

FIGURES = ("publish_http", "publish_http_generator")
MEMBERS = 1000
CONNECTIONS = 32
PATH = "/api/v1/messages"


def _members(count: int) -> list[Identity]:
    return [seeded(f"member-{n}") for n in range(count)]


def _posts(members: list[Identity], count: int) -> list[bytes]:
    import random

    rng = random.Random(7)
    base = now_ms() - 1000
    return [
        canonicalize(sign_draft(members[n % len(members)], {"kind": "post", "body": {"text": post_text(rng)}},
                                created_at=base - n))
        for n in range(count)
    ]  # fmt: skip


def _load(port: int, recipient: str, members: list[Identity], posts: list[bytes], seconds: float, *, sink: bool) -> Any:
    def make(job: int) -> bytes:
        return build_request("POST", PATH, posts[job], members[job % len(members)], recipient=recipient)

    def check(job: int, reply: Reply) -> int:
        expected = 200 if sink else 201
        assert reply.status == expected, f"HTTP {reply.status}: {reply.body[:200]!r}"
        return 1

    return run_load(port, len(posts), make, check, connections=CONNECTIONS, seconds=seconds)


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    members = _members(min(MEMBERS, sizes.publish_messages))
    ctx.progress(f"publish_http: signing {sizes.publish_messages:,} posts by {len(members):,} members (not timed)")
    posts = _posts(members, sizes.publish_messages)
    rates: list[float] = []
    runs: list[dict[str, Any]] = []
    for number in range(sizes.publish_runs):
        data = create(ctx.tmp / f"publish-http-{number}")
        seed(data, members=[m.public_key for m in members])
        with ServerProcess(data.root) as server:
            ctx.progress(f"publish_http: run {number + 1}/{sizes.publish_runs} against {server.url}")
            result = _load(server.port, server.key, members, posts, sizes.http_max_seconds, sink=False)
        rates.append(result.rate)
        runs.append(
            {
                "rate": round(result.rate, 1),
                "posts": result.units,
                "seconds": round(result.seconds, 2),
                "latency_ms_p50": round(percentile(result.latencies_ms, 0.5), 2),
                "latency_ms_p99": round(percentile(result.latencies_ms, 0.99), 2),
                "statuses": result.statuses,
                "errors": result.errors,
            }
        )
    ctx.progress("publish_http_generator: the same load against a do-nothing server")
    with Sink() as sink:
        ceiling = _load(sink.port, sink.key, members, posts, sizes.http_max_seconds, sink=True)
    return {
        "publish_http": rate_figure(
            statistics.median(rates),
            "posts/s",
            members=len(members),
            connections=CONNECTIONS,
            durability="full",
            posts=sizes.publish_messages,
            runs=runs,
            generator_ceiling=round(ceiling.rate, 1),
        ),
        "publish_http_generator": rate_figure(ceiling.rate, "posts/s", connections=CONNECTIONS),
    }
