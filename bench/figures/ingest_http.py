"""ingest_http: messages per second accepted through a real server's peer batch endpoint.

A real ``murmur serve`` process (default config: durability ``full``, an fsync per commit) takes
``POST /fed/v1/messages`` batches of 500 corpus messages as JSON Lines, each request signed with the key of
a peer added (serve-only) to its database before it started. The load generator is a separate process with
four kept-alive connections (so one batch can be validated while another is stored) sending pre-built
bodies and signing each request just before sending it. The figure is the median over fresh servers of
messages stored over the wall time from the first request sent to the last answer.

``ingest_http_generator`` is the same generator sending the same requests to a server that only reads the
body and answers: the ceiling of the generator, which must sit far above the figure.

With ``--engines sqlite,postgresql``, ``ingest_http_pg`` is the same load into a server on a fresh PostgreSQL
database, its runs interleaved with SQLite's (SQLite, PostgreSQL, SQLite, ...); its bar (issue 20) is 60 % of the
one-core ``verify_limit``, and ``over_sqlite`` is its rate over SQLite's from the same run.

Each run also says the CPU a message cost (``cpu_us_per_message``: the server, its signature workers and, on
PostgreSQL, its database's backends, from /proc), which holds where the rate moves with the machine's load.
"""

from __future__ import annotations

import statistics
from typing import Any

import orjson

from bench.context import Context, Figure, rate_figure
from bench.engines import both, cluster, fresh_database, named
from bench.figures.common import corpus
from bench.httpload import Reply, Sink, build_request, run_load
from bench.server import ServerProcess, create, seed, seeded

FIGURES = (*both("ingest_http"), "ingest_http_generator")
BATCH = 500
CONNECTIONS = 4
PATH = "/fed/v1/messages"


def _bodies(messages: list[bytes]) -> list[bytes]:
    return [b"".join(m + b"\n" for m in messages[i : i + BATCH]) for i in range(0, len(messages), BATCH)]


def _load(port: int, recipient: str, bodies: list[bytes], sizes: list[int], seconds: float, *, sink: bool) -> Any:
    peer = seeded("peer")

    def make(job: int) -> bytes:
        return build_request("POST", PATH, bodies[job], peer, recipient=recipient)

    def check(job: int, reply: Reply) -> int:
        assert reply.status == 200, f"HTTP {reply.status}: {reply.body[:200]!r}"
        if sink:
            return sizes[job]
        answer = orjson.loads(reply.body)
        assert answer["stored"] == sizes[job], f"stored {answer['stored']} of {sizes[job]}: {answer.get('refused')}"
        return int(answer["stored"])

    return run_load(port, len(bodies), make, check, connections=CONNECTIONS, seconds=seconds)


def _one(ctx: Context, engine: str, number: int, bodies: list[bytes], counts: list[int]) -> tuple[float, Figure]:
    """One run of the load into a fresh server on ``engine``: its rate and what the run saw."""
    sizes = ctx.sizes
    data = create(ctx.tmp / f"ingest-http-{engine}-{number}")
    database = fresh_database(cluster(ctx), f"ingest_http_{number}") if engine == "postgresql" else ""
    seed(data, peers=[seeded("peer").public_key], database=database or None)
    with ServerProcess(data.root, database) as server:
        idle = server.rss_mb()
        ctx.progress(f"ingest_http ({engine}): run {number + 1}/{sizes.http_runs}, {sum(counts):,} messages")
        cpu = server.cpu_seconds()
        result = _load(server.port, server.key, bodies, counts, sizes.http_max_seconds, sink=False)
        used = server.cpu_seconds() - cpu
        return result.rate, {
            "rate": round(result.rate, 1),
            "cpu_us_per_message": round(used / result.units * 1e6, 1) if result.units else None,
            "messages": result.units,
            "seconds": round(result.seconds, 2),
            "server_rss_mb_idle": round(idle, 1),
            "server_rss_mb_after": round(server.rss_mb(), 1),  # with its signature workers
            "server_processes": server.processes(),
            "statuses": result.statuses,
            "errors": result.errors,
        }


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    messages = corpus(ctx).messages[: sizes.http_messages]
    bodies = _bodies(messages)
    counts = [body.count(b"\n") for body in bodies]
    verify_limit = ctx.limit("verify_limit")
    rates: dict[str, list[float]] = {e: [] for e in ctx.engines}
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in ctx.engines}
    for number in range(sizes.http_runs):
        for engine in ctx.engines:  # interleaved: a load that moves during the run moves every engine alike
            rate, seen = _one(ctx, engine, number, bodies, counts)
            rates[engine].append(rate)
            runs[engine].append(seen)
    ctx.progress("ingest_http_generator: the same load against a do-nothing server")
    with Sink() as sink:
        ceiling = _load(sink.port, sink.key, bodies, counts, sizes.http_max_seconds, sink=True)
    figures: dict[str, Figure] = {
        named("ingest_http", engine): rate_figure(
            statistics.median(rates[engine]),
            "msg/s",
            limit=verify_limit,
            limit_name="verify_limit",
            target_ratio=0.6,
            target_value=6000,
            engine=engine,
            batch=BATCH,
            connections=CONNECTIONS,
            durability="full",
            messages=sizes.http_messages,
            runs=runs[engine],
            cpu_us_per_message=statistics.median(r["cpu_us_per_message"] or 0.0 for r in runs[engine]),
            generator_ceiling=round(ceiling.rate, 1),
        )
        for engine in ctx.engines
    }
    if "postgresql" in ctx.engines and "sqlite" in ctx.engines:
        pg = figures["ingest_http_pg"]
        pg["over_sqlite"] = round(pg["value"] / figures["ingest_http"]["value"], 4)
    figures["ingest_http_generator"] = rate_figure(
        ceiling.rate,
        "msg/s",
        requests_per_s=round(ceiling.requests / ceiling.seconds, 1) if ceiling.seconds else 0.0,
        mb_per_s=round(sum(len(b) for b in bodies[: ceiling.requests]) / ceiling.seconds / 1e6, 1),
    )
    return figures
