"""A moderator of this server (an admin) removes a message: gone from the store with every trace of its content,
as a delete removes it, together with what goes with it as its author's delete would take it (``with_target``:
its edits, a meetup's updates), and all of it kept out from then on (``murmur.store.removals``)."""

from __future__ import annotations

import time

from murmur.errors import Refused
from murmur.kinds.key_store import SPEAKER_SQL
from murmur.store import Store
from murmur.store.ingest import going_with, remove_messages
from murmur.store.removals import MAX_REASON


async def remove(store: Store, msg_id: str, reason: str) -> list[str]:
    """Remove the held message ``msg_id`` (64 hex digits) for ``reason``, and what goes with it; the ids removed,
    ``msg_id`` first. ``not_found`` when it is not held, ``bad_request`` for an empty or overlong reason. Removing
    it again replaces the reason."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise Refused("bad_request", f"Say why it is removed: 1 to {MAX_REASON} characters (peers are shown it).")
    target = bytes.fromhex(msg_id)
    async with store.writer.transaction() as conn:
        sql = f"SELECT m.author, {SPEAKER_SQL.format(row='m')} FROM messages m WHERE m.id = ?"
        async with conn.execute(sql, (target,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise Refused("not_found", "No such message here (it may never have arrived, or was deleted).")
        # As a delete by the target's author takes them: that author's messages going with it (from any of their
        # devices), held as they are.
        person = [(target, bytes(row[1]).hex())] if row[1] is not None else []
        gone = [target, *await going_with(conn, [(target, bytes(row[0]))], person)]
        at = int(time.time() * 1000)
        await conn.executemany(
            "INSERT INTO removed (id, reason, at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, at = excluded.at",
            [(gone_id, reason, at) for gone_id in gone],
        )
        await remove_messages(conn, gone)
    return [gone_id.hex() for gone_id in gone]
