"""Follow and unfollow: whom a person follows. The latest of the two (by created_at, then id) for a pair holds.

The store keeps the current state per (follower, subject) in ``follows``; a follow tells its subject.
"""

from __future__ import annotations

import aiosqlite

from murmur.kinds.base import CHUNK, Kind, later, newest
from murmur.message import Message


async def _apply(conn: aiosqlite.Connection, stored: list[tuple[int, Message]]) -> None:
    latest = newest((m for _, m in stored), lambda m: (m.author, m.tag("subject") or ""))
    follows = {(bytes.fromhex(a), bytes.fromhex(s)): m for (a, s), m in latest.items()}
    # One look-up per chunk of pairs, not one per pair: each awaited call has a fixed cost.
    current: dict[tuple[bytes, bytes], tuple[int, bytes]] = {}
    pairs = list(follows)
    for start in range(0, len(pairs), CHUNK // 2):
        part = pairs[start : start + CHUNK // 2]
        values = ",".join("(?, ?)" for _ in part)
        sql = (
            f"WITH wanted (f, s) AS (VALUES {values}) SELECT follower, subject, created_at, msg_id"
            " FROM wanted CROSS JOIN follows ON follower = f AND subject = s"
        )
        async with conn.execute(sql, [x for pair in part for x in pair]) as cursor:
            for follower, subject, created_at, msg_id in await cursor.fetchall():
                current[(bytes(follower), bytes(subject))] = (created_at, bytes(msg_id))
    rows = [
        (follower, subject, int(m.kind == "follow"), m.created_at, bytes.fromhex(m.id))
        for (follower, subject), m in follows.items()
        if (follower, subject) not in current or later(m, *current[(follower, subject)])
    ]
    await conn.executemany(
        "INSERT INTO follows (follower, subject, following, created_at, msg_id) VALUES (?,?,?,?,?) ON CONFLICT"
        " (follower, subject) DO UPDATE SET following = excluded.following, created_at = excluded.created_at,"
        " msg_id = excluded.msg_id",
        rows,
    )


NOTICES = (
    "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT m.subject, m.seq, 'follow' FROM messages m"
    " WHERE m.seq BETWEEN :lo AND :hi AND m.kind = 'follow' AND m.subject != m.author",
)

# A follow is told while it is the follower's current state (not undone by a later unfollow).
STILL_FOLLOWING = (
    "EXISTS (SELECT 1 FROM follows f WHERE f.follower = m.author AND f.subject = n.key AND f.msg_id = m.id"
    " AND f.following = 1)"
)

KINDS = (
    Kind(
        name="follow",
        tags={"subject": (1, 1)},
        apply=_apply,
        notices=NOTICES,
        notice_holds={"follow": STILL_FOLLOWING},
    ),
    Kind(name="unfollow", tags={"subject": (1, 1)}, apply=_apply),
)
