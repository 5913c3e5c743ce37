"""Messages a moderator of this server (an admin) removed, kept out for good: ingest refuses each of them again
(``removed``, with the moderator's reason) whichever door it comes back by, and that refusal is the server's
signed notice to the peer that brought it (``murmur.receipts``), as for any message this server refuses. What goes
with a removed message (``Kind.with_target``: an edit of a removed post) is removed and kept out with it, and one
arriving later, by anyone, is refused ``removed`` too: it could only be shown with what stays out.
Removing is ``murmur.store.moderation.remove``; this module holds the table and the look-up ingest makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from murmur.kinds.base import select_in

# Migration 13 (murmur.store.schema).
CREATE_REMOVED = """
    CREATE TABLE removed (
        id     BLOB PRIMARY KEY,
        reason TEXT NOT NULL,                           -- the moderator's, shown to peers in the signed notice
        at     INTEGER NOT NULL
    );
"""

CODE = "removed"
MAX_REASON = 500


def refusal(reason: str) -> str:
    """The reason a removed message is refused with: what readers elsewhere see after "withheld by X: "."""
    return f"A moderator of this server removed it: {reason}"


def refusal_with(reason: str) -> str:
    """The reason a message that goes with a removed one (an edit of a removed post) is refused with."""
    return f"A moderator of this server removed the message it goes with: {reason}"


async def held_or_removed(conn: aiosqlite.Connection, ids: Sequence[bytes]) -> tuple[dict[Any, Any], dict[bytes, str]]:
    """The seq of each of ``ids`` held here (keyed by the id as the database returns it), and the moderator's
    reason for each of them that was removed here: one statement, so one hand-off to the database thread, where a
    look-up each was two inside every batch's write turn."""
    held: dict[Any, Any] = {}
    removed: dict[bytes, str] = {}
    for msg_id, seq, reason in await select_in(conn, _HELD_OR_REMOVED, ids, times=2):
        if reason is None:
            held[msg_id] = seq
        else:
            removed[bytes(msg_id)] = str(reason)
    return held, removed


_HELD_OR_REMOVED = (
    "SELECT id, seq, NULL FROM messages WHERE id IN ({marks})"
    " UNION ALL SELECT id, NULL, reason FROM removed WHERE id IN ({marks})"
)
