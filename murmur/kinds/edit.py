"""An edit: a new version of its author's own post. The post keeps its id; readers see the newest version.

An edit names the post (``target``) and carries what a post says (``text``, an optional ``cw``, hashtags and
mentions); the post's visibility and place in its thread stay the post's. Every version is kept and listed, the
original first; the newest edit by (created_at, id) is what readers see, the same on every server whatever
order the versions came in.

- Only the post's author may edit it, from any of their devices (``murmur.kinds.acting``): an edit of someone
  else's post is refused ``not_author``, one of a held message that is not a post ``bad_target``. An edit that
  arrives before its post waits for it; if the post turns out to be someone else's, the edit never applies.
- A delete of the post takes every version with it (``with_target``), and an edit arriving after it is not kept.
  A delete aimed at an edit removes nothing: versions are a record, and the post is what its author deletes.
- Full-text search, and the hashtag and mention timelines, hold the newest version of each post only, under the
  post's log position. Someone an edit newly mentions is not told (as Mastodon does not); a post that arrives
  after its edits is told to whom its newest version mentions.
- People who replied to the post, reacted to it or boosted it are told of each edit (notice kind ``edit``).

Readers: ``newest_join`` (the newest version beside each post shown: the kind's ``shown_join``, through which
timelines, threads, search, notifications and single messages show it), and ``history`` (every version).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from murmur.kinds.acting import acts_for_sql
from murmur.kinds.base import Field, Kind, Version
from murmur.kinds.batch import batch

if TYPE_CHECKING:  # the store imports the registry, and so this module
    from murmur.store import Store

# An edit's own tag rows are those of a post, plus the post it edits.
TAGS = {"target": (1, 1), "mention": (0, 50), "hashtag": (0, 20)}

MIGRATIONS = (
    # The versions of a post by its author, newest first: one index range per post, never a sort.
    "CREATE INDEX edits_by_post ON messages (target, author, created_at DESC, id DESC) WHERE kind = 'edit';",
)


def newest_of(post: str, alias: str = "v") -> str:
    """SQL: the seq of the newest edit of the ``messages`` row ``post`` by its author, from any of their devices
    (NULL when never edited). Sorted, not walked in the index's order, since the author may be any of their
    devices; the sort holds one post's edits, which ingest took from its author's devices only."""
    return (
        f"(SELECT /* bounded sort: one post's edits, its author's devices' */ {alias}.seq"
        f" FROM messages {alias} INDEXED BY edits_by_post WHERE {alias}.target = {post}.id"
        f" AND {alias}.kind = 'edit' AND {acts_for_sql(alias, post)}"
        f" ORDER BY {alias}.created_at DESC, {alias}.id DESC LIMIT 1)"
    )


def newest_join(post: str, alias: str = "v") -> str:
    """SQL: ``LEFT JOIN`` the newest edit of the post row ``post`` as ``alias`` (no row when never edited)."""
    return f"LEFT JOIN messages {alias} ON {post}.kind = 'post' AND {alias}.seq = {newest_of(post, alias + 'n')}"


# Posts whose newest version this batch may have changed: posts that arrived after edits of theirs (the edits
# were waiting), and posts whose edits arrived. The batch is ``murmur.kinds.batch``'s subquery: under the plain
# range PostgreSQL took the posts for thousands and read all of mentions at each batch to join them.
_CHANGED = (
    f"SELECT p.seq FROM {batch('seq', 'id', 'author', 'kind')} p WHERE p.kind = 'post'"
    f" AND {newest_of('p')} IS NOT NULL"
    " UNION SELECT p.seq FROM messages e CROSS JOIN messages p ON p.id = e.target"
    f" WHERE e.seq BETWEEN :lo AND :hi AND e.kind = 'edit' AND {acts_for_sql('e', 'p')} AND p.kind = 'post'"
)
_VERSION = "json_extract(CAST(v.raw AS TEXT), '$.body.{}')"


def _tags_of_newest(table: str, column: str) -> tuple[str, str]:
    """The post's rows of a tag index (hashtags, mentions) become those of its newest version, which ingest
    indexed under the edit's seq (where no timeline reads them: timelines read posts)."""
    return (
        f"DELETE FROM {table} WHERE seq IN ({_CHANGED})",
        f"INSERT OR IGNORE INTO {table} ({column}, seq, sort_at) SELECT x.{column}, p.seq, p.sort_at FROM messages p"
        f" CROSS JOIN {table} x ON x.seq = {newest_of('p', 'w')} WHERE p.seq IN ({_CHANGED})",
    )


# Search, and the hashtag and mention timelines, hold a post's newest version only, under the post's seq (what
# a hit or an entry shows is the post). Run before the notices: a post that arrives after its edits is told to
# those its newest version mentions.
DERIVE = (
    f"DELETE FROM posts_fts WHERE rowid IN ({_CHANGED})",
    f"INSERT INTO posts_fts (rowid, text, cw) SELECT p.seq, {_VERSION.format('text')},"
    f" coalesce({_VERSION.format('cw')}, '') FROM messages p CROSS JOIN messages v ON v.seq = {newest_of('p', 'w')}"
    f" WHERE p.seq IN ({_CHANGED})",
    *_tags_of_newest("hashtags", "tag"),
    *_tags_of_newest("mentions", "key"),
)


def _told(edits_from: str) -> tuple[str, ...]:
    """Tell whoever replied to, reacted to or boosted the post of an edit; ``edits_from`` finds the (edit e,
    post p) pairs of which one is this batch's."""
    insert = "INSERT OR IGNORE INTO notices (key, seq, kind)"
    where = f"WHERE e.kind = 'edit' AND p.kind = 'post' AND {acts_for_sql('e', 'p')}"
    return (
        f"{insert} SELECT r.author, e.seq, 'edit' {edits_from} CROSS JOIN messages r ON r.reply_to = p.id"
        f" {where} AND r.kind = 'post' AND r.author != e.author",
        f"{insert} SELECT a.author, e.seq, 'edit' {edits_from} CROSS JOIN tallies a ON a.target = p.id"
        f" {where} AND a.author != e.author",
    )


# From both ends, as replies are: the edit arrives after its post, or the post arrives after its edits. From the
# post's end the batch is ``murmur.kinds.batch``'s subquery, so that PostgreSQL probes the indexes of what points
# at it (edits, replies, tallies).
NOTICES = (
    *_told("FROM messages e CROSS JOIN messages p ON p.id = e.target AND e.seq BETWEEN :lo AND :hi"),
    *_told(
        f"FROM {batch('seq', 'id', 'author', 'kind')} p"
        f" CROSS JOIN messages e INDEXED BY edits_by_post ON e.target = p.id AND {acts_for_sql('e', 'p')}"
    ),
)

KIND = Kind(
    name="edit",
    body={"text": Field(True, 5000), "cw": Field(False, 500)},
    tags=TAGS,
    own_target=True,
    target_kinds=("post",),
    with_target=True,
    derive=DERIVE,
    notices=NOTICES,
    notice_about={"edit": "target"},
    migrations=MIGRATIONS,
    shown_join=newest_join,
)


_POST_SQL = "SELECT p.id, p.created_at, p.raw FROM messages p WHERE p.id = ? AND p.kind = 'post'"
_EDITS_SQL = (
    "SELECT /* bounded sort: one post's edits, its author's devices' */ v.id, v.created_at, v.raw"
    " FROM messages p CROSS JOIN messages v INDEXED BY edits_by_post"
    f" ON v.target = p.id AND {acts_for_sql('v', 'p')} AND v.kind = 'edit' WHERE p.id = ? AND p.kind = 'post'"
    " ORDER BY v.created_at, v.id"
)


async def history(store: Store, post_id: bytes) -> list[Version]:
    """Every version of the post, oldest first, the post itself first; empty when no such post is held."""
    async with store.conn.execute(_POST_SQL, (post_id,)) as cursor:
        post = await cursor.fetchone()
    if post is None:
        return []
    async with store.conn.execute(_EDITS_SQL, (post_id,)) as cursor:
        edits = await cursor.fetchall()
    return [Version.from_row(post), *(Version.from_row(row) for row in edits)]

