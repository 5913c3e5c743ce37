"""Device-signed messages an identity's log refuses, set aside rather than forgotten (docs/protocol.md §13.5).

A message's refusal by the log (its device removed before it, or added after it) can change: a fork arriving
later may dispute the removal (§13.4), and the message then speaks again, held and flagged. A server that met the
message after the fork holds it; one that met it before refused it. So that both end holding the same set, a
refused message is set aside here (never shown, relayed or indexed: it is not in ``messages``) and, whenever the
identity's log is resolved again, stored through the one ingest path if the log no longer refuses it.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from murmur.kinds.key_log import Log, verdict
from murmur.message import Message

ASIDE_TABLE = """
    CREATE TABLE identity_refused (
        id BLOB PRIMARY KEY, identity BLOB NOT NULL, device BLOB NOT NULL, created_at INTEGER NOT NULL,
        raw BLOB NOT NULL
    );
    CREATE INDEX identity_refused_by_identity ON identity_refused (identity);
"""


async def set_aside(conn: aiosqlite.Connection, messages: Sequence[Message]) -> None:
    """Keep device-signed messages the log refuses (each naming its identity by its ``identity`` tag)."""
    if not messages:
        return
    await conn.executemany(
        "INSERT INTO identity_refused (id, identity, device, created_at, raw) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(bytes.fromhex(m.id), bytes.fromhex(m.tag("identity") or ""), bytes.fromhex(m.author), m.created_at, m.raw)
         for m in messages],
    )  # fmt: skip


async def release(conn: aiosqlite.Connection, ident: bytes, log: Log | None) -> None:
    """Store the messages set aside for the identity that its log no longer refuses, as any arrival is stored
    (the one ingest path, in this transaction): with the state they now have, and the notices they derive."""
    from murmur.jcs import MAX_SAFE_INTEGER
    from murmur.store.ingest import store_batch  # ingest consults the registry, which imports this module
    from murmur.validate import check

    sql = "SELECT device, created_at, raw FROM identity_refused WHERE identity = ?"
    async with conn.execute(sql, (ident,)) as cursor:
        aside = [(bytes(r[0]).hex(), int(r[1]), bytes(r[2])) for r in await cursor.fetchall()]
    # Checked again whole, signature too, by the one validation path (the clock rule aside: they were on time when
    # they came): only validation makes a verified message, and a row of this table is just bytes on disk.
    back = [
        check(raw, now=MAX_SAFE_INTEGER) for device, at, raw in aside if verdict(log, device, at).status != "refused"
    ]
    if not back:
        return
    await conn.executemany("DELETE FROM identity_refused WHERE id = ?", [(bytes.fromhex(m.id),) for m in back])
    await store_batch(conn, list(enumerate(back)), [None] * len(back), "held")
