"""``Kind.watches``: a kind's ``apply`` also gets the stored messages of other kinds that carry a tag it watches."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from murmur import kinds
from murmur.keys import Identity
from murmur.kinds.base import Kind
from murmur.message import Message, sign_draft
from murmur.store import Store
from murmur.store import ingest as store_ingest


async def test_a_watching_kind_gets_every_message_carrying_the_tag_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, str]] = []

    async def apply(conn: aiosqlite.Connection, stored: list[tuple[int, Message]]) -> None:
        seen.extend((seq, m.kind) for seq, m in stored)

    watcher = Kind(name="profile", body=kinds.REGISTRY["profile"].body, apply=apply, watches=("hashtag",))
    monkeypatch.setattr(store_ingest, "REGISTRY", {**kinds.REGISTRY, "profile": watcher})
    monkeypatch.setitem(kinds._WATCHERS, "hashtag", ("profile",))
    me = Identity.generate()
    tagged = sign_draft(me, {"kind": "post", "body": {"text": "#a #b"}}, created_at=1)  # two hashtags: once
    plain = sign_draft(me, {"kind": "post", "body": {"text": "no tags"}}, created_at=2)
    profile = sign_draft(me, {"kind": "profile", "body": {"name": "Me"}}, created_at=3)
    async with await Store.open(tmp_path / "murmur.db") as store:
        results = await store.ingest([tagged, plain, profile])
    assert seen == [(results[0].seq, "post"), (results[2].seq, "profile")]
