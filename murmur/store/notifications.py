"""Notifications: mentions of me, replies to my posts, reactions and boosts of my messages, new followers, and
edits of posts I replied to, reacted to or boosted.

They are read from the ``notices`` table that ingest derives (schema.NOTICE_RULES), one index range per
person, newest first. What was true at ingest may have stopped being true since, so the read also checks:
a follow shows only while it is the follower's current state (not undone by a later unfollow), and a
reaction or boost only while its target is still held (a deleted post takes them out of view).

A notice has the seq of the message that caused it, even when it was derived later (a reply that arrived
before its parent is noticed when the parent arrives). Such a late notice can sit below the read marker.
"""

from __future__ import annotations

from dataclasses import dataclass

from murmur.kinds.edit import newest_join
from murmur.store import Store
from murmur.store.items import MAX_SEQ, Page, check_limit, key_bytes, select

MARKER = "notifications"
UNREAD_CAP = 1000  # unread_count stops counting here; a badge shows "1000+" rather than cost a long count

_STILL_TRUE = """
  AND (n.kind != 'follow' OR EXISTS (
        SELECT 1 FROM follows f WHERE f.follower = m.author AND f.subject = n.key AND f.msg_id = m.id
        AND f.following = 1))
  AND (n.kind NOT IN ('reaction', 'boost') OR EXISTS (SELECT 1 FROM messages t WHERE t.id = m.target))
"""

# A post (a reply, a mention) is shown as its author last wrote it: its newest edit beside it (murmur.kinds.edit).
_PAGE_SQL = (
    "SELECT n.seq, n.kind, m.author, m.raw, m.reply_to, m.target, v.raw, v.created_at FROM notices n"
    f" JOIN messages m ON m.seq = n.seq {newest_join('m')}"
    " WHERE n.key = :key AND n.seq < :before" + _STILL_TRUE + " ORDER BY n.seq DESC LIMIT :n"
)
_UNREAD_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM notices n JOIN messages m ON m.seq = n.seq"
    " WHERE n.key = :key AND n.seq > coalesce((SELECT seq FROM markers WHERE key = :key AND name = :name), 0)"
    + _STILL_TRUE
    + " LIMIT :cap)"
)


@dataclass(frozen=True, slots=True)
class NotificationItem:
    """``actor`` did ``kind`` (mention, reply, reaction, boost, follow); ``raw`` is the actor's message.

    ``target_id`` is my message it is about (the post replied to, reacted to or boosted; the post edited), else
    None. When ``raw`` is a post since edited, ``edit_raw`` is its newest edit and ``edited_at`` that edit's time.
    """

    seq: int
    kind: str
    actor: str
    raw: bytes
    target_id: str | None
    edit_raw: bytes | None = None
    edited_at: int | None = None


async def notifications(store: Store, key_hex: str, *, limit: int = 20, before: int | None = None) -> Page:
    """A page of the key's notifications, newest first; items are ``NotificationItem``."""
    limit = check_limit(limit)
    params = {"key": key_bytes(key_hex), "before": MAX_SEQ if before is None else before, "n": limit + 1}
    rows = await select(store.conn, _PAGE_SQL, params)
    items = [
        NotificationItem(
            seq=row[0],
            kind=row[1],
            actor=bytes(row[2]).hex(),
            raw=bytes(row[3]),
            target_id=_target(row[1], row[4], row[5]),
            edit_raw=bytes(row[6]) if row[6] is not None else None,
            edited_at=row[7],
        )
        for row in rows[:limit]
    ]
    return Page(items, items[-1].seq if len(rows) > limit else None)


def target_id(kind: str, reply_to: str | None, target: str | None) -> str | None:
    """The message a notification is about: the post replied to, or what the message's ``target`` names (the
    post reacted to, boosted or edited); None for a mention or a follow, which name no message.

    One rule for the notifications page and the live stream, so both say the same thing of the same message.
    """
    return reply_to if kind == "reply" else target


def _target(kind: str, reply_to: bytes | None, target: bytes | None) -> str | None:
    return target_id(kind, bytes(reply_to).hex() if reply_to else None, bytes(target).hex() if target else None)


async def notice_kind(store: Store, key_hex: str, seq: int) -> str | None:
    """The kind of notification the message at ``seq`` is for the key, if it is one (one primary-key read)."""
    rows = await select(store.conn, "SELECT kind FROM notices WHERE key = ? AND seq = ?", (key_bytes(key_hex), seq))
    return str(rows[0][0]) if rows else None


async def unread_count(store: Store, key_hex: str, *, cap: int = UNREAD_CAP) -> int:
    """Notifications newer than the read marker, counted up to ``cap``."""
    rows = await select(store.conn, _UNREAD_SQL, {"key": key_bytes(key_hex), "name": MARKER, "cap": cap})
    return int(rows[0][0])


async def read_marker(store: Store, key_hex: str, name: str = MARKER) -> int:
    rows = await select(store.conn, "SELECT seq FROM markers WHERE key = ? AND name = ?", (key_bytes(key_hex), name))
    return int(rows[0][0]) if rows else 0


async def mark_read(store: Store, key_hex: str, seq: int, *, name: str = MARKER) -> int:
    """Move the read marker up to ``seq`` and return where it stands.

    It never moves back: two clients marking at different points, in any order, end at the later one.
    """
    key = key_bytes(key_hex)
    async with store.writer.transaction() as conn:
        await conn.execute(
            "INSERT INTO markers (key, name, seq) VALUES (?, ?, ?)"
            " ON CONFLICT (key, name) DO UPDATE SET seq = max(seq, excluded.seq)",
            (key, name, seq),
        )
        async with conn.execute("SELECT seq FROM markers WHERE key = ? AND name = ?", (key, name)) as cursor:
            row = await cursor.fetchone()
    return int(row[0]) if row else seq
