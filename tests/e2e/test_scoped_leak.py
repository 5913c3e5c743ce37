"""Three real servers: h and b label each other inside, b relays to o (outside). A client that does not know a post
was scoped (an older one, or one given only the id) signs its reaction, reply or boost public. h narrows it to the
post's audience, and sends it to b only with what narrows it there: with the post, or once b confirmed (signed)
that it holds the post. What names a post deleted before b ever had it goes to no peer, and its author is told
why. Nothing of it reaches o, by push, relay, pull or repair. The preview (``GET /api/v1/audience``) names, each
time, exactly the servers it then reaches."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import MurmurClient
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store.audience import HELD_BACK
from tests.e2e.harness import ServerProcess, admin, stored_ids, wait_for
from tests.e2e.test_scopes import FAST, cli, member, peer

pytestmark = pytest.mark.timeout(480)  # three servers and some thirty CLI processes: past 240 s at load 15-17


def about(author: Identity, kind: str, target: str, emoji: str = "+1") -> dict[str, Any]:
    """What a client that does not know the target is scoped signs: no visibility (public)."""
    if kind == "reply":
        draft = {"body": {"text": "a reply", "visibility": "public"}, "tags": [["reply", target], ["root", target]]}
    else:
        draft = {"kind": kind, "body": {"emoji": emoji} if kind == "reaction" else {}, "tags": [["target", target]]}
    return sign_draft(author, draft)


def publish(proc: ServerProcess, author: Identity, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        async with MurmurClient(proc.url, author) as api:
            return [await api.publish(m) for m in messages]

    return asyncio.run(run())


def preview(proc: ServerProcess, author: Identity, target: str) -> set[str]:
    """The keys the home server's preview names for a message signed public about ``target``."""

    async def run() -> dict[str, Any]:
        async with MurmurClient(proc.url, author) as api:
            return await api.audience("public", [target])

    return {s["key"] for s in asyncio.run(run())["servers"]}


def test_what_an_older_client_signs_public_about_a_scoped_post_stays_in_its_audience(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    h, b, o = (ServerProcess(tmp_path / n, config=FAST).start() for n in "hbo")
    procs.extend([h, b, o])
    peer(b, o, "o")  # unlabelled: outside
    peer(o, b, "b", "outside")
    ada = member(tmp_path, h, "ada")
    old = Identity.generate()

    async def join() -> None:
        async with MurmurClient(h.url, old) as api:
            await api.join(admin(h.data, "invite")["code"])

    asyncio.run(join())

    # A post deleted before b ever had it: what names it, signed public, goes to no peer, and its author is told.
    gone = ada.json("post", "inside, and soon gone", "--audience", "inside")["id"]
    ada.run("delete", gone)
    unsent = [about(old, kind, gone) for kind in ("reaction", "reply", "boost")]
    for answer in publish(h, old, unsent):
        assert answer["status"] == "stored"
        assert answer["held_back"]["code"] == HELD_BACK and "'inside'" in answer["held_back"]["reason"]

    peer(h, b, "b", "inside")
    peer(b, h, "h", "inside")
    assert preview(h, old, gone) == set()  # the preview asks delivery's rule: b is labelled inside, yet never had it
    # Held: what names it goes to b with it, and b narrows it.
    held = ada.json("post", "inside only", "--audience", "inside")["id"]
    wait_for(lambda: held in stored_ids(b))
    assert preview(h, old, held) == {b.key}
    [with_post] = publish(h, old, [about(old, "reaction", held)])
    assert "held_back" not in with_post
    wait_for(lambda: with_post["id"] in stored_ids(b))
    # Deleted after b confirmed it holds it (its signed answer to the push): b still narrows what names it.
    ada.run("delete", held)
    wait_for(lambda: held not in stored_ids(b))
    # b confirmed it, signed: in its answer to h's push, or, if b pulled it first (a declined offer is signed by no
    # one), on b's next request to h, which may come after b applied the delete
    wait_for(lambda: preview(h, old, held) == {b.key})
    assert preview(h, old, held) == {b.key}
    [after_delete] = publish(h, old, [about(old, "reaction", held, emoji="-1")])
    wait_for(lambda: after_delete["id"] in stored_ids(b))

    # Everything else that went o's way has arrived, relayed through b, and the repairs have run.
    marker = ada.json("post", "for everyone")["id"]
    wait_for(lambda: marker in stored_ids(o))
    cli("sync", "--data", str(o.data), "b", "--repair")
    cli("sync", "--data", str(b.data), "h", "--repair")
    cli("sync", "--data", str(b.data), "o", "--repair")
    on_b, on_o = set(stored_ids(b)), set(stored_ids(o))
    assert not {m["id"] for m in unsent} & (on_b | on_o)
    assert not {with_post["id"], after_delete["id"], held, gone} & on_o
