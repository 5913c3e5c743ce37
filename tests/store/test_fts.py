"""Full-text queries: whatever a person types is a query that runs, never FTS5 syntax."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st
from store_people import Person

from murmur.store import Store, fts_query
from murmur.store.search import search_posts, search_profiles

ODD = ['"', '""', "'", "a\"b", "NEAR(a b)", "a OR b", "a AND", "NOT", "*", "a*", "^a", "col:x", "(", ")", "-",
       "+", "{a}", "\x00", "a\x00b", "\ud800", "   ", "", "👍", "\\"]  # fmt: skip


@pytest.fixture(scope="module")
def fts_conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5 (text, tokenize = 'unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t (text) VALUES ('alpha beta'), ('gamma \"quoted\" delta')")
    return conn


@given(st.text())
def test_fts_query_always_parses(fts_conn: sqlite3.Connection, text: str) -> None:
    for prefix in (False, True):
        fts_conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (fts_query(text, prefix=prefix),)).fetchone()


def test_fts_query_terms_are_quoted() -> None:
    assert fts_query('say "hi" now') == '"say" """hi""" "now"'
    assert fts_query("") == '""'
    assert fts_query("ali", prefix=True) == '"ali"*'


@pytest.mark.parametrize("text", ODD)
async def test_search_never_raises(store: Store, ann: Person, text: str) -> None:
    await store.ingest([ann.post('alpha "beta" gamma'), ann.profile("Ann Alpha", "likes NEAR things")])
    await store.search_posts(text)
    await search_posts(store, text)
    await search_profiles(store, text)


async def test_search_finds_words_with_punctuation(store: Store, ann: Person) -> None:
    post = ann.post('the "release" is ready: v1.2 (finally)!')
    await store.ingest([post])
    assert len((await search_posts(store, '"release"')).items) == 1
    assert len((await search_posts(store, "(finally)!")).items) == 1
    assert (await search_posts(store, "nothing")).items == []
