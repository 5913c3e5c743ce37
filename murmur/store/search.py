"""Search: posts by full text, people by name, bio or key prefix.

Whatever a person types is quoted term by term (``fts_query``), so no input is FTS5 syntax and no input
raises. Deleted posts are gone from the index with their message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from murmur.store import Store, fts_query
from murmur.store.items import CANDIDATE_COLUMNS, Candidate, TimelineItem, check_limit, resolve, select
from murmur.store.lookup import hex_range

KEY_PREFIX = re.compile(r"[0-9a-fA-F]{4,64}")

_POSTS_SQL = (
    f"SELECT {CANDIDATE_COLUMNS} FROM posts_fts f JOIN messages m ON m.seq = f.rowid"
    " WHERE posts_fts MATCH ? AND m.kind = 'post' ORDER BY f.rank LIMIT ?"
)
_PROFILES_SQL = "SELECT f.author, f.name, f.bio FROM profiles_fts f WHERE profiles_fts MATCH ? ORDER BY f.rank LIMIT ?"
# Keys whose hex starts with a prefix: a range on the 32-byte BLOB (lookup.hex_range), so both members and
# profiles are read by their primary key.
_BY_PREFIX_SQL = """
SELECT /* bounded sort */ k.key, coalesce(p.name, ''), coalesce(p.bio, '') FROM (
    SELECT * FROM (SELECT key FROM members WHERE key BETWEEN :lo AND :hi ORDER BY key LIMIT :n)
    UNION SELECT * FROM (SELECT author FROM profiles WHERE author BETWEEN :lo AND :hi ORDER BY author LIMIT :n)
) k LEFT JOIN profiles p ON p.author = k.key ORDER BY k.key LIMIT :n
"""


@dataclass(frozen=True, slots=True)
class ProfileHit:
    author: str
    name: str
    bio: str


async def search_posts(store: Store, query: str, *, limit: int = 20) -> list[TimelineItem]:
    """Posts matching every term of ``query``, best match first."""
    rows = await select(store.conn, _POSTS_SQL, (fts_query(query), check_limit(limit)))
    return await resolve(store.conn, [Candidate.from_row(r) for r in rows])


async def search_profiles(store: Store, query: str, *, limit: int = 20) -> list[ProfileHit]:
    """People whose key starts with ``query`` (4 hex digits or more) first, then name/bio matches.

    Name and bio terms match as prefixes, so "ali" finds "Alice".
    """
    limit = check_limit(limit)
    hits: dict[str, ProfileHit] = {}
    text = query.strip()
    if KEY_PREFIX.fullmatch(text):
        for row in await select(store.conn, _BY_PREFIX_SQL, {**hex_range(text), "n": limit}):
            hits[bytes(row[0]).hex()] = ProfileHit(bytes(row[0]).hex(), row[1], row[2])
    if len(hits) < limit:
        for row in await select(store.conn, _PROFILES_SQL, (fts_query(query, prefix=True), limit)):
            hits.setdefault(row[0], ProfileHit(row[0], row[1], row[2]))
    return list(hits.values())[:limit]
