"""A person's own reactions to and boosts of one message: what ``unreact`` and ``unboost`` take back.

``tallies`` (schema migration 4) holds one row per reaction or boost held, keyed by target, kind and author,
so this is one primary-key range read. All of a person's identical ones are listed (two devices may each
have sent one): undoing a reaction or a boost deletes every one of them, or it would still count.
"""

from __future__ import annotations

from murmur.store import Store
from murmur.store.items import key_bytes, select

MAX_OWN = 200  # a person's reactions and boosts of one message, at most (more is abuse, not a use)

_OWN_SQL = (
    "SELECT m.raw FROM tallies a CROSS JOIN messages m ON m.seq = a.seq"
    " WHERE a.target = ? AND a.kind IN ('reaction', 'boost') AND a.author = ? ORDER BY a.seq LIMIT ?"
)


async def own_responses(store: Store, author_hex: str, target_hex: str) -> list[bytes]:
    """The signed reactions and boosts by ``author`` of ``target`` held here, oldest first."""
    rows = await select(store.conn, _OWN_SQL, (key_bytes(target_hex, "message id"), key_bytes(author_hex), MAX_OWN))
    return [bytes(r[0]) for r in rows]
