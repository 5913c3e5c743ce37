"""The live stream's notification events say exactly what the notifications page says of the same message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from murmur.keys import Identity
from murmur.message import sign_draft
from tests.identity_logs import LAPTOP, PHONE, Log
from tests.server.conftest import Harness
from tests.server.streaming import Event, stream_events


async def stream_notifications(
    server: Harness,
    identity: Identity,
    count: int,
    *,
    query: str = "cursor=0",
    then: Callable[[], Awaitable[object]] | None = None,
) -> list[dict[str, Any]]:
    """The first ``count`` notification events of the stream (by default resumed from the start of the log).

    ``then`` runs once the stream has opened (its position fixed), while it is listening.
    """

    def told(events: list[Event]) -> list[dict[str, Any]]:
        return [data for name, data in events if name == "notification"]

    events = await stream_events(server, identity, lambda seen: len(told(seen)) >= count, query=query, then=then)
    return told(events)[:count]


async def test_stream_notifications_match_the_notifications_page(server: Harness) -> None:
    ada, bob, cy = Identity.generate(), Identity.generate(), Identity.generate()
    api_ada, api_bob, api_cy = await server.member(ada), await server.member(bob), await server.member(cy)
    post = sign_draft(ada, {"body": {"text": "a question"}})
    await api_ada.publish(post)
    reply = sign_draft(bob, {"body": {"text": "an answer"}, "tags": [["reply", post["id"]], ["root", post["id"]]]})
    await api_bob.publish(reply)
    # a reply to Bob that mentions Ada: a mention for Ada, about no post of hers
    aside = [["reply", reply["id"]], ["root", post["id"]], ["mention", ada.public_key]]
    await api_cy.publish(sign_draft(cy, {"body": {"text": "cc Ada"}, "tags": aside}))
    await api_bob.publish(sign_draft(bob, {"kind": "follow", "body": {}, "tags": [["subject", ada.public_key]]}))
    reaction = [["target", post["id"]], ["mention", ada.public_key]]
    await api_bob.publish(sign_draft(bob, {"kind": "reaction", "body": {"emoji": "👍"}, "tags": reaction}))

    page = (await api_ada.notifications())["items"]
    assert [n["kind"] for n in page] == ["reaction", "follow", "mention", "reply"]
    streamed = await stream_notifications(server, ada, len(page))
    for note in page:
        note.pop("verified", None)  # the client's mark, not the server's
    assert streamed == list(reversed(page))


async def test_what_came_before_the_post_it_is_about_is_told_live_when_the_post_comes(server: Harness) -> None:
    """A reply, a reaction and a boost that arrived before their post: their notices are derived when the post
    arrives, carrying their older seqs, and a stream already past those seqs still tells them, as the
    notifications page does."""
    ada, bob = Identity.generate(), Identity.generate()
    api_ada, api_bob = await server.member(ada), await server.member(bob)
    post = sign_draft(ada, {"body": {"text": "a question"}})
    about = [["target", post["id"]]]
    early = [
        sign_draft(bob, {"body": {"text": "an answer"}, "tags": [["reply", post["id"]], ["root", post["id"]]]}),
        sign_draft(bob, {"kind": "reaction", "body": {"emoji": "👍"}, "tags": about}),
        sign_draft(bob, {"kind": "boost", "body": {}, "tags": about}),
    ]
    for message in early:
        await api_bob.publish(message)
    assert (await api_ada.notifications())["items"] == []

    # Opened at the end of the log, past all three; the post comes while it listens.
    told = await stream_notifications(server, ada, 3, query="", then=lambda: api_ada.publish(post))
    listed = (await api_ada.notifications())["items"]
    for note in listed:
        note.pop("verified", None)
    assert told == list(reversed(listed))
    assert [(n["kind"], n["actor"], n["target_id"]) for n in told] == [
        (kind, bob.public_key, post["id"]) for kind in ("reply", "reaction", "boost")
    ]


async def test_a_notice_shown_once_its_identitys_log_arrives_is_told_live_then(server: Harness) -> None:
    """A device's reply waits, shown nowhere, while the event adding the device is not held: its notice is told
    on the stream when that event arrives, although the stream is already past the reply's seq."""
    made = Log()
    api = await server.member(LAPTOP)
    root = made.post(LAPTOP, "the root")
    for message in (made.events[0], root):
        await api.publish(message)
    added = made.add(LAPTOP, PHONE, "phone")
    tags = [["identity", made.identity], ["reply", root["id"]], ["root", root["id"]]]
    draft = {"kind": "post", "body": {"text": "from the phone"}, "tags": tags}
    reply = sign_draft(PHONE, draft, created_at=made.at + 1)
    await server.state.store.ingest([reply], origin="peer")
    assert (await api.notifications())["items"] == []

    told = await stream_notifications(server, LAPTOP, 1, query="", then=lambda: api.publish(added))
    assert [(n["kind"], n["actor"], n["target_id"]) for n in told] == [("reply", PHONE.public_key, root["id"])]
