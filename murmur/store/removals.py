"""Messages a moderator of this server (an admin) removed, kept out for good: ingest refuses each of them again
(``removed``, with the moderator's reason) whichever door it comes back by, and that refusal is the server's
signed notice to the peer that brought it (``murmur.receipts``), as for any message this server refuses.
Removing is ``murmur.store.moderation.remove``; this module holds the table and the look-up ingest makes.
"""

from __future__ import annotations

from collections.abc import Sequence

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


async def removed_among(conn: aiosqlite.Connection, ids: Sequence[bytes]) -> dict[bytes, str]:
    """The moderator's reason for each of ``ids`` that was removed here."""
    rows = await select_in(conn, "SELECT id, reason FROM removed WHERE id IN ({marks})", ids)
    return {bytes(r[0]): str(r[1]) for r in rows}
