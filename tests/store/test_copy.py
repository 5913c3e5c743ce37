"""Copying a SQLite store into PostgreSQL (``murmur admin migrate-db``): everything, checked, cursors intact."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_people import Person

from murmur.errors import StoreError
from murmur.store import Store
from murmur.store.copy import copy_store
from murmur.store.members import add_member, create_invite, list_members
from murmur.store.notifications import mark_read, notifications
from murmur.store.peers import add_peer, get_peer, record_success
from murmur.store.search import search_posts
from murmur.store.timelines import home
from tests.postgres_server import PostgresServer
from tests.store_helpers import list_invites, read_marker

PEER = "ab" * 32


async def _fill(store: Store, ann: Person, ben: Person) -> dict[str, str]:
    hello = ann.post("hello #copy world")
    reply = ben.post("a reply", reply=hello)
    here = ann.post("stays on this server", visibility="local")
    last = ann.post("deleted at the end of the log")
    await store.ingest([ann.profile("Ann", "writes"), ben.follow(ann), hello, reply, ben.react(hello), here, last])
    await store.ingest([ann.delete(last)])  # the log's high-water mark now sits above every row held
    await add_member(store, ann.key, "admin")
    await create_invite(store, note="for cat")
    await add_peer(store, PEER, "http://127.0.0.1:1", name="far")
    await record_success(store, PEER, push_cursor=3, pull_cursor=41)
    await mark_read(store, ann.key, 4)
    return {"hello": hello["id"], "reply": reply["id"]}


async def _state(store: Store, ann: Person, ben: Person) -> tuple[object, ...]:
    peer = await get_peer(store, PEER)
    return (
        await store.last_seq(),
        [(e.seq, e.raw) for e in await store.log_after(0)],
        (peer.push_cursor, peer.pull_cursor) if peer else None,
        await list_members(store),
        [(i.code, i.note) for i in await list_invites(store)],
        [(i.seq, i.kind) for i in (await notifications(store, ann.key)).items],
        await read_marker(store, ann.key),
        [i.id for i in (await home(store, ben.key)).items],
        [i.id for i in (await search_posts(store, "world")).items],
        await store.display_names([ann.key]),
    )


async def test_a_copy_holds_everything_and_goes_on_from_the_same_log_position(
    tmp_path: Path, postgres: PostgresServer, ann: Person, ben: Person, cat: Person
) -> None:
    source = await Store.open(tmp_path / "murmur.db")
    target = await Store.open(tmp_path / "murmur.db", database=postgres.new_database())
    try:
        await _fill(source, ann, ben)
        heard: list[tuple[int, int | None]] = []
        copied = await copy_store(source, target, lambda done, total: heard.append((done, total)))
        assert all(c.matches for c in copied), [c for c in copied if not c.matches]
        rows = sum(c.rows for c in copied)  # the progress heard counts every row copied, of every table's rows
        assert heard[0] == (0, rows) and heard[-1] == (rows, rows) and heard == sorted(heard)
        assert {"messages", "peers", "members", "invites", "notices", "markers", "confined", "posts_fts"} <= {
            c.table for c in copied if c.rows
        }
        assert await _state(target, ann, ben) == await _state(source, ann, ben)
        # Both go on alike: the next message gets the same seq on either engine (the deleted one's is not reused).
        later = cat.post("after the move")
        assert [r.seq for r in await source.ingest([later])] == [r.seq for r in await target.ingest([later])]
    finally:
        await source.close()
        await target.close()


async def test_a_copy_into_a_database_holding_messages_is_refused(
    tmp_path: Path, postgres: PostgresServer, ann: Person
) -> None:
    source = await Store.open(tmp_path / "murmur.db")
    target = await Store.open(tmp_path / "murmur.db", database=postgres.new_database())
    try:
        await target.ingest([ann.post("already here")])
        with pytest.raises(StoreError, match="already holds messages"):
            await copy_store(source, target)
    finally:
        await source.close()
        await target.close()
