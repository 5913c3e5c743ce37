"""What identities cost: ``python -m bench.identity [--messages N]``.

- resolving a key-event log of 50 events: the fold alone, and from the store (query and fold);
- per message: ingesting posts a device signs for that identity beside bare-key posts (the same count, the same
  batches), and one Ed25519 verify for scale; and the statements storing one message alone runs, which the
  machine's load does not move (what an identity adds at batches of 1: its device's look-up and its claim).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from murmur.keys import Identity, verify_signature
from murmur.kinds.key_log import Event, _proof_holds, resolve
from murmur.kinds.key_store import resolved
from murmur.message import sign_draft
from murmur.store import Store
from murmur.validate import check
from tests.identity_logs import LAPTOP, ROTATION_0, Log

BATCH = 500


def key_log(count: int) -> Log:
    """Inception, then devices added and removed and rotations, ``count`` events in all."""
    log = Log()
    rotation, added = ROTATION_0, None
    for n in range(count - 1):
        if n % 7 == 6:
            following = _seeded(1_000_000 + n)
            log.rotate(rotation, following)
            rotation = following
        elif added is None:
            added = _seeded(2_000_000 + n)
            log.add(LAPTOP, added, f"device {n}")
        else:
            log.remove(LAPTOP, added)
            added = None
    assert len(log.events) == count
    return log


def _seeded(n: int) -> Identity:
    # Past the one-byte seeds tests.identity_logs.key takes, so a log may be as long as a figure asks.
    return Identity.from_seed(n.to_bytes(4, "big") * 8)


async def _statements(path: Path, setup: list[dict[str, Any]], items: list[dict[str, Any]]) -> int:
    """The statements SQLite runs to store ``items[1]`` alone (``items[0]`` first, so both are warm): a figure the
    shared machine's load does not move."""
    async with await Store.open(path, durability="normal") as store:
        await store.ingest([*setup, items[0]])
        seen: list[str] = []
        await store.writer.conn.set_trace_callback(seen.append)
        await store.ingest(items[1:2])
        await store.writer.conn.set_trace_callback(None)
        return len([s for s in seen if not s.startswith("--")])  # not the statements SQLite runs inside one


def _micro(fn: Callable[[], object], repeat: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1e6


async def _ingest(path: Path, setup: list[dict[str, Any]], items: list[dict[str, Any]], batch: int) -> float:
    async with await Store.open(path, durability="normal") as store:
        await store.ingest(setup)
        start = time.perf_counter()
        for offset in range(0, len(items), batch):
            await store.ingest(items[offset : offset + batch])
        return (time.perf_counter() - start) / len(items) * 1e6


async def main(count: int) -> None:
    log = key_log(50)
    events = [Event.of(check(m)) for m in log.events]
    fold = _micro(lambda: resolve(log.identity, events), 200)

    def cold() -> object:
        _proof_holds.cache_clear()
        return resolve(log.identity, events)

    fold_cold = _micro(cold, 20)
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "log.db") as store:
            await store.ingest(log.events)
            found = await resolved(store.conn, log.identity)
            assert found is not None and found.state.length == 50
            start = time.perf_counter()
            for _ in range(200):
                await resolved(store.conn, log.identity)
            stored = (time.perf_counter() - start) / 200 * 1e6
    bare_key = Identity.from_seed(bytes([9]) * 32)
    t0 = log.at + 1000
    bare = [sign_draft(bare_key, {"kind": "post", "body": {"text": f"b{n}"}}, created_at=t0 + n) for n in range(count)]
    device = [log.post(LAPTOP, f"device {n}", at=t0 + n) for n in range(count)]
    one = bare[0]
    signed = check(one).signed
    verify = _micro(lambda: verify_signature(one["author"], one["sig"], signed), 2000)
    print(
        f"key-event log of 50 events: fold {fold_cold:.0f} µs cold (every device proof verified),"
        f" {fold:.0f} µs with proofs known; from the store when the log is unchanged {stored:.0f} µs"
    )
    print(f"one Ed25519 verify: {verify:.1f} µs")
    with tempfile.TemporaryDirectory() as folder:
        counts = [await _statements(Path(folder) / f"s{n}.db", log.events, m) for n, m in enumerate((bare, device))]
    print(f"statements to store one message alone: bare key {counts[0]}, device for an identity {counts[1]}")
    for batch in (BATCH, 1):
        n = count if batch == BATCH else min(count, 300)
        runs: dict[str, list[float]] = {"bare": [], "device": []}
        for round_ in range(3):  # alternated, best of three: the machine is shared
            with tempfile.TemporaryDirectory() as folder:
                runs["bare"].append(await _ingest(Path(folder) / f"a{round_}.db", log.events, bare[:n], batch))
                runs["device"].append(await _ingest(Path(folder) / f"b{round_}.db", log.events, device[:n], batch))
        plain, speaking = min(runs["bare"]), min(runs["device"])
        extra = speaking - plain
        print(
            f"ingest, batches of {batch}: bare key {plain:.1f} µs/message, device for a 50-event identity"
            f" {speaking:.1f} µs/message: {extra:+.1f} µs ({extra / verify:+.2f} of a verify)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    asyncio.run(main(parser.parse_args().messages))
