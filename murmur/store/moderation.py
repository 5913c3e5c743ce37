"""A moderator of this server (an admin) removes a message: gone from the store with every trace of its content,
as a delete removes it, and kept out from then on (``murmur.store.removals``)."""

from __future__ import annotations

import time

from murmur.errors import Refused
from murmur.store import Store
from murmur.store.ingest import remove_messages
from murmur.store.removals import MAX_REASON


async def remove(store: Store, msg_id: str, reason: str) -> None:
    """Remove the held message ``msg_id`` (64 hex digits) for ``reason``; ``not_found`` when it is not held,
    ``bad_request`` for an empty or overlong reason. Removing it again replaces the reason."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise Refused("bad_request", f"Say why it is removed: 1 to {MAX_REASON} characters (peers are shown it).")
    target = bytes.fromhex(msg_id)
    async with store.writer.transaction() as conn:
        async with conn.execute("SELECT 1 FROM messages WHERE id = ?", (target,)) as cursor:
            held = await cursor.fetchone() is not None
        if not held:
            raise Refused("not_found", "No such message here (it may never have arrived, or was deleted).")
        await conn.execute(
            "INSERT INTO removed (id, reason, at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, at = excluded.at",
            (target, reason, int(time.time() * 1000)),
        )
        await remove_messages(conn, [target])
