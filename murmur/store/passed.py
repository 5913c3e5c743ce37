"""What the push cursor passed by that a peer may yet get: asked again of the audience rule at every push.

The push cursor (``peers.push_cursor``) moves past every message of the log it has judged, sent or not. A
message the peer may see by its audience but that waits for what it leans on (``murmur.store.audience.
kept_back``: adrift, and not confirmed by that peer) becomes deliverable later, when what the rule reads changes:
the peer confirms what it leans on (a signed receipt), a parent comes back (a message set aside by an identity's
log and stored again once a fork disputes its removal), the peer is given the label of its scope. The cursor will
not pass it again, so its id is kept here, per peer, in the transaction that moves the cursor past it (or that
gives the peer the label); the pusher asks the one rule of these ids before each page of the log
(``murmur.store.peers.released``) and sends, by offer, those it now allows, once. A message removed here, or a
peer removed, takes its rows along.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import aiosqlite

from murmur.store.audience.scopes import seen_by

CREATE_PASSED = (
    "CREATE TABLE IF NOT EXISTS passed_over (peer BLOB NOT NULL, id BLOB NOT NULL, PRIMARY KEY (peer, id))"
    " WITHOUT ROWID;  -- what the push cursor passed that the audience rule kept from the peer for now\n"
    "CREATE INDEX IF NOT EXISTS passed_over_by_id ON passed_over (id);\n"
)


async def pass_over(conn: aiosqlite.Connection, peer: str, ids: Sequence[bytes]) -> None:
    """Keep the ids the push cursor is moving past that the rule keeps from ``peer`` for now (inside the caller's
    write transaction, the one that moves the cursor)."""
    await conn.executemany(
        "INSERT INTO passed_over (peer, id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(bytes.fromhex(peer), item) for item in ids],
    )


async def forget(conn: aiosqlite.Connection, peer: str, ids: Sequence[bytes]) -> None:
    """The peer was offered ``ids`` (it holds them now, or took them): they leave its rows, and so do the rows of
    messages it may no longer see by their audience (which only a later label brings back)."""
    key = bytes.fromhex(peer)
    await conn.executemany("DELETE FROM passed_over WHERE peer = ? AND id = ?", [(key, item) for item in ids])
    await conn.execute(
        "DELETE FROM passed_over WHERE peer = :peer AND NOT EXISTS (SELECT 1 FROM messages m"
        f" WHERE m.id = passed_over.id AND {seen_by('m', ':peer', True)})",
        {"peer": key},
    )


async def widened(conn: aiosqlite.Connection, peer: str, gained: Collection[str]) -> None:
    """The peer was just given the labels ``gained``: the held messages of those scopes are asked again at its
    next push (inside the caller's write transaction, the one that gives the labels). All of them, not only those
    the push cursor already passed: a page judged under the old labels may be on its way, its cursor not yet
    moved."""
    if not gained:
        return
    marks = ", ".join(f":s{n}" for n in range(len(gained)))
    await conn.execute(
        "INSERT INTO passed_over (peer, id) SELECT DISTINCT p.key, x.id FROM peers p JOIN scoped x"
        f" ON x.scope IN ({marks}) JOIN messages m ON m.id = x.id WHERE p.key = :peer"
        " ON CONFLICT DO NOTHING",
        {"peer": bytes.fromhex(peer), **{f"s{n}": scope for n, scope in enumerate(sorted(gained))}},
    )


async def forget_removed(conn: aiosqlite.Connection, ids: Sequence[bytes]) -> None:
    """Messages removed from the store (a delete, a moderator, an identity's log): no peer is owed them."""
    await conn.executemany("DELETE FROM passed_over WHERE id = ?", [(item,) for item in ids])


async def forget_peers(conn: aiosqlite.Connection) -> None:
    """Peers removed: nothing waits for them."""
    await conn.execute("DELETE FROM passed_over WHERE peer NOT IN (SELECT key FROM peers)")
