"""mesh: what relaying costs when servers form a chain, a ring or a full mesh.

For each topology, ``mesh_servers`` fresh ``murmur serve`` processes (default config but for the rate limits),
each pair of neighbours peers of each other (push-pull), every link through a byte-counting relay of its own
(``bench.meshnet``). Once every server has pulled every neighbour once (its loops run) and the links went
quiet, a member of the first server publishes ``mesh_posts`` posts one after another over the client API;
then the run waits until every server holds them all (``converge_s``, from the first publish, read from each
server's database every 10 ms) and until no byte passed any link for ``QUIET_S``. What each server received
(requests sent to it, answers to its own requests: heads and bodies, as they crossed the socket) is summed.

``bytes_per_delivery`` is all the bytes received divided by the useful deliveries, posts × (servers − 1);
``message_bytes`` is a post's own size, the least a delivery could cost. The figure is the full mesh's
``bytes_per_delivery``, its limit the chain's from the same run: relay should cost about one copy per server
whatever the topology (target: ratio ≤ 1.5, with ``converge_s`` in the full mesh no worse than before).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from bench.context import Context, Figure, rate_figure
from bench.corpus import post_text
from bench.meshnet import TOPOLOGIES, holding, start
from bench.server import seeded
from murmur.client.api import MurmurClient
from murmur.jcs import canonicalize
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.federation.push_offers import LAZY_LINGER_S

FIGURES = ("mesh",)
BOUND_S = 60.0
QUIET_S = LAZY_LINGER_S + 1.0  # past the wait of a server's offers to a peer that declines them (a mesh)


async def _publish(url: str, member: Identity, posts: list[dict[str, Any]]) -> None:
    async with MurmurClient(url, member) as api:
        for post in posts:
            await api.publish(post)


def _run(ctx: Context, topology: str, count: int, number: int) -> dict[str, Any]:
    member = seeded("mesh-member")
    rng = random.Random(number)
    posts = [sign_draft(member, {"body": {"text": post_text(rng)}}) for _ in range(ctx.sizes.mesh_posts)]
    ids = [bytes.fromhex(p["id"]) for p in posts]
    mesh = start(ctx.tmp / f"mesh-{number}", topology, count, member.public_key)
    try:
        ctx.progress(f"mesh: {count} servers, {topology}, {len(posts)} posts")
        deadline = time.monotonic() + BOUND_S
        while any(link.connections == 0 for link in mesh.relays.links.values()):  # every loop has started
            if time.monotonic() > deadline:
                raise TimeoutError("mesh: the servers did not all dial their peers in time")
            time.sleep(0.1)
        mesh.relays.quiet(0.5, BOUND_S)
        mesh.relays.reset()
        started = time.perf_counter()
        asyncio.run(_publish(mesh.servers[0].url, member, posts))
        while any(holding(s.data / "murmur.db", ids) < len(ids) for s in mesh.servers):
            if time.perf_counter() - started > BOUND_S:
                raise TimeoutError(f"mesh: {topology} did not converge in {BOUND_S} s")
            time.sleep(0.01)
        converged = time.perf_counter() - started
        mesh.relays.quiet(1.0 if ctx.mode == "tiny" else QUIET_S, BOUND_S)  # tiny: the numbers mean nothing
        received = mesh.relays.received(count)
        requests = mesh.relays.requests()
    finally:
        mesh.close()
    useful = len(posts) * (count - 1)
    message_bytes = sum(len(canonicalize(p)) for p in posts)
    return {
        "topology": topology,
        "servers": count,
        "links": len(mesh.edges),
        "posts": len(posts),
        "converge_s": round(converged, 3),
        "bytes_received": sum(received),
        "bytes_per_server_mean": round(sum(received) / count),
        "bytes_per_server_max": max(received),
        "bytes_per_delivery": round(sum(received) / useful, 1),
        "message_bytes": round(message_bytes / len(posts), 1),
        "requests": requests,
    }


def run(ctx: Context) -> dict[str, Figure]:
    count = ctx.sizes.mesh_servers
    runs = {topology: _run(ctx, topology, count, n) for n, topology in enumerate(TOPOLOGIES)}
    full, chain = runs["full"], runs["chain"]
    return {
        "mesh": rate_figure(
            full["bytes_per_delivery"],
            "B/delivery",
            limit=chain["bytes_per_delivery"],
            limit_name="the chain's bytes per delivery, same run",
            servers=count,
            converge_s_full=full["converge_s"],
            converge_s_chain=chain["converge_s"],
            runs=list(runs.values()),
        )
    }
