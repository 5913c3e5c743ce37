"""Full-text search answers the same on SQLite (FTS5) and PostgreSQL (tsvector): plain words, phrases, prefixes.

The corpus and queries below are what the two agree on; where they differ (docs/self-hosting.md, "Full-text
search"), the difference is asserted as it is, so a change on either side shows here.
"""

from __future__ import annotations

from pathlib import Path

from store_people import Person

from murmur.store import Store
from murmur.store.search import search_posts, search_profiles
from tests.postgres_server import PostgresServer

POSTS = (
    "Hello world",
    "hello there, World!",
    "The quick brown fox",
    "quick brownies for everyone",
    "a state-of-the-art reply",
    "state of the art, word by word",
    "Numbers: 2026 and 42",
    "ÄPFEL und Birnen",
    "fox trot tonight",
    "tabs\tand\nnew lines",
    "write to ann@example.org or see example.org/path_to",
    "don't stop_believing",
    "un café crème, naïve",
)
# Plain words (any case), several words (all must match), phrases (a term joined by punctuation is a phrase on
# both), and terms whose punctuation would be syntax if it were not quoted.
QUERIES = (
    "hello",
    "WORLD",
    "quick",
    "fox",
    "brown",
    "brownies",
    "2026",
    "äpfel",
    "birnen",
    "hello world",
    "quick fox",
    "state-of-the-art",
    "state of the art",
    "the-art",
    "world!",
    '"fox"',
    "fox)",
    "trot*",
    "tabs",
    "new lines",
    "nothing",
    "",
    "ann",
    "example",
    "ann@example.org",
    "path",
    "don't",
    "t",
    "stop",
    "believing",
    "cafe",
    "café",
    "creme",
    "naive",
    "CAFÉ",
)
PEOPLE = (("Alice Liddell", "reads books"), ("Alina", "bakes bread"), ("Bob", "Alice's friend"))
PREFIXES = ("ali", "alic", "alice", "b", "br", "bread", "liddell", "fri", "zzz")


async def _answers(store: Store, people: list[Person]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    posts = {q: [i.id for i in (await search_posts(store, q, limit=50)).items] for q in QUERIES}
    names = {q: sorted(h.author for h in await search_profiles(store, q, limit=50)) for q in PREFIXES}
    return posts, names


async def test_both_engines_find_the_same_posts_and_people(
    tmp_path: Path, postgres: PostgresServer, ann: Person, ben: Person, cat: Person
) -> None:
    people = [ann, ben, cat]
    messages = [ann.post(text) for text in POSTS] + [
        p.profile(name, bio) for p, (name, bio) in zip(people, PEOPLE, strict=True)
    ]
    lite = await Store.open(tmp_path / "murmur.db")
    pg = await Store.open(tmp_path / "unused.db", database=postgres.new_database())
    try:
        for store in (lite, pg):
            await store.ingest(messages)
        on_sqlite, on_postgresql = await _answers(lite, people), await _answers(pg, people)
    finally:
        await lite.close()
        await pg.close()
    assert on_sqlite[0]["hello"]  # the corpus is found at all
    assert _diff(on_sqlite[0], on_postgresql[0]) == {}
    assert _diff(on_sqlite[1], on_postgresql[1]) == {}


def _diff(a: dict[str, list[str]], b: dict[str, list[str]]) -> dict[str, tuple[int, int]]:
    return {q: (len(a[q]), len(b[q])) for q in a if a[q] != b[q]}
