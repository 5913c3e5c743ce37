"""repair: round trips and bytes to reconcile two sets of messages, beside the bytes of sending every id.

Two sets of ``N`` items (100,000 in full and quick runs) with realistic times (one message a second, jittered)
and random 32-byte ids; one side lacks a random subset of the other's items: 10, 1,000 and 1 % of N. The
reconciliation is the real one (``murmur.sync.reconcile``, default parameters) with messages passed in memory,
so the figures are exactly what goes over the wire in request and response bodies (HTTP and signature headers
come on top: about 600 bytes a round trip). ``repair_all_ids`` is the baseline: every id of one side, 32 bytes
each, which is what a naive exchange would send before knowing anything.

``repair_index_build`` is the time to read the repair set of a store holding N messages into memory (the
first repair after a start), ``repair_respond`` the responder's time for the opening round over it.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

from bench.context import Context, Figure, rate_figure
from murmur.store import Store
from murmur.sync.index import RepairIndex
from murmur.sync.ranges import Item, ItemSet
from murmur.sync.reconcile import Session, respond

FIGURES = ("repair_10", "repair_1000", "repair_1pct", "repair_all_ids", "repair_index_build", "repair_respond")
T0 = 1_700_000_000_000


def _size(ctx: Context) -> int:
    return 2_000 if ctx.mode == "tiny" else 100_000


def _items(n: int, rng: random.Random) -> list[Item]:
    return [(T0 + i * 1000 + rng.randrange(1000), rng.randbytes(32)) for i in range(n)]


def measure(ours: list[Item], theirs: list[Item]) -> dict[str, Any]:
    session = Session(ItemSet(ours, presorted=True))
    responder = ItemSet(theirs, presorted=True)
    message = session.initiate()
    trips = sent = received = 0
    start = time.perf_counter()
    while message is not None:
        answer = respond(responder, message)
        trips, sent, received = trips + 1, sent + len(message), received + len(answer)
        message = session.receive(answer)
    have, need = session.result()
    return {
        "round_trips": trips,
        "bytes_out": sent,
        "bytes_in": received,
        "found": len(have) + len(need),
        "cpu_ms": round((time.perf_counter() - start) * 1000, 1),
    }


async def _index(path: Any, items: list[Item]) -> tuple[float, float]:
    async with await Store.open(path, durability="normal") as store:
        rows = [
            (seq, item_id, bytes(32), "post", created_at, "public", None, None, None, None, "bench", 0, b"{}")
            for seq, (created_at, item_id) in enumerate(items, 1)
        ]
        async with store.writer.transaction() as conn:
            await conn.executemany(
                "INSERT INTO messages (seq, id, author, kind, created_at, visibility, reply_to, root, target, subject,"
                " origin, received_at, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
        index = RepairIndex(store)
        start = time.perf_counter()
        built = await index.current()
        build = time.perf_counter() - start
        opening = Session(ItemSet(items[:-1], presorted=True)).initiate()
        assert opening is not None
        start = time.perf_counter()
        respond(built, opening)
        return build, time.perf_counter() - start


def run(ctx: Context) -> dict[str, Figure]:
    n = _size(ctx)
    rng = random.Random(20240501)
    full = _items(n, rng)
    figures: dict[str, Figure] = {}
    for name, differences in (("repair_10", 10), ("repair_1000", 1000), ("repair_1pct", n // 100)):
        ctx.progress(f"repair: {n:,} items, {differences:,} missing on one side")
        missing = set(rng.sample(range(n), min(differences, n)))
        theirs = [item for i, item in enumerate(full) if i not in missing]
        result = measure(full, theirs)
        assert result["found"] == len(missing)
        total = result["bytes_out"] + result["bytes_in"]
        figures[name] = rate_figure(
            total, "bytes", items=n, differences=len(missing), bytes_per_difference=round(total / len(missing), 1),
            all_ids_bytes=n * 32, **result,
        )  # fmt: skip
    figures["repair_all_ids"] = rate_figure(n * 32, "bytes", items=n, round_trips=1)
    path = ctx.tmp / f"repair-{os.getpid()}.db"
    build, answer = asyncio.run(_index(path, full))
    figures["repair_index_build"] = rate_figure(build * 1000, "ms", items=n)
    figures["repair_respond"] = rate_figure(answer * 1000, "ms", items=n, round="opening")
    return figures
