"""A peer's signed notice that it withheld a post reaches the live streams as it is kept (``event: withheld``),
outside the log: it moves no stream's cursor, and a sealed message's notice is told to nobody."""

from __future__ import annotations

import pytest

from murmur.client.api import ApiError
from murmur.keys import Identity
from murmur.receipts import signed
from murmur.server import fanout
from murmur.server.federation.answers import heard
from murmur.store.peers import add_peer
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_stream_fanout import OpenStream, publish_posts
from tests.store.test_sealed_index import T, sealed

FAR = Identity.from_seed(b"\x2a" * 32)


def refusal(msg_id: str, reason: str) -> dict[str, str]:
    return signed(FAR, {"id": msg_id, "status": "refused", "code": "policy", "reason": reason})


async def test_a_notice_kept_reaches_live_streams_and_moves_no_cursor(server: Harness, engine: str) -> None:
    reader, author = Identity.generate(), Identity.generate()
    for who in (reader, author):
        await server.member(who)
    await add_peer(server.state.store, FAR.public_key, "http://far.test", name="far", mode="serve-only")
    ada, bo = Speaker.new(at=T - 10_000), Speaker.new(at=T - 10_000)
    await server.state.store.ingest([*ada.events, *bo.events])
    secret = sealed(ada, bo.devices[0].public)
    await server.state.store.ingest([secret])
    [post] = await publish_posts(server, author, 1)
    async with OpenStream(server, reader) as opened:
        sent = {post, str(secret["id"])}
        answers = [refusal(post, "not here"), refusal(str(secret["id"]), "nor this"), refusal("ab" * 32, "unsent")]
        assert await heard(server.state, FAR.public_key, sent, answers) == 2
        await opened.until(lambda: bool(opened.aside))
        [(event, data)] = opened.aside  # the post's notice; never the sealed message's, nor one not kept
        assert event == "withheld" and data["id"] == post
        [notice] = data["withheld"]
        assert (notice["key"], notice["name"], notice["reason"]) == (FAR.public_key, "far", "not here")
        later = await publish_posts(server, author, 1, text="later")
        await opened.until(lambda: bool(opened.messages()))
        assert opened.messages() == later  # the stream went on from where it was, repeating nothing


async def test_an_event_outside_the_log_leaves_the_cursor_where_the_log_put_it() -> None:
    """A stream that falls behind later reads the log for itself from its cursor: a notice taken in the same
    write as a stretch of the log must leave the cursor past that stretch, neither before it nor beyond."""
    subscriber = fanout.Subscriber("ab" * 32, 5, limit=100)
    stretch = fanout.Batch(5, 9, [(9, b"id: 9\nevent: message\ndata: {}\n\n")])
    notice = fanout.Batch.aside([fanout.withheld_event("cd" * 32, [])])
    assert subscriber.offer(stretch) and subscriber.offer(notice)
    data = await subscriber.take()
    assert data == stretch.data + notice.data and subscriber.cursor == 9
    assert subscriber.offer(notice) and await subscriber.take() == notice.data and subscriber.cursor == 9


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
    assert notice["reason"] == "nor this"
    with pytest.raises(ApiError) as refused:
        await stranger.withheld(msg_id)
    assert refused.value.code == "not_found"
