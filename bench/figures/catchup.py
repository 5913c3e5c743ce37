"""catchup: seconds and bytes on the wire for a fresh peer to pull a server's log.

The server is the ``murmur serve`` over the big database (``bench.bigdb``); the fresh peer is a new, empty
store in this process (durability ``full``) whose own ``Federator.pull_once`` pulls ``GET /fed/v1/log`` pages
of 500 (the next page fetched while the last one is checked and written: ``murmur.server.federation.pull``)
until it holds 100,000 messages (20,000 in quick mode), where the client it is handed says "nothing more".
Bytes on the wire count every request's and response's head and body as sent (TCP/IP framing not counted);
``raw_bytes`` is the sum of the messages' own bytes, the least any transfer could carry. Target: bytes ≤ 1.3 ×
raw. ``msg_per_s`` is read beside ``verify_limit`` (target ≥ 0.8 of it: ``verify_ratio``).

With ``--engines sqlite,postgresql``, ``catchup_pg`` is the same pull from the server over the PostgreSQL copy of
the big database into a fresh PostgreSQL database; ``msg_per_s`` beside SQLite's is the comparison (bytes on the
wire do not depend on the engine), and ``verify_limit`` is repeated in both for reading the rate.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import httpx

from bench.context import Context, Figure, rate_figure
from bench.engines import both, cluster, fresh_database, named
from bench.figures.common import big_server
from bench.figures.verify import nearby
from bench.server import seeded
from murmur.server.config import ServerConfig
from murmur.server.federation.federator import Federator
from murmur.server.federation.peer_client import PeerClient, PullPage
from murmur.server.federation.pull import AHEAD, PULL_PAGE
from murmur.server.state import ServerState
from murmur.store import Store
from murmur.store.peers import add_peer

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


class CappedClient(PeerClient):
    """The federator's client, saying "nothing more" once ``want`` messages came (the big log holds more), and
    counting what it received and how long its requests took (they overlap the storing now)."""

    def __init__(self, *args: Any, want: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.want = want
        self.received = self.raw = self.pages = 0
        self.pulling = 0.0

    async def pull(self, after: int, *, limit: int = PULL_PAGE, wait: int = 0, ids: bool = False) -> PullPage:
        t0 = time.perf_counter()
        page = await super().pull(after, limit=limit, wait=wait, ids=ids)
        self.pulling += time.perf_counter() - t0
        self.pages += 1
        self.received += len(page.lines)
        self.raw += sum(len(line) for line in page.lines)
        return dataclasses.replace(page, more=False) if self.received >= self.want else page


async def _pull(url: str, key: str, db: Any, want: int, database: str | None) -> dict[str, Any]:
    transport = CountingTransport()
    async with await Store.open(db, database=database) as store:
        peer = await add_peer(store, key, url, name="bench", mode="pull-only")
        state = ServerState(config=ServerConfig(), identity=seeded("peer"), store=store)
        client = CappedClient(state.identity, peer, transport=transport, want=want)
        start = time.perf_counter()
        try:
            await Federator(state).pull_once(peer, client)
        finally:
            await client.aclose()
        seconds = time.perf_counter() - start
        stored = await store.count()
    return {"seconds": seconds, "pull_seconds": client.pulling, "received": client.received, "stored": stored,
            "raw": client.raw, "wire": transport.bytes, "pages": client.pages}  # fmt: skip


def run(ctx: Context) -> dict[str, Figure]:
    want = ctx.sizes.catchup_messages
    verify_limit = ctx.limit("verify_limit")
    figures: dict[str, Figure] = {}
    for engine in ctx.engines:
        server = big_server(ctx, engine)
        database = fresh_database(cluster(ctx), "catchup") if engine == "postgresql" else None
        ctx.progress(f"catchup ({engine}): a fresh peer pulls {want:,} messages from {server.url}")
        before = nearby(min(1.0, ctx.sizes.seconds))
        got = asyncio.run(_pull(server.url, server.key, ctx.tmp / f"catchup-{engine}.db", want, database))
        after = nearby(min(1.0, ctx.sizes.seconds))
        rate = got["received"] / got["seconds"] if got["seconds"] else 0.0
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
            ahead=AHEAD,
            msg_per_s=round(rate, 1),
            verify_limit=verify_limit,
            verify_ratio=round(rate / verify_limit, 4) if verify_limit else 0.0,
            # The one-core verification rate just before and after the pull: on a shared machine it drifts within
            # a run, and the ratio to their mean (``verify_ratio_nearby``) is the one to compare across runs.
            verify_rate_before=round(before, 1),
            verify_rate_after=round(after, 1),
            verify_ratio_nearby=round(2 * rate / (before + after), 4) if before + after else 0.0,
            durability="full",
        )
    if "catchup_pg" in figures:
        figures["catchup_pg"]["rate_over_sqlite"] = round(
            figures["catchup_pg"]["msg_per_s"] / figures["catchup"]["msg_per_s"], 4
        )
    return figures
