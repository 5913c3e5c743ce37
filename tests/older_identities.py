"""Stands in for a store of the version before identities: ``python -m tests.older_identities DB < messages``.

Takes the six key-event kinds, and the tags identities added (``identity``, ``prior``, ``counter``,
``previous``), out of ``murmur.kinds`` before ``murmur.store`` is imported (tests/e2e/older.py does the same
for edits and groups), and the group kinds with them: groups keep a place under the person an identity's log
names (docs/protocol.md §11), so they came with identities and cannot stand without their tables. Then it
ingests the JSON list of messages on stdin into DB, and prints what that version holds and shows: each
message's ingest status, the entries of each author's own timeline, by key, and every message it holds, as
signed (what its pushes, pulls, repair and bundles relay).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from murmur import kinds
from murmur.kinds import group, group_members, group_moderation, key_events, key_store

FORGOTTEN = (key_events, group, group_members, group_moderation)
FORGOTTEN_TAGS = ("identity", "prior", "counter", "previous", "group")


def no_identities(path: Path) -> None:
    """Today's delete rule asks whom a held message's device spoke for (``key_store.speakers``); that version knew
    no identities, so nobody: the identity tables, empty, answer exactly that."""
    with sqlite3.connect(path) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'identity_claims'").fetchone():
            for step in key_store.MIGRATIONS:
                db.executescript(step)


async def main(path: Path, messages: list[dict[str, Any]]) -> dict[str, Any]:
    from murmur.store import Store, timelines  # after forget(): the store's queries are built from the registry

    no_identities(path)
    async with await Store.open(path) as store:
        results = await store.ingest(messages, origin="peer")
        authors = sorted({m["author"] for m in messages})
        shown = {a: [item.id for item in (await timelines.author(store, a)).items] for a in authors}
        async with store.conn.execute("SELECT raw FROM messages ORDER BY seq") as cursor:
            relayed = [json.loads(bytes(row[0])) for row in await cursor.fetchall()]  # as signed: what it relays
        return {"statuses": [r.status for r in results], "shown": shown, "held": relayed}


if __name__ == "__main__":
    kinds.forget(FORGOTTEN, FORGOTTEN_TAGS)
    print(json.dumps(asyncio.run(main(Path(sys.argv[1]), json.load(sys.stdin)))))
