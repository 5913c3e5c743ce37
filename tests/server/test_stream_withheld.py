"""A peer's signed notice that it withheld a post reaches the live streams (``event: withheld``) at a log position
of its own, handed out when it is kept: a stream open then gets it at once, and one that reconnects from an
earlier cursor (``Last-Event-ID``) gets every notice kept while it was away, in log order among the messages,
once each; a sealed message's notice is told to nobody. The notifications page carries the notices too."""

from __future__ import annotations

import json
from typing import Any

import pytest

from murmur.client.api import ApiError
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.receipts import signed
from murmur.server.federation.answers import heard
from murmur.store import live
from murmur.store.peers import add_peer
from murmur.store.receipts import told_between
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_stream_fanout import OpenStream, publish_posts
from tests.store.test_sealed_index import T, sealed

FAR = Identity.from_seed(b"\x2a" * 32)
NEAR = Identity.from_seed(b"\x2b" * 32)


def refusal(msg_id: str, reason: str, by: Identity = FAR) -> dict[str, str]:
    return signed(by, {"id": msg_id, "status": "refused", "code": "policy", "reason": reason})


async def peers(server: Harness) -> None:
    await add_peer(server.state.store, FAR.public_key, "http://far.test", name="far", mode="serve-only")
    await add_peer(server.state.store, NEAR.public_key, "http://near.test", name="near", mode="serve-only")


def withheld(opened: OpenStream) -> list[tuple[int, str, list[str]]]:
    """Each ``withheld`` event: its id, the message it names, and the reasons of its notices."""
    return [(at, d["id"], [n["reason"] for n in d["withheld"]]) for at, e, d in opened.events if e == "withheld"]


def ids(opened: OpenStream) -> list[int]:
    return [at for at, _, _ in opened.events]


async def sealed_message(server: Harness) -> dict[str, Any]:
    ada, bo = Speaker.new(at=T - 10_000), Speaker.new(at=T - 10_000)
    await server.state.store.ingest([*ada.events, *bo.events])
    secret = sealed(ada, bo.devices[0].public)
    await server.state.store.ingest([secret])
    return secret


async def test_a_notice_kept_reaches_live_streams_at_a_position_of_its_own(server: Harness, engine: str) -> None:
    reader, author = Identity.generate(), Identity.generate()
    for who in (reader, author):
        await server.member(who)
    await peers(server)
    secret = await sealed_message(server)
    [post] = await publish_posts(server, author, 1)
    async with OpenStream(server, reader) as opened:
        sent = {post, str(secret["id"])}
        answers = [refusal(post, "not here"), refusal(str(secret["id"]), "nor this"), refusal("ab" * 32, "unsent")]
        assert await heard(server.state, FAR.public_key, sent, answers) == 2
        await opened.until(lambda: bool(withheld(opened)))
        [(at, msg_id, reasons)] = withheld(opened)  # the post's notice; never the sealed message's, nor one not kept
        assert (msg_id, reasons) == (post, ["not here"]) and at == await server.state.store.last_seq()
        [(_, _, data)] = [e for e in opened.events if e[1] == "withheld"]
        [notice] = data["withheld"]
        assert (notice["key"], notice["name"], notice["code"]) == (FAR.public_key, "far", "policy")
        later = await publish_posts(server, author, 1, text="later")
        await opened.until(lambda: bool(opened.messages()))
        assert opened.messages() == later  # the stream went on from where it was, repeating nothing
        assert ids(opened) == sorted(ids(opened)) and ids(opened)[-1] > at


async def test_a_stream_reconnecting_gets_the_notices_kept_while_it_was_away_once(server: Harness, engine: str) -> None:
    reader, author = Identity.generate(), Identity.generate()
    for who in (reader, author):
        await server.member(who)
    await peers(server)
    secret = await sealed_message(server)
    first, second = await publish_posts(server, author, 2)
    away = await server.state.store.last_seq()  # the stream's last event before it went away
    await heard(server.state, FAR.public_key, {first, str(secret["id"])}, [refusal(first, "far says no")])
    await heard(server.state, FAR.public_key, {str(secret["id"])}, [refusal(str(secret["id"]), "sealed")])
    [third] = await publish_posts(server, author, 1, text="later")
    await heard(server.state, NEAR.public_key, {first}, [refusal(first, "near says no", NEAR)])
    await heard(server.state, NEAR.public_key, {second}, [refusal(second, "nor this", NEAR)])
    end = await server.state.store.last_seq()
    async with OpenStream(server, reader, f"cursor={away}") as opened:
        await opened.until(lambda: bool(opened.events) and ids(opened)[-1] == end)
        # one event per message, where its newest notice was kept, holding every notice of it up to there
        assert [(m, r) for _, m, r in withheld(opened)] == [
            (first, ["far says no", "near says no"]),
            (second, ["nor this"]),
        ]
        assert opened.messages() == [third]
        assert ids(opened) == sorted(ids(opened)) and len(set(ids(opened))) == len(ids(opened))
        assert ids(opened).index(withheld(opened)[0][0]) > 0  # after the later post, where it was last kept
        between = withheld(opened)[0][0] - 1  # a stream that left after the far notice and the later post
    async with OpenStream(server, reader, f"cursor={between}") as opened:
        await opened.until(lambda: bool(opened.events) and ids(opened)[-1] == end)
        assert [m for _, m, _ in withheld(opened)] == [first, second] and opened.messages() == []
    async with OpenStream(server, reader, f"cursor={end}") as opened:  # past them all: nothing again
        [post] = await publish_posts(server, author, 1, text="last")
        await opened.until(lambda: bool(opened.messages()))
        assert withheld(opened) == [] and opened.messages() == [post]


async def test_a_notice_that_changes_is_told_again_at_its_new_position_and_only_then(
    server: Harness, engine: str
) -> None:
    author = Identity.generate()
    await server.member(author)
    await peers(server)
    [post] = await publish_posts(server, author, 1)
    before = await server.state.store.last_seq()
    await heard(server.state, FAR.public_key, {post}, [refusal(post, "first")])
    await heard(server.state, FAR.public_key, {post}, [refusal(post, "second")])
    told, _ = await told_between(server.state.store, before, await server.state.store.last_seq(), 10)
    assert [(t.at, t.id, [n.reason for n in t.notices]) for t in told] == [(before + 2, post, ["second"])]
    await heard(server.state, FAR.public_key, {post}, [refusal(post, "second")])  # the same again: no news
    told, _ = await told_between(server.state.store, before + 2, await server.state.store.last_seq(), 10)
    assert told == []
    stored = signed(FAR, {"id": post, "status": "stored", "code": "", "reason": ""})
    await heard(server.state, FAR.public_key, {post}, [stored])  # it took the post after all: nothing to tell
    told, _ = await told_between(server.state.store, before, await server.state.store.last_seq(), 10)
    assert told == []


@pytest.mark.parametrize("limit", [1, 2, 3])
async def test_a_stretch_full_of_notices_ends_where_its_page_does(server: Harness, engine: str, limit: int) -> None:
    """However many notices were kept, a stretch reads a page of their positions; the log past it waits for the
    next stretch, so every message and notice is read once, in order."""
    author = Identity.generate()
    await server.member(author)
    await peers(server)
    posts = await publish_posts(server, author, 3)
    start = await server.state.store.last_seq() - 3
    for n, post in enumerate(posts):
        await heard(server.state, FAR.public_key, {post}, [refusal(post, f"no {n}")])
    [later] = await publish_posts(server, author, 1, text="later")
    seen: list[tuple[int, str, str]] = []
    after = start
    while (read := await live.stretch(server.state.store, after, limit)).upto > after:
        got = [(at, "message", json.loads(e.raw)["id"]) for at, e in read.shown]
        got += [(t.at, "withheld", t.id) for t in read.withheld]
        assert all(after < at <= read.upto for at, _, _ in got)
        seen += sorted(got)
        after = read.upto
    expected = [*[("message", p) for p in posts], *[("withheld", p) for p in posts], ("message", later)]
    assert [(what, i) for _, what, i in seen] == expected
    assert [at for at, _, _ in seen] == list(range(start + 1, start + 8))


async def test_the_notifications_page_carries_what_peers_withheld_of_its_messages(server: Harness) -> None:
    me, replier = Identity.generate(), Identity.generate()
    mine = await server.member(me)
    await server.member(replier)
    await peers(server)
    [root] = await publish_posts(server, me, 1, text="lunch?")
    reply = sign_draft(replier, {"body": {"text": "yes"}, "tags": [["reply", root], ["root", root]]})
    await server.client(replier).publish(reply)
    await heard(server.state, FAR.public_key, {reply["id"], root}, [refusal(reply["id"], "no replies")])
    page = await mine.notifications()
    assert [i["message"]["id"] for i in page["items"]] == [reply["id"]]
    [notice] = page["withheld"][reply["id"]]
    assert (notice["reason"], notice["verified"]) == ("no replies", True)
    assert set(page["withheld"]) == {reply["id"]}


async def test_what_peers_said_of_a_sealed_message_is_told_only_to_whom_it_is_sealed(server: Harness) -> None:
    """Which peers refused a sealed message, and why, says where it went: ``GET /messages/{id}/withheld`` answers
    a stranger as if the message were not here, as fetching the message does."""
    ada, bo = Speaker.new(at=T - 10_000), Speaker.new(at=T - 10_000)
    await server.state.store.ingest([*ada.events, *bo.events])
    secret = sealed(ada, bo.devices[0].public)
    await server.state.store.ingest([secret])
    await add_peer(server.state.store, FAR.public_key, "http://far.test", name="far", mode="serve-only")
    msg_id = str(secret["id"])
    await heard(server.state, FAR.public_key, {msg_id}, [refusal(msg_id, "nor this")])
    recipient, stranger = await server.member(bo.devices[0].key), await server.member()
    [notice] = (await recipient.withheld(msg_id))["withheld"]
    assert (notice["reason"], notice["verified"]) == ("nor this", True)
    with pytest.raises(ApiError) as refused:
        await stranger.withheld(msg_id)
    assert refused.value.code == "not_found"
