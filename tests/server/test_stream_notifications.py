"""The live stream's notification events say exactly what the notifications page says of the same message."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.app import create_app
from tests.server.conftest import Harness
from tests.server.streaming import stream_scope
from tests.waiting import BOUND_S


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
    Driven as raw ASGI: httpx's ASGI transport waits for a whole response, and a stream never ends.
    """
    scope = stream_scope(server, identity, query)
    received = bytearray()
    notes: list[dict[str, Any]] = []
    enough, hang_up, opened = asyncio.Event(), asyncio.Event(), asyncio.Event()
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] != "http.response.body":
            return
        received.extend(message.get("body", b""))
        opened.set()
        *events, rest = bytes(received).split(b"\n\n")
        received[:] = rest
        for event in events:
            lines = event.decode().split("\n")
            if "event: notification" in lines:
                notes.extend(json.loads(line[6:]) for line in lines if line.startswith("data: "))
        if len(notes) >= count:
            enough.set()

    serving = asyncio.create_task(create_app(server.state)(scope, receive, send))
    try:
        if then is not None:
            await asyncio.wait_for(opened.wait(), BOUND_S)
            await then()
        await asyncio.wait_for(enough.wait(), BOUND_S)
    finally:
        hang_up.set()
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    return notes


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
