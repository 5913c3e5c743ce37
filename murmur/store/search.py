"""Search: posts by full text (newest first), people by name, bio or key prefix.

Whatever a person types is quoted term by term (``fts_query``), so no input is FTS5 syntax and no input
raises. Deleted posts are gone from the index with their message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from murmur.store import Store, fts_query
from murmur.store.items import CANDIDATE_COLUMNS, MAX_SEQ, Candidate, Page, check_limit, resolve, select
from murmur.store.lookup import hex_range, people_named

KEY_PREFIX = re.compile(r"[0-9a-fA-F]{4,64}")

# Newest first: FTS5 walks its matches in rowid (= seq) order, either way, so a page is read in order and stops
# at the limit; ordering by rank would score every match first. ``before`` pages like a timeline's cursor.
_POSTS_SQL = (
    f"SELECT {CANDIDATE_COLUMNS} FROM posts_fts f JOIN messages m ON m.seq = f.rowid"
    " WHERE posts_fts MATCH :q AND f.rowid < :before AND m.kind = 'post' ORDER BY f.rowid DESC LIMIT :n"
)
_PROFILES_SQL = (
    "SELECT f.author, f.name, f.bio FROM profiles_fts f WHERE profiles_fts MATCH :q ORDER BY f.rank LIMIT :n"
)
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


async def search_posts(store: Store, query: str, *, limit: int = 20, before: int | None = None) -> Page:
    """Posts matching every term of ``query``, newest first (by arrival here), a page at a time.

    Newest first rather than best match: posts are short, so relevance scores mostly count repeated words, and
    what people look for in a microblog is what is being said now. Pass ``next_cursor`` as ``before``.
    """
    limit = check_limit(limit)
    params = {"q": fts_query(query), "before": MAX_SEQ if before is None else before, "n": limit + 1}
    rows = await select(store.conn, _POSTS_SQL, params)
    candidates = [Candidate.from_row(r) for r in rows[:limit]]
    cursor = candidates[-1].seq if len(rows) > limit else None
    return Page(await resolve(store.conn, candidates), cursor)


async def search_profiles(store: Store, query: str, *, limit: int = 20) -> list[ProfileHit]:
    """People whose key starts with ``query`` (4 hex digits or more) first, then those whose handle is ``query``
    (``lookup.people_named``), then name/bio matches by rank.

    Name and bio terms match as prefixes, so "ali" finds "Alice". The handle comes before the ranked matches
    because rank favours a name repeating a word ("ann ann ann") over the name that is the word: ranked alone,
    enough of those would push "Ann" out of the page.
    """
    limit = check_limit(limit)
    hits: dict[str, ProfileHit] = {}
    text = query.strip()
    if KEY_PREFIX.fullmatch(text):
        for row in await select(store.conn, _BY_PREFIX_SQL, {**hex_range(text), "n": limit}):
            hits[bytes(row[0]).hex()] = ProfileHit(bytes(row[0]).hex(), row[1], row[2])
    if len(hits) < limit:
        for person in await people_named(store, text):
            hits.setdefault(person.key, ProfileHit(person.key, person.name, person.bio))
    if len(hits) < limit:
        for row in await select(store.conn, _PROFILES_SQL, {"q": fts_query(query, prefix=True), "n": limit}):
            hits.setdefault(row[0], ProfileHit(row[0], row[1], row[2]))
    return list(hits.values())[:limit]
