"""Timelines: home, local, federated, mentions, hashtag and author, newest first by log position.

Every query reads an index in ``seq`` order and stops at ``limit``, so a page costs the same at a thousand
messages and at millions; ``tests/store/test_query_plans.py`` holds them to that. Pages are cut by
``before`` (a seq), so paging stays stable while new messages arrive.

Home and local read the posts of a *set* of authors. Walking the whole log for them would cost as much as
the log is long when those authors are quiet, and sorting all their posts as much as they ever wrote. So
the query first takes, per author, the seq of their ``limit``-th newest candidate (one short index read
each); the largest of those is a floor under which no item of this page can lie, and the page is read
from the (author, seq) index above that floor: at most ``limit`` rows per author.

Home tries something cheaper first. A member usually follows people who post, so their newest ``limit``
items are mostly among the newest few hundred messages of the log: one read of the log's tail (a bounded
rowid range, ``RECENT_WINDOW`` times the page) finds them for the cost of that range. Only when the window
holds too few does the per-author floor query run. Both give exactly the same page.

``thread`` and the notifications live in their own modules and are re-exported here.
"""

from __future__ import annotations

from murmur.store import Store
from murmur.store.items import (
    CANDIDATE_COLUMNS,
    ITEMS_TAIL,
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

# Kind filters are constants chosen by the caller below, never user input. ``kind IN ('post', 'boost')``
# must appear literally so SQLite can use the partial index messages_timeline.
_POSTS_AND_BOOSTS = "kind IN ('post', 'boost')"
_POSTS_ONLY = "kind IN ('post', 'boost') AND {t}.kind = 'post'"

_AUTHOR_SET_SQL = """
WITH authors(key) AS ({authors}), c AS (
SELECT /* bounded sort */ {columns} FROM messages m INDEXED BY messages_timeline
WHERE m.author IN (SELECT key FROM authors) AND m.{kinds_m} AND m.seq < :before
  AND m.seq >= (
    SELECT coalesce(max((
        SELECT s.seq FROM messages s INDEXED BY messages_timeline
        WHERE s.author = a.key AND s.{kinds_s} AND s.seq < :before
        ORDER BY s.seq DESC LIMIT 1 OFFSET :n - 1
    )), 0) FROM authors a
  )
ORDER BY m.seq DESC LIMIT :n
) {tail}
"""

_HOME_AUTHORS = "SELECT :me UNION SELECT subject FROM follows WHERE follower = :me AND following = 1"
_MEMBER_AUTHORS = "SELECT key FROM members"


def _author_set_sql(authors: str, kinds: str) -> str:
    return _AUTHOR_SET_SQL.format(
        authors=authors,
        columns=CANDIDATE_COLUMNS,
        kinds_m=kinds.format(t="m"),
        kinds_s=kinds.format(t="s"),
        tail=ITEMS_TAIL,
    )


_HOME_SQL = _author_set_sql(_HOME_AUTHORS, _POSTS_AND_BOOSTS)
# The log's newest :window messages below :before (seqs are the rowid, so this is a range of the table itself),
# filtered to the author set. NOT INDEXED keeps the planner on that range rather than an author index.
_HOME_RECENT_SQL = with_items(f"""
SELECT /* recent window */ {CANDIDATE_COLUMNS} FROM messages m NOT INDEXED
WHERE m.seq < :before AND m.seq >= (SELECT max(seq) FROM messages WHERE seq < :before) - :window
  AND m.{_POSTS_AND_BOOSTS} AND m.author IN ({_HOME_AUTHORS})
ORDER BY m.seq DESC LIMIT :n
""")
RECENT_WINDOW = 16  # times the rows asked for: enough when a twentieth of the log is by people one follows
_LOCAL_SQL = _author_set_sql(_MEMBER_AUTHORS, _POSTS_ONLY)
_FEDERATED_SQL = with_items(
    f"SELECT {CANDIDATE_COLUMNS} FROM messages m WHERE m.kind = 'post' AND m.visibility = 'public'"
    " AND m.seq < :before ORDER BY m.seq DESC LIMIT :n"
)
_MENTIONS_SQL = with_items(
    f"SELECT {CANDIDATE_COLUMNS} FROM mentions x JOIN messages m ON m.seq = x.seq"
    " WHERE x.key = :key AND x.seq < :before AND m.kind = 'post' ORDER BY x.seq DESC LIMIT :n"
)
_HASHTAG_SQL = with_items(
    f"SELECT {CANDIDATE_COLUMNS} FROM hashtags x JOIN messages m ON m.seq = x.seq"
    " WHERE x.tag = :tag AND x.seq < :before AND m.kind = 'post' ORDER BY x.seq DESC LIMIT :n"
)
_AUTHOR_SQL = with_items(
    f"SELECT {CANDIDATE_COLUMNS} FROM messages m INDEXED BY messages_timeline"
    f" WHERE m.author = :key AND m.{_POSTS_AND_BOOSTS} AND m.seq < :before ORDER BY m.seq DESC LIMIT :n"
)


async def _page(store: Store, sql: str, params: dict[str, object], *, limit: int, before: int | None) -> Page:
    async def fetch(cursor: int, n: int) -> list[Resolved]:
        return resolved_rows(await select(store.conn, sql, {**params, "before": cursor, "n": n}))

    return await paginate(store.conn, fetch, limit=limit, before=before)


async def home(store: Store, me_hex: str, *, limit: int = 20, before: int | None = None) -> Page:
    """My posts and boosts, and those of every key I follow; a boost shows the post it boosts."""
    me = key_bytes(me_hex)

    async def fetch(cursor: int, n: int) -> list[Resolved]:
        params = {"me": me, "before": cursor, "n": n, "window": max(256, RECENT_WINDOW * n)}
        rows = await select(store.conn, _HOME_RECENT_SQL, params)
        if len(rows) < n:  # the window held too few: the floor query finds the rest wherever they are
            rows = await select(store.conn, _HOME_SQL, params)
        return resolved_rows(rows)

    return await paginate(store.conn, fetch, limit=limit, before=before)


async def local(store: Store, *, limit: int = 20, before: int | None = None) -> Page:
    """Posts (public and local) by this server's members."""
    return await _page(store, _LOCAL_SQL, {}, limit=limit, before=before)


async def federated(store: Store, *, limit: int = 20, before: int | None = None) -> Page:
    """Every public post held, whoever wrote it."""
    return await _page(store, _FEDERATED_SQL, {}, limit=limit, before=before)


async def mentions(store: Store, key_hex: str, *, limit: int = 20, before: int | None = None) -> Page:
    """Posts that mention the key."""
    return await _page(store, _MENTIONS_SQL, {"key": key_bytes(key_hex)}, limit=limit, before=before)


async def hashtag(store: Store, tag: str, *, limit: int = 20, before: int | None = None) -> Page:
    """Posts carrying the hashtag (given with or without its ``#``, in any case)."""
    return await _page(store, _HASHTAG_SQL, {"tag": tag.removeprefix("#").lower()}, limit=limit, before=before)


async def author(store: Store, key_hex: str, *, limit: int = 20, before: int | None = None) -> Page:
    """One author's posts and boosts."""
    return await _page(store, _AUTHOR_SQL, {"key": key_bytes(key_hex)}, limit=limit, before=before)
