"""``python -m bench.narrowing [--postgresql]``: what a long reply chain signed wider than its audience costs
the scans that hand the log to a peer (``murmur.store.peers.outbound``, asking ``murmur.store.audience.for_peers``).

The store holds 4,000 messages: a post addressed to ``scope:inside``, a chain of 400 replies each signed
``public`` (as an older client signs them) answering the one before, and 3,599 public posts. One peer labelled
``inside`` has confirmed none of them. Printed: the time to store them, then the time of three whole scans of the
log for that peer, with the chain whole, then once a reply near its top is deleted (everything below it is held
back from that peer), and then once the peer has confirmed a reply three quarters down (what is below it goes:
the scans walk the replies between the deleted one and the confirmed one). On SQLite in a temporary directory,
or with ``--postgresql`` on a throwaway PostgreSQL server started as the tests start theirs.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.receipts import signed
from murmur.store import Store, receipts, trust
from murmur.store.peers import add_peer, outbound
from tests.postgres_server import INSTALL, PostgresServer, binaries

T0 = 1_700_000_000_000
CHAIN = 400
MESSAGES = 4_000
SCANS = 3


def _messages(author: Identity) -> list[dict[str, Any]]:
    root = sign_draft(author, {"created_at": T0, "body": {"text": "inside", "visibility": "scope:inside"}})
    chain: list[dict[str, Any]] = []
    for n in range(CHAIN):
        parent = chain[-1] if chain else root
        tags = [["reply", parent["id"]], ["root", root["id"]]]
        draft = {"created_at": T0 + n + 1, "body": {"text": f"reply {n}", "visibility": "public"}, "tags": tags}
        chain.append(sign_draft(author, draft))
    others = [
        sign_draft(author, {"created_at": T0 + CHAIN + n + 1, "body": {"text": f"post {n}", "visibility": "public"}})
        for n in range(MESSAGES - CHAIN - 1)
    ]
    return [root, *chain, *others]


async def _scans(store: Store, peer: str) -> tuple[float, int]:
    """Seconds for ``SCANS`` whole scans of the log for ``peer``, and how many messages one scan hands it."""
    start = time.perf_counter()
    for _ in range(SCANS):
        after, sent, more = 0, 0, True
        while more:
            page = await outbound(store, after=after, limit=500, exclude_origin=None, to=peer)
            after, more, sent = page.next_cursor, page.more, sent + len(page.entries)
    return time.perf_counter() - start, sent


async def main(database: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "murmur.db", database=database)
        try:
            server, author, peer = Identity.generate(), Identity.generate(), Identity.generate()
            await add_peer(store, peer.public_key, "http://inside.test")
            await trust.set_labels(store, server, peer.public_key, ["inside"])
            messages = _messages(author)
            start_time = time.perf_counter()
            for start in range(0, len(messages), 500):
                await store.ingest(messages[start : start + 500])
            print(f"stored in batches of 500: {time.perf_counter() - start_time:.3f} s")
            seconds, sent = await _scans(store, peer.public_key)
            print(f"whole chain: {SCANS} scans {seconds:.3f} s, {sent} messages a scan")
            target = [["target", messages[2]["id"]]]
            delete = {"kind": "delete", "created_at": T0 + MESSAGES, "body": {}, "tags": target}
            await store.ingest([sign_draft(author, delete)])
            seconds, sent = await _scans(store, peer.public_key)
            print(f"reply 2 deleted: {SCANS} scans {seconds:.3f} s, {sent} messages a scan")
            below = messages[CHAIN * 3 // 4]["id"]
            line = signed(peer, {"id": below, "status": "stored", "code": "", "reason": ""})
            await receipts.note(store, peer.public_key, {below}, [line])
            seconds, sent = await _scans(store, peer.public_key)
            print(f"reply {CHAIN * 3 // 4} confirmed: {SCANS} scans {seconds:.3f} s, {sent} messages a scan")
        finally:
            await store.close()


def run(argv: list[str]) -> None:
    if "--postgresql" not in argv:
        asyncio.run(main(None))
        return
    bindir = binaries()
    if bindir is None:
        raise SystemExit(f"no PostgreSQL found: {INSTALL}")
    server = PostgresServer(bindir)
    server.start()
    try:
        asyncio.run(main(server.new_database()))
    finally:
        server.stop()


if __name__ == "__main__":
    run(sys.argv[1:])
