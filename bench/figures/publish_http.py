"""publish_http: single signed posts per second from many concurrent member clients.

A real ``murmur serve`` (default config: durability ``full``, 600 requests a minute per member key) with
1,000 members added to its database before it started. The load generator, a separate process, keeps 32
connections open, each acting for members in turn; every request is ``POST /api/v1/messages`` with one
post signed ahead of time by its member, and the request itself is signed just before it is sent (the
server refuses request signatures older than 60 s and remembers every nonce). The figure is the median over
fresh servers of posts accepted (201) over the wall time of the run, with the server's CPU per post (all its
processes) and the load average beside each run.

``python -m bench --workers N`` runs the servers with ``murmur serve --workers N``; ``--workers 1,2`` alternates
the counts run by run (``by_workers`` holds each count's medians; ``value`` is the first count's).

``publish_http_generator`` is the same generator against a do-nothing server: its ceiling.
"""

from __future__ import annotations

import os
import statistics
from typing import Any

from bench.context import Context, Figure, rate_figure
from bench.corpus import post_text
from bench.httpload import Reply, Sink, build_request, percentile, run_load
from bench.server import ServerProcess, cpu_s, create, seed, seeded
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


def _run_once(ctx: Context, number: int, workers: int, members: list[Identity], posts: list[bytes]) -> dict[str, Any]:
    data = create(ctx.tmp / f"publish-http-{number}")
    seed(data, members=[m.public_key for m in members])
    with ServerProcess(data.root, workers=workers) as server:
        ctx.progress(f"publish_http: run {number + 1} ({workers} worker(s)) against {server.url}")
        cpu, supervisor = server.cpu_seconds(), cpu_s(server.pid)
        result = _load(server.port, server.key, members, posts, ctx.sizes.http_max_seconds, sink=False)
        cpu, supervisor = server.cpu_seconds() - cpu, cpu_s(server.pid) - supervisor
    return {
        "workers": workers,
        "rate": round(result.rate, 1),
        "posts": result.units,
        "seconds": round(result.seconds, 2),
        "latency_ms_p50": round(percentile(result.latencies_ms, 0.5), 2),
        "latency_ms_p99": round(percentile(result.latencies_ms, 0.99), 2),
        "server_cpu_us_per_post": round(1e6 * cpu / max(1, result.units), 1),
        # with workers, the supervisor's share: the gate's answers and the wake-ups it passes on
        "supervisor_cpu_us_per_post": round(1e6 * supervisor / max(1, result.units), 1) if workers > 1 else None,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "statuses": result.statuses,
        "errors": result.errors,
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rate": round(statistics.median(r["rate"] for r in runs), 1),
        "latency_ms_p99": round(statistics.median(r["latency_ms_p99"] for r in runs), 2),
        "server_cpu_us_per_post": round(statistics.median(r["server_cpu_us_per_post"] for r in runs), 1),
        "load_average_1m": round(statistics.median(r["load_average_1m"] for r in runs), 2),
    }


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    members = _members(min(MEMBERS, sizes.publish_messages))
    ctx.progress(f"publish_http: signing {sizes.publish_messages:,} posts by {len(members):,} members (not timed)")
    posts = _posts(members, sizes.publish_messages)
    # Several worker counts alternate run by run, so that whatever else loads the machine weighs on each alike.
    order = [workers for _ in range(sizes.publish_runs) for workers in ctx.workers]
    runs = [_run_once(ctx, number, workers, members, posts) for number, workers in enumerate(order)]
    by_workers = {str(w): _summary([r for r in runs if r["workers"] == w]) for w in ctx.workers}
    ctx.progress("publish_http_generator: the same load against a do-nothing server")
    with Sink() as sink:
        ceiling = _load(sink.port, sink.key, members, posts, sizes.http_max_seconds, sink=True)
    return {
        "publish_http": rate_figure(
            by_workers[str(ctx.workers[0])]["rate"],
            "posts/s",
            members=len(members),
            connections=CONNECTIONS,
            durability="full",
            posts=sizes.publish_messages,
            workers=ctx.workers[0],
            by_workers=by_workers,
            runs=runs,
            generator_ceiling=round(ceiling.rate, 1),
        ),
        "publish_http_generator": rate_figure(ceiling.rate, "posts/s", connections=CONNECTIONS),
    }
