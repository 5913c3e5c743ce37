"""Timelines: home, local, federated, mentions, hashtag and author, newest first by time.

An entry's time is ``sort_at``: its author's ``created_at`` clamped to when it arrived here (schema migration
6), so a message dated 1970 that arrives today sits among 1970's, a peer's backlog catching up takes its place
below today's posts, and nothing sits above the moment it arrived. Ties go to the later log position (seq).

Every query reads an index in ``(sort_at, seq)`` order and stops at ``limit``, so a page costs the same at a
thousand messages and at millions; ``tests/store/test_query_plans.py`` holds them to that. Pages are cut by
``before``, a ``Cursor`` (the last entry's ``(sort_at, seq)``), so paging stays stable while messages arrive.

Home and local read the posts of a *set* of authors. Walking the whole log for them would cost as much as
the log is long when those authors are quiet, and sorting all their posts as much as they ever wrote. So
the query first takes, per author, the time of their ``limit``-th newest candidate (one short index read
each); the largest of those is a floor under which no item of this page can lie, and the page is read
from the (author, sort_at, seq) index above that floor: at most ``limit`` rows per author (and ties).

The author set is read once and probed for each row (``IN /* probe */``: SQLite does so by itself; PostgreSQL
is told to, ``murmur.store.dialect``).

Home tries something cheaper first. A member usually follows people who post, so their newest ``limit``
items are mostly among the newest few hundred posts and boosts held: a walk of the time index below the
cursor, no further down than the time of the ``RECENT_WINDOW`` times ``limit``-th entry (author and kind read
from the index itself), finds them for the cost of that walk. Every entry it does not reach sorts below every
entry it does, so when it finds enough they are the page; only when it finds too few does the per-author floor
query run. Both give exactly the same page.

``thread`` and the notifications live in their own modules and are re-exported here.
"""

from __future__ import annotations

from murmur.kinds import kind
from murmur.kinds.key_log import INCEPTION
from murmur.store import Store
from murmur.store.audience import for_anyone
from murmur.store.items import (
    CANDIDATE_COLUMNS,
    ITEMS_TAIL,
    ITSELF_SQL,
    Cursor,
    Page,
    Resolved,
    TimelineItem,
    key_bytes,
    paginate,
    resolved_rows,
    select,
    with_items,
)
from murmur.store.notifications import NotificationItem, mark_read, notifications, unread_count
from murmur.store.threads import Thread, ThreadNode, thread

__all__ = [
    "NotificationItem",
    "Page",
    "Thread",
    "ThreadNode",
    "TimelineItem",
    "author",
    "federated",
    "hashtag",
    "home",
    "local",
    "mark_read",
    "mentions",
    "notifications",
    "thread",
    "unread_count",
]

# Kind filters are constants chosen by the caller below, never user input. ``_ENTRIES`` and ``_PUBLIC`` must
# appear literally, as migration 10 wrote them, so SQLite can use the partial indexes messages_timeline_by_time,
# messages_posts_by_time and messages_public_by_time; ``ENTRY_KINDS`` is the same list, which a test holds equal to
# the registry's entries (``Kind.shown_as``).
ENTRY_KINDS = ("post", "boost", "poll", "meetup")
_ENTRIES = "kind IN ('post', 'boost', 'poll', 'meetup')"
_OWN_ENTRIES = "kind IN ('post', 'boost', 'poll', 'meetup') AND {t}.kind != 'boost'"  # what members wrote
_PUBLIC = "kind IN ('post', 'poll', 'meetup') AND {t}.visibility = 'public'"
_BELOW = "({t}.sort_at, {t}.seq) < (:at, :seq)"  # below the cursor, in (sort_at, seq) order
_NEWEST_FIRST = "ORDER BY {t}.sort_at DESC, {t}.seq DESC"

_AUTHOR_SET_SQL = """
WITH authors(key) AS ({authors}), c AS (
SELECT /* bounded sort */ {columns} FROM messages m INDEXED BY messages_timeline_by_time
WHERE m.author IN /* probe */ (SELECT key FROM authors) AND m.{kinds_m} AND {below_m}
  AND m.sort_at >= (
    SELECT coalesce(max((
        SELECT s.sort_at FROM messages s INDEXED BY messages_timeline_by_time
        WHERE s.author = a.key AND s.{kinds_s} AND {below_s}
        {order_s} LIMIT 1 OFFSET :n - 1
    )), 0) FROM authors a
  )
{order_m} LIMIT :n
) {tail}
"""

_HOME_AUTHORS = "SELECT :me UNION SELECT subject FROM follows WHERE follower = :me AND following = 1"
if kind(INCEPTION):  # built once, from the registry as it stands when the store is imported
    # Following an identity is following its devices, and a device sees its own identity's other devices: a
    # message a device signs for an identity that refuses it is never held (docs/protocol.md §13.5).
    _HOME_AUTHORS += (
        " UNION SELECT d.device FROM follows f CROSS JOIN identity_devices d ON d.identity = f.subject"
        " WHERE f.follower = :me AND f.following = 1"
        " UNION SELECT o.device FROM identity_devices i CROSS JOIN identity_devices o ON o.identity = i.identity"
        " WHERE i.device = :me AND i.removed_at IS NULL"
    )
_MEMBER_AUTHORS = "SELECT key FROM members"


def _author_set_sql(authors: str, kinds: str) -> str:
    return _AUTHOR_SET_SQL.format(
        authors=authors,
        columns=CANDIDATE_COLUMNS,
        kinds_m=kinds.format(t="m"),
        kinds_s=kinds.format(t="s"),
        below_m=_BELOW.format(t="m"),
        below_s=_BELOW.format(t="s"),
        order_m=_NEWEST_FIRST.format(t="m"),
        order_s=_NEWEST_FIRST.format(t="s"),
        tail=ITEMS_TAIL,
    )


_HOME_SQL = _author_set_sql(_HOME_AUTHORS, _ENTRIES)
# The followed authors' posts and boosts below the cursor, newest first, read from the time index alone (it
# holds author and kind) down to the time of the :window-th newest post or boost below the cursor: a bounded
# walk that stops at :n matches. Rows are read from the table only for what is kept.
_HOME_RECENT_SQL = with_items(f"""
SELECT /* recent window */ {CANDIDATE_COLUMNS} FROM messages w INDEXED BY messages_posts_by_time
CROSS JOIN messages m ON m.seq = w.seq
WHERE w.{_ENTRIES} AND {_BELOW.format(t="w")} AND w.author IN /* probe */ ({_HOME_AUTHORS})
  AND w.sort_at >= coalesce((
    SELECT f.sort_at FROM messages f INDEXED BY messages_posts_by_time
    WHERE f.{_ENTRIES} AND {_BELOW.format(t="f")} {_NEWEST_FIRST.format(t="f")} LIMIT 1 OFFSET :window - 1
  ), 0)
{_NEWEST_FIRST.format(t="w")} LIMIT :n
""")
RECENT_WINDOW = 16  # times the rows asked for: enough when a twentieth of the posts are by people one follows
_LOCAL_SQL = _author_set_sql(_MEMBER_AUTHORS, _OWN_ENTRIES)
_FEDERATED_SQL = with_items(
    f"SELECT {CANDIDATE_COLUMNS} FROM messages m INDEXED BY messages_public_by_time"
    f" WHERE m.{_PUBLIC.format(t='m')} AND {_BELOW.format(t='m')}"
    f" {_NEWEST_FIRST.format(t='m')} LIMIT :n"
)
_MENTIONS_SQL = with_items(
    f"SELECT {CANDIDATE_COLUMNS} FROM mentions x INDEXED BY mentions_by_time CROSS JOIN messages m ON m.seq = x.seq"
    f" WHERE x.key = :key AND {_BELOW.format(t='x')} AND m.kind = 'post' {_NEWEST_FIRST.format(t='x')} LIMIT :n"
)


def _hashtag_sql(public: bool) -> str:
    audience = _ANYONE if public else ""
    return with_items(
        f"SELECT {CANDIDATE_COLUMNS} FROM hashtags x INDEXED BY hashtags_by_time CROSS JOIN messages m ON m.seq = x.seq"
        f" WHERE x.tag = :tag AND {_BELOW.format(t='x')} AND m.kind IN ({ITSELF_SQL}){audience}"
        f" {_NEWEST_FIRST.format(t='x')} LIMIT :n",
        public,
    )


def _author_sql(public: bool) -> str:
    audience = _ANYONE if public else ""
    return with_items(
        f"SELECT {CANDIDATE_COLUMNS} FROM messages m INDEXED BY messages_timeline_by_time"
        f" WHERE m.author = :key AND m.{_ENTRIES} AND {_BELOW.format(t='m')}{audience}"
        f" {_NEWEST_FIRST.format(t='m')} LIMIT :n",
        public,
    )


# Members read every post held; the web view and the feeds (``public=True``) only what the audience rule lets
# anyone see. A boost of a post that stays here stays here too (the rule follows its target), so the candidates'
# condition is enough.
_ANYONE = f" AND {for_anyone('m')}"
_HASHTAG_SQL = {public: _hashtag_sql(public) for public in (False, True)}
_AUTHOR_SQL = {public: _author_sql(public) for public in (False, True)}


def _bounds(cursor: Cursor, n: int) -> dict[str, object]:
    return {"at": cursor.at, "seq": cursor.seq, "n": n}


async def _page(store: Store, sql: str, params: dict[str, object], *, limit: int, before: str | None) -> Page:
    async def fetch(cursor: Cursor, n: int) -> list[Resolved]:
        return resolved_rows(await select(store.conn, sql, {**params, **_bounds(cursor, n)}))

    return await paginate(fetch, limit=limit, before=before)


async def home(store: Store, me_hex: str, *, limit: int = 20, before: str | None = None) -> Page:
    """My entries (posts, boosts, polls, meetups) and those of every key I follow; a boost shows the post it
    boosts."""
    me = key_bytes(me_hex)

    async def fetch(cursor: Cursor, n: int) -> list[Resolved]:
        params = {"me": me, **_bounds(cursor, n), "window": max(256, RECENT_WINDOW * n)}
        rows = await select(store.conn, _HOME_RECENT_SQL, params)
        if len(rows) < n:  # the window held too few: the floor query finds the rest wherever they are
            rows = await select(store.conn, _HOME_SQL, params)
        return resolved_rows(rows)

    return await paginate(fetch, limit=limit, before=before)


async def local(store: Store, *, limit: int = 20, before: str | None = None) -> Page:
    """Posts (public and local), polls and meetups by this server's members."""
    return await _page(store, _LOCAL_SQL, {}, limit=limit, before=before)


async def federated(store: Store, *, limit: int = 20, before: str | None = None) -> Page:
    """Every public post, poll and meetup held, whoever wrote it."""
    return await _page(store, _FEDERATED_SQL, {}, limit=limit, before=before)


async def mentions(store: Store, key_hex: str, *, limit: int = 20, before: str | None = None) -> Page:
    """Posts that mention the key."""
    return await _page(store, _MENTIONS_SQL, {"key": key_bytes(key_hex)}, limit=limit, before=before)


async def hashtag(store: Store, tag: str, *, limit: int = 20, before: str | None = None, public: bool = False) -> Page:
    """Posts, polls and meetups carrying the hashtag (given with or without its ``#``, in any case); with
    ``public``, only those anyone may see (``murmur.store.audience.for_anyone``)."""
    params = {"tag": tag.removeprefix("#").lower()}
    return await _page(store, _HASHTAG_SQL[public], params, limit=limit, before=before)


# An identity's posts and boosts: what each of its devices signed for it, as its log accepted them
# (murmur.kinds.key_store keeps the claims; docs/protocol.md §13.5).
def _identity_sql(public: bool) -> str:
    audience = _ANYONE if public else ""
    return with_items(
        f"SELECT {CANDIDATE_COLUMNS} FROM identity_claims i CROSS JOIN messages m ON m.seq = i.seq"
        f" WHERE i.identity = :key AND i.status = 'valid' AND m.{_ENTRIES} AND {_BELOW.format(t='m')}"
        f"{audience} {_NEWEST_FIRST.format(t='m')} LIMIT :n",
        public,
    )


_IDENTITY_SQL = {public: _identity_sql(public) for public in (False, True)}


async def author(
    store: Store, key_hex: str, *, limit: int = 20, before: str | None = None, public: bool = False
) -> Page:
    """One author's entries (posts, boosts, polls, meetups): a key's, or an identity's (every device's) when
    ``key_hex`` names one; with ``public``, only those anyone may see."""
    key = key_bytes(key_hex)
    if kind(INCEPTION) and await select(store.conn, "SELECT 1 FROM identities WHERE identity = ?", (key,)):
        return await _page(store, _IDENTITY_SQL[public], {"key": key}, limit=limit, before=before)
    return await _page(store, _AUTHOR_SQL[public], {"key": key}, limit=limit, before=before)
