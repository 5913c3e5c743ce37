"""Notifications: mentions of me, replies to my posts, reactions and boosts of my messages, new followers, and
edits of posts I replied to, reacted to or boosted.

They are read from the ``notices`` table that ingest derives (each kind's ``notices`` rules, murmur.kinds), one
index range per person, newest first; the live stream reads the same rows in the order they were derived
(``derived``). What was true at ingest may have stopped being true since, so both reads also check what each
kind's module says (``Kind.notice_holds``): a follow shows only while it is the follower's current state (not
undone by a later unfollow), and a reaction or boost only while its target is still held (a deleted post takes
them out of view).

A notice has the seq of the message that caused it, even when it was derived later (a reply that arrived
before its parent is noticed when the parent arrives). Such a late notice can sit below the read marker; the live
stream still tells it, when it is derived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from murmur.kinds import kind, notice_about, notice_holds, shown_join, shown_sql
from murmur.kinds.key_log import INCEPTION
from murmur.kinds.key_store import identities_of_device
from murmur.store import Store
from murmur.store.items import MAX_SEQ, Page, check_limit, key_bytes, select

MARKER = "notifications"
UNREAD_CAP = 1000  # unread_count stops counting here; a badge shows "1000+" rather than cost a long count

# What was true at ingest and may have stopped being true since, each kind of notice as its kind module says
# (murmur.kinds.base.Kind.notice_holds); notice kinds are the registry's identifiers, never input.
# A message some kind withholds from readers (murmur.kinds.shown_sql: a device's message its identity's log cannot
# judge yet) notifies nobody until it is shown.
_STILL_TRUE = "".join(f" AND (n.kind != '{notice}' OR {sql})" for notice, sql in notice_holds().items()) + (
    f" AND {shown_sql('m')}"
)

# A member's notices: their key's, and their identity's (a mention of the identity, a follow of it), each
# message once even when it named both.
_WHOSE = (
    "(n.key = :key OR (n.key = :identity AND NOT EXISTS (SELECT 1 FROM notices o WHERE o.key = :key"
    " AND o.seq = n.seq)))"
)

# A post (a reply, a mention) is shown as its author last wrote it: the version readers see beside it
# (Kind.shown_join, an edit's newest).
_PAGE_SQL = (
    "SELECT n.seq, n.kind, m.author, m.raw, m.reply_to, m.target, v.raw, v.created_at FROM notices n"
    f" JOIN messages m ON m.seq = n.seq {shown_join('m')}"
    f" WHERE {_WHOSE} AND n.seq < :before" + _STILL_TRUE + " ORDER BY n.seq DESC LIMIT :n"
)
# The live stream's read: the key's notices derived at log positions in (:after, :upto], in that order.
_DERIVED_SQL = (
    "SELECT n.seq, n.kind, m.author, m.raw, m.reply_to, m.target, v.raw, v.created_at, n.derived_at FROM notices n"
    f" JOIN messages m ON m.seq = n.seq {shown_join('m')}"
    f" WHERE n.derived_at > :after AND n.derived_at <= :upto AND {_WHOSE}"
    + _STILL_TRUE
    + " ORDER BY n.derived_at, n.seq"
)
# Who may have notifications derived at log positions in (:after, :upto]: the keys notices were derived for, and
# the devices of those that are identities (``_WHOSE`` gives a device its identity's notices). A superset: the
# live stream asks ``derived`` for each of these, and for no one else.
_NOTIFIED_SQL = "SELECT DISTINCT n.key FROM notices n WHERE n.derived_at > :after AND n.derived_at <= :upto"
_NOTIFIED_DEVICES_SQL = (
    _NOTIFIED_SQL
    + " UNION SELECT d.device FROM notices n JOIN identity_devices d ON d.identity = n.key"
    " WHERE n.derived_at > :after AND n.derived_at <= :upto"
)
_UNREAD_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM notices n JOIN messages m ON m.seq = n.seq"
    f" WHERE {_WHOSE} AND n.seq > coalesce((SELECT seq FROM markers WHERE key = :key AND name = :name), 0)"
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
    params = {**await _whose(store, key_hex), "before": MAX_SEQ if before is None else before, "n": limit + 1}
    rows = await select(store.conn, _PAGE_SQL, params)
    items = [_notification(row) for row in rows[:limit]]
    return Page(items, items[-1].seq if len(rows) > limit else None)


async def derived(store: Store, key_hex: str, *, after: int, upto: int) -> list[tuple[int, NotificationItem]]:
    """The key's notifications derived at log positions in (``after``, ``upto``], each with that position, in the
    order they were derived: what the live stream tells, and when.

    A notice is derived when the message it tells of is stored, or later, when what it is about arrives (a reply
    that came before its parent is told when the parent comes): such a notice keeps its message's older seq but is
    placed at the position of the batch that derived it, so a stream already past that seq still gets it.
    """
    params = {**await _whose(store, key_hex), "after": after, "upto": upto}
    return [(int(row[8]), _notification(row)) for row in await select(store.conn, _DERIVED_SQL, params)]


async def notified(store: Store, *, after: int, upto: int) -> set[str]:
    """The keys that may have notifications derived at log positions in (``after``, ``upto``]: for every other
    key ``derived`` over that range is empty, so the live stream, serving many members at once, asks it only
    for these."""
    sql = _NOTIFIED_DEVICES_SQL if kind(INCEPTION) else _NOTIFIED_SQL
    return {bytes(row[0]).hex() for row in await select(store.conn, sql, {"after": after, "upto": upto})}


async def _whose(store: Store, key_hex: str) -> dict[str, bytes]:
    """``:key`` and ``:identity`` of ``_WHOSE``: the identity the key is a current device of (when exactly one),
    else the key again."""
    key = key_bytes(key_hex)
    held = await identities_of_device(store, key.hex()) if kind(INCEPTION) else []
    current = [i for i, removed in held if removed is None]
    return {"key": key, "identity": bytes.fromhex(current[0]) if len(current) == 1 else key}


def _notification(row: Sequence[Any]) -> NotificationItem:
    return NotificationItem(
        seq=row[0],
        kind=row[1],
        actor=bytes(row[2]).hex(),
        raw=bytes(row[3]),
        target_id=_target(row[1], row[4], row[5]),
        edit_raw=bytes(row[6]) if row[6] is not None else None,
        edited_at=row[7],
    )


def _target(kind: str, reply_to: bytes | None, target: bytes | None) -> str | None:
    """The notified member's message a notification is about (the post replied to, reacted to or boosted): the
    message its kind's ``notice_about`` tag names (murmur.kinds), read from that tag's column."""
    named = {"reply": reply_to, "target": target}.get(notice_about(kind) or "")
    return bytes(named).hex() if named else None


async def unread_count(store: Store, key_hex: str, *, cap: int = UNREAD_CAP) -> int:
    """Notifications newer than the read marker, counted up to ``cap``."""
    rows = await select(store.conn, _UNREAD_SQL, {**await _whose(store, key_hex), "name": MARKER, "cap": cap})
    return int(rows[0][0])


async def mark_read(store: Store, key_hex: str, seq: int, *, name: str = MARKER) -> int:
    """Move the read marker up to ``seq`` and return where it stands.

    It never moves back: two clients marking at different points, in any order, end at the later one.
    """
    key = key_bytes(key_hex)
    async with store.writer.transaction() as conn:
        await conn.execute(
            "INSERT INTO markers (key, name, seq) VALUES (?, ?, ?)"
            " ON CONFLICT (key, name) DO UPDATE SET seq = max(markers.seq, excluded.seq)",
            (key, name, seq),
        )
        async with conn.execute("SELECT seq FROM markers WHERE key = ? AND name = ?", (key, name)) as cursor:
            row = await cursor.fetchone()
    return int(row[0]) if row else seq
