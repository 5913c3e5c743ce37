"""catchup: seconds and bytes on the wire for a fresh peer to pull a server's log.

The server is the ``murmur serve`` over the big database (``bench.bigdb``); the fresh peer is a new, empty
store in this process (durability ``full``) that pulls ``GET /fed/v1/log`` pages of 500 (the federator's
page) with ``PeerClient.pull`` and stores each page with ``Store.ingest``, as ``Federator.pull_once`` does,
until it holds 100,000 messages (20,000 in quick mode). Bytes on the wire count every request's and
response's head and body as sent (TCP/IP framing not counted); ``raw_bytes`` is the sum of the messages'
own bytes, the least any transfer could carry. Target: bytes ≤ 1.3 × raw.

With ``--engines sqlite,postgresql``, ``catchup_pg`` is the same pull from the server over the PostgreSQL copy of
the big database into a fresh PostgreSQL database; ``msg_per_s`` beside SQLite's is the comparison (bytes on the
wire do not depend on the engine), and ``verify_limit`` is repeated in both for reading the rate.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bench.context import Context, Figure, rate_figure
from bench.engines import both, cluster, fresh_database, named
from bench.figures.common import big_server
from bench.server import seeded
from murmur.server.federation.federator import PULL_PAGE
from murmur.server.federation.peer_client import PeerClient
from murmur.store import Store
from murmur.store.peers import Peer, refuse_local_from_peer

FIGURES = both("catchup")


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the bytes of every request and response that pass, heads included."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.bytes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode()
        self.bytes += len(f"{request.method} {target} HTTP/1.1\r\n") + 2 + len(request.content)
        self.bytes += sum(len(k) + len(v) + 4 for k, v in request.headers.raw)
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.bytes += len(f"HTTP/1.1 {response.status_code} OK\r\n") + 2 + len(body)
        self.bytes += sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _pull(url: str, key: str, db: Any, want: int, database: str | None) -> dict[str, Any]:
    peer = Peer(key, "bench", url, "pull-only", "", 0, 0, 0, None, "", 0, None)
    transport = CountingTransport()
    client = PeerClient(seeded("peer"), peer, transport=transport)
    received = raw = stored = pages = 0
    cursor = 0
    pulling = 0.0
    start = time.perf_counter()
    async with await Store.open(db, database=database) as store:
        while received < want:
            t0 = time.perf_counter()
            page = await client.pull(cursor, limit=PULL_PAGE)
            pulling += time.perf_counter() - t0
            pages += 1
            received += len(page.lines)
            raw += sum(len(line) for line in page.lines)
            results = await store.ingest(page.lines, origin=peer.origin, policy=refuse_local_from_peer)
            stored += sum(r.status == "stored" for r in results)
            cursor = page.cursor
            if not page.more:
                break
    seconds = time.perf_counter() - start
    await client.aclose()
    return {"seconds": seconds, "pull_seconds": pulling, "received": received, "stored": stored,
            "raw": raw, "wire": transport.bytes, "pages": pages}  # fmt: skip


def run(ctx: Context) -> dict[str, Figure]:
    want = ctx.sizes.catchup_messages
    verify_limit = ctx.limit("verify_limit")
    figures: dict[str, Figure] = {}
    for engine in ctx.engines:
        server = big_server(ctx, engine)
        database = fresh_database(cluster(ctx), "catchup") if engine == "postgresql" else None
        ctx.progress(f"catchup ({engine}): a fresh peer pulls {want:,} messages from {server.url}")
        got = asyncio.run(_pull(server.url, server.key, ctx.tmp / f"catchup-{engine}.db", want, database))
        figures[named("catchup", engine)] = rate_figure(
            got["wire"],
            "bytes",
            limit=got["raw"],
            limit_name="raw_bytes",
            target_ratio=1.3,
            engine=engine,
            seconds=round(got["seconds"], 2),
            pull_seconds=round(got["pull_seconds"], 2),
            messages=got["received"],
            stored=got["stored"],
            pages=got["pages"],
            page=PULL_PAGE,
            msg_per_s=round(got["received"] / got["seconds"], 1) if got["seconds"] else 0.0,
            verify_limit=verify_limit,
            durability="full",
        )
    if "catchup_pg" in figures:
        figures["catchup_pg"]["rate_over_sqlite"] = round(
            figures["catchup_pg"]["msg_per_s"] / figures["catchup"]["msg_per_s"], 4
        )
    return figures
