"""The compose preview (``murmur post --dry-run``, ``GET /api/v1/audience``: ``murmur.store.trust.recipients``)
asks the very rule delivery asks (``murmur.store.audience.for_peers``), of the message before it is stored: so
for any message, in any thread, the preview names exactly the peers that push and pull then hand it to. Threads
are drawn at random: posts of every audience, replies and reactions signed public by clients that did not know
(or signing a scope), deletes anywhere up a thread, and peers confirming (signed) what they hold. Delivery reads
what the store kept of each message as it came and went (``murmur.store.audience.adrift``), the preview computes
it from what the message names: so every message held is asked again after every change, long chains included."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.receipts import signed
from murmur.store import Store, receipts, trust
from murmur.store.peers import add_peer, outbound
from tests.sync.test_scopes import T0

LABELS = {"inside": ["inside"], "team": ["inside", "team"], "outside": ["outside"], "bare": []}
VISIBILITIES = ["public", "public", "public", "local", "scope:inside", "scope:team"]


@dataclass
class Thread:
    """What a random walk has written so far, and who signed it."""

    rng: random.Random
    authors: list[Identity] = field(default_factory=lambda: [Identity.generate() for _ in range(3)])
    written: list[tuple[Identity, dict[str, Any]]] = field(default_factory=list)
    count: int = 0

    def sign(self, author: Identity, draft: dict[str, Any]) -> dict[str, Any]:
        self.count += 1
        message = sign_draft(author, {"created_at": T0 + self.count, **draft})
        self.written.append((author, message))
        return message

    def next(self) -> tuple[dict[str, Any], list[str]]:
        """A new message and the ids it names, as the preview is asked them (a reply's parent and root)."""
        author = self.rng.choice(self.authors)
        visibility = self.rng.choice(VISIBILITIES)
        posts = [m for _, m in self.written if m["kind"] == "post"]
        roll = self.rng.random()
        if not posts or roll < 0.2:
            return self.sign(author, {"body": {"text": f"post {self.count}", "visibility": visibility}}), []
        if roll < 0.45:
            tags = [["target", self.rng.choice(posts)["id"]]]
            body: dict[str, Any] = {"emoji": "+1"} | ({} if visibility == "public" else {"visibility": visibility})
            return self.sign(author, {"kind": "reaction", "body": body, "tags": tags}), [tags[0][1]]
        if roll < 0.6:
            mine = [(a, m) for a, m in self.written if m["kind"] in ("post", "reaction")]
            owner, target = self.rng.choice(mine)
            body = {"visibility": target["body"]["visibility"]} if "visibility" in target["body"] else {}
            if self.rng.random() < 0.5:
                body = {}  # a client that did not know signs no audience
            message = self.sign(owner, {"kind": "delete", "body": body, "tags": [["target", target["id"]]]})
            return message, [target["id"]]
        # Half the replies answer the newest post or reply: chains grow long, as a conversation's do.
        parent = posts[-1] if self.rng.random() < 0.5 else self.rng.choice(posts)
        root = next((v for n, v in parent["tags"] if n == "root"), parent["id"])
        draft = {"body": {"text": f"reply {self.count}", "visibility": visibility}}
        message = self.sign(author, {**draft, "tags": [["reply", parent["id"]], ["root", root]]})
        return message, sorted({parent["id"], root})


def names_of(message: dict[str, Any]) -> list[str]:
    """The ids a message names, as the preview is asked them."""
    return sorted({v for n, v in message["tags"] if n in ("reply", "root", "target")})


async def every_held_agrees(store: Store, peers: dict[str, Identity], thread: Thread) -> int:
    """Asks the preview again of every message held (what it would be told now) and compares it with delivery."""
    compared = 0
    for _, message in thread.written:
        async with store.conn.execute("SELECT seq FROM messages WHERE id = ?", (bytes.fromhex(message["id"]),)) as c:
            row = await c.fetchone()
        if row is None or message["kind"] == "delete":  # no preview: see the test below
            continue
        seq = int(row[0])
        visibility = message["body"].get("visibility", "public")
        shown = {r.name for r in await trust.recipients(store, visibility, names_of(message))}
        assert shown == await delivered(store, peers, seq), message
        compared += 1
    return compared


async def delivered(store: Store, peers: dict[str, Identity], seq: int) -> set[str]:
    """The peers push and pull hand the message stored at ``seq`` to, as they ask the log."""
    found = set()
    for name, peer in peers.items():
        page = await outbound(store, after=seq - 1, limit=1, exclude_origin=None, to=peer.public_key)
        if page.entries:
            found.add(name)
    return found


@pytest.mark.parametrize("seed", range(6))
async def test_the_preview_names_exactly_the_peers_that_then_receive_the_message(store: Store, seed: int) -> None:
    server = Identity.generate()
    peers = {name: Identity.generate() for name in LABELS}
    for name, peer in peers.items():
        await add_peer(store, peer.public_key, f"http://{name}.test", name=name)
        if LABELS[name]:
            await trust.set_labels(store, server, peer.public_key, LABELS[name])
    thread = Thread(random.Random(seed))
    compared = 0
    for _ in range(40):
        message, names = thread.next()
        shown = {r.name for r in await trust.recipients(store, message["body"].get("visibility", "public"), names)}
        [result] = await store.ingest([message])
        # A delete removes the post it names as it is stored: what it is narrowed by is gone by then (it goes
        # only to the peers that confirmed the post; its author is told, ``held_back``), so it has no preview.
        if result.status != "stored" or message["kind"] == "delete":
            continue
        assert shown == await delivered(store, peers, result.seq), (message, names)
        compared += 1
        if thread.rng.random() < 0.3:  # a peer confirms, signed, one message it was sent
            _, held = thread.rng.choice(thread.written)
            name = thread.rng.choice(list(peers))
            line = signed(peers[name], {"id": held["id"], "status": "stored", "code": "", "reason": ""})
            await receipts.note(store, peers[name].public_key, {held["id"]}, [line])
        if thread.count % 10 == 0:
            await every_held_agrees(store, peers, thread)
    assert compared >= 20
    assert await every_held_agrees(store, peers, thread) >= 15


async def test_a_reply_chosen_for_team_in_an_inside_thread_is_not_signed_for_all_of_inside(store: Store) -> None:
    """`murmur post --reply-to X --audience team` in a thread addressed to `inside`: the server answers the
    thread's audience `scope:inside+scope:team`; the reply signs the author's `team` (never the thread's first
    scope in its place, which reached every inside peer, team or not), and delivery, asked of what is signed,
    hands it to exactly the peers the preview named: those labelled both."""
    from murmur.client.audience import signed_preview
    from tests.sync.test_scopes import post

    inside_only, team = Identity.generate().public_key, Identity.generate().public_key
    for key, labels in ((inside_only, ["inside"]), (team, ["inside", "team"])):
        await add_peer(store, key, f"http://{key[:8]}.test")
        await trust.set_labels(store, Identity.generate(), key, labels)
    parent = post(Identity.generate(), "inside only", "scope:inside")
    await store.ingest([parent])

    async def ask(visibility: str, names: list[str]) -> dict[str, Any]:
        found = await trust.recipients(store, visibility, names)
        return {"audience": await trust.audience_of(store, visibility, names), "servers": [r.as_dict() for r in found]}

    signed_as, answer = await signed_preview(ask, "scope:team", [parent["id"]])
    assert signed_as == "scope:team"
    assert answer["audience"] == "scope:inside+scope:team"
    assert {s["key"] for s in answer["servers"]} == {team}
    reply = post(Identity.generate(), "team only", signed_as, parent=parent)
    [result] = await store.ingest([reply])
    for key, reaches in ((team, True), (inside_only, False)):
        page = await outbound(store, after=result.seq - 1, limit=1, exclude_origin=None, to=key)
        assert bool(page.entries) is reaches, key
