"""A group's rows are brought up to date by resuming the fold when a batch only adds later messages, and by
folding again otherwise; either way they are what one fold of every message gives (murmur/kinds/group_state.py).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from store_people import T0, Person

from murmur.keys import Identity
from murmur.store import Store

ROWS = (
    "SELECT key, status, role, since FROM groups_people ORDER BY key",
    "SELECT key, start_at, end_at FROM groups_spans ORDER BY key, start_at",
    "SELECT mark, post, by_key, at, msg, reason FROM groups_marks ORDER BY mark, post",
    "SELECT id, members FROM groups",
)


async def rows(store: Store) -> list[list[Any]]:
    out = []
    for sql in ROWS:
        async with store.conn.execute(sql) as cursor:
            out.append(list(await cursor.fetchall()))
    return out


def people(n: int) -> list[Person]:
    clock = itertools.count(T0, 1000)
    return [Person(Identity.from_seed(bytes([40 + i]) * 32), clock) for i in range(n)]


def story() -> list[dict[str, Any]]:
    """An approval group's life, in time order: every step kind, with some that count and some that do not."""
    owner, ann, ben, cat, dan = people(5)
    at = itertools.count(T0 + 10, 10)

    def about(who: Person, kind: str, subject: Person) -> dict[str, Any]:
        return who.sign(kind, {}, [["group", g["id"]], ["subject", subject.key]], next(at))

    def on_post(who: Person, kind: str, post: dict[str, Any], **body: str) -> dict[str, Any]:
        return who.sign(kind, body, [["group", g["id"]], ["target", post["id"]]], next(at))

    def member(who: Person, kind: str) -> dict[str, Any]:
        return who.sign(kind, {}, [["group", g["id"]]], next(at))

    g = owner.sign("group", {"name": "Fix CI", "join": "approval"}, [], T0)
    post = ben.sign("post", {"text": "hi", "visibility": "public"}, [["group", g["id"]]], T0 + 5)
    return [
        g,
        member(ann, "group_join"),
        about(owner, "group_approve", ann),
        about(owner, "group_mod", ann),
        member(ben, "group_join"),
        about(cat, "group_approve", ben),  # no authority: changes nothing
        about(ann, "group_approve", ben),
        on_post(ann, "group_hide", post, reason="spam"),
        on_post(ben, "group_unhide", post),  # no authority
        on_post(ann, "group_pin", post),
        about(ann, "group_remove", ben),
        member(ben, "group_join"),  # removed: asks again
        member(dan, "group_join"),
        member(dan, "group_leave"),
        about(owner, "group_unmod", ann),
        on_post(ann, "group_unpin", post),  # no longer a moderator
        on_post(owner, "group_unhide", post),
        about(owner, "group_approve", ben),
        member(ann, "group_leave"),
    ]


async def test_resumed_rows_equal_one_fold_of_everything(tmp_path: Path) -> None:
    messages = story()
    whole = await Store.open(tmp_path / "whole.db")
    one_by_one = await Store.open(tmp_path / "each.db")
    backwards = await Store.open(tmp_path / "back.db")
    try:
        assert all(r.status == "stored" for r in await whole.ingest(messages))
        expected = await rows(whole)
        for m in messages:  # in time order: every batch after the creation resumes
            await one_by_one.ingest([m])
            assert await rows(one_by_one) == await rows_of_prefix(tmp_path, messages, m)
        assert await rows(one_by_one) == expected
        await backwards.ingest(messages[:1])
        for m in reversed(messages[1:]):  # each older than what is held: folded again each time
            await backwards.ingest([m])
        assert await rows(backwards) == expected
    finally:
        for s in (whole, one_by_one, backwards):
            await s.close()


async def rows_of_prefix(tmp_path: Path, messages: list[dict[str, Any]], last: dict[str, Any]) -> list[list[Any]]:
    """The rows one fold gives of the messages up to ``last``."""
    path = tmp_path / f"prefix-{last['id'][:8]}.db"
    store = await Store.open(path)
    try:
        await store.ingest(messages[: messages.index(last) + 1])
        return await rows(store)
    finally:
        await store.close()


@pytest.mark.sqlite_only("counts the statements SQLite's trace callback sees")
@pytest.mark.parametrize("backdated", [False, True], ids=["later", "backdated"])
async def test_a_later_join_does_not_read_the_whole_group_again(store: Store, backdated: bool) -> None:
    owner, *others = people(30)
    g = owner.sign("group", {"name": "Big", "join": "open"}, [], T0)
    joins = [p.sign("group_join", {}, [["group", g["id"]]], T0 + 100 + i) for i, p in enumerate(others[:-1])]
    await store.ingest([g, *joins])
    read: list[str] = []
    await store.writer.conn.set_trace_callback(read.append)
    late = others[-1].sign("group_join", {}, [["group", g["id"]]], T0 + 50 if backdated else T0 + 1000)
    await store.ingest([late])
    await store.writer.conn.set_trace_callback(None)
    whole_log = [sql for sql in read if "FROM groups_log l" in sql]
    # A join after everything held reads only the joiner's rows; a backdated one makes the group fold again.
    assert bool(whole_log) == backdated
    async with store.conn.execute("SELECT members FROM groups") as cursor:
        assert await cursor.fetchall() == [(30,)]
