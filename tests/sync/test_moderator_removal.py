"""A moderator's removal of a message: gone here and refused whenever it comes back (``removed``, with the
reason), and the peers holding it are told, signed, so their readers see "withheld by X: reason" in threads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import MurmurClient
from murmur.client.render import Context, render_thread
from murmur.errors import Refused
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.receipts import verifies
from murmur.server.federation.answers import tell_removed
from murmur.store import Store, moderation
from murmur.store.gaps import gaps
from tests.cli.datadir import data_dir, invoke  # noqa: F401 (data_dir: the fixture `data`)
from tests.counted import stream
from tests.federation.conftest import Network, Node
from tests.store_helpers import sign_now
from tests.sync.test_receipts import post


async def _spam_on_both(net: Network) -> tuple[Node, Node, MurmurClient, dict[str, Any]]:
    """Ada's post on a, pushed to b, whose moderator is about to remove it."""
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    await sign_now(a.state.store, a.state.identity)  # Ada's client names a peer only if a's manifest lists it
    ada, ada_api = await a.member()
    spam = post(ada, "buy now")
    await ada_api.publish(spam)
    await a.push(b)
    return a, b, ada_api, spam


async def test_a_removal_is_told_to_peers_and_shown_in_their_threads(net: Network) -> None:
    a, b, ada_api, spam = await _spam_on_both(net)
    await moderation.remove(b.state.store, spam["id"], "spam, reported by three members")
    assert not await b.has(spam["id"])
    [told] = await tell_removed(b.state, [spam["id"]], "spam, reported by three members")
    assert (told["key"], told["kept"], told["error"]) == (a.key, 1, "")

    [notice] = (await ada_api.withheld(spam["id"]))["withheld"]
    assert notice["key"] == b.key and notice["code"] == "removed" and verifies(b.key, {**notice, "id": spam["id"]})
    answer = await ada_api.thread(spam["id"])
    lines = render_thread(answer["root"], Context.of(answer))
    assert any(
        line.strip().startswith("withheld by b (") and "removed it: spam, reported by three members" in line
        for line in lines
    )


async def test_a_removed_message_is_refused_whenever_it_comes_back(net: Network) -> None:
    a, b, ada_api, spam = await _spam_on_both(net)
    await moderation.remove(b.state.store, spam["id"], "spam")
    [result] = await b.state.store.ingest([spam])
    assert (result.status, result.code) == ("refused", "removed") and "spam" in (result.reason or "")
    report = await a.federator.repair(await a.peer(b))  # a finds b lacking it and pushes it again
    assert report.sent_refused == 1 and not await b.has(spam["id"])
    [notice] = (await ada_api.withheld(spam["id"]))["withheld"]
    assert notice["code"] == "removed"


async def test_a_removed_counted_message_is_told_to_readers_and_never_repaired(net: Network) -> None:
    b = await net.node("b")
    ada = Identity.generate()
    posts = stream(ada, 3)
    await b.state.store.ingest(posts)
    await moderation.remove(b.state.store, posts[1]["id"], "off topic")
    [gap] = await gaps(b.state.store, [ada.public_key])
    assert gap.ranges == ((2, 2),) and gap.removed == ((2, "off topic"),) and gap.to_repair() == []


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
async def test_a_removal_says_why(net: Network, reason: str) -> None:
    b = await net.node("b")
    [message] = stream(Identity.generate(), 1)
    await b.state.store.ingest([message])
    with pytest.raises(Refused) as refused:
        await moderation.remove(b.state.store, message["id"], reason)
    assert refused.value.code == "bad_request" and await b.has(message["id"])


async def test_only_a_held_message_is_removed(net: Network) -> None:
    b = await net.node("b")
    with pytest.raises(Refused) as refused:
        await moderation.remove(b.state.store, "ab" * 32, "spam")
    assert refused.value.code == "not_found"


def test_the_admin_command_removes_and_reports(data: Path) -> None:
    absent = invoke("admin", "remove", "--data", str(data), "ab" * 32, "--reason", "spam")
    assert absent.exit_code == 1 and "No such message" in absent.stderr
    usage = invoke("admin", "remove", "--data", str(data), "zz", "--reason", "spam")
    assert usage.exit_code == 2
    [message] = stream(Identity.generate(), 1)

    async def hold() -> None:  # the message arrives in the data directory's store, as the server would hold it
        store = await Store.open(data / "murmur.db")
        try:
            await store.ingest([message])
        finally:
            await store.close()

    asyncio.run(hold())
    done = invoke("admin", "remove", "--data", str(data), message["id"][:12], "--reason", "spam", "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout) == {"removed": message["id"], "with": [], "peers": []}
    again = invoke("admin", "remove", "--data", str(data), message["id"], "--reason", "spam")
    assert again.exit_code == 1


def test_the_admin_command_names_what_went_with_the_message(data: Path) -> None:
    ada = Identity.generate()
    spam = post(ada, "buy now")
    changed = sign_draft(ada, {"kind": "edit", "body": {"text": "buy twice"}, "tags": [["target", spam["id"]]]})

    async def hold() -> None:
        store = await Store.open(data / "murmur.db")
        try:
            await store.ingest([spam, changed])
        finally:
            await store.close()

    asyncio.run(hold())
    done = invoke("admin", "remove", "--data", str(data), spam["id"], "--reason", "spam")
    assert done.exit_code == 0, done.stderr
    assert "Removed " + spam["id"] + " and 1 message(s) that went with it" in done.stdout
