"""A moderator's removal of a post takes its versions with it, as its author's delete does (``murmur.kinds.edit``:
"a delete of the post takes every version with it"): an edit is the post's words, and a removed post's edits
must be neither held, shown by id, nor relayed to peers."""

from __future__ import annotations

from typing import Any

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.federation.answers import tell_removed
from murmur.store import moderation, removals
from tests.federation.conftest import Network
from tests.sync.test_receipts import post


def edit(author: Identity, target: dict[str, Any], text: str) -> dict[str, Any]:
    return sign_draft(author, {"kind": "edit", "body": {"text": text}, "tags": [["target", target["id"]]]})


async def test_a_removed_posts_edits_go_with_it_and_reach_no_peer(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, ada_api = await b.member()
    spam = post(ada, "buy now")
    await ada_api.publish(spam)
    changed = edit(ada, spam, "abuse, edited in")
    await ada_api.publish(changed)
    await moderation.remove(b.state.store, spam["id"], "abuse, reported by three members")
    await a.pull(b)
    assert not await a.has(changed["id"]), "a peer received the removed post's words as its edit"
    assert not await b.has(changed["id"]), "the removed post's edit is still held"


async def test_peers_are_told_of_the_edits_and_one_pushed_later_is_refused(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, ada_api = await a.member()
    spam = post(ada, "buy now")
    changed = edit(ada, spam, "abuse, edited in")
    for message in (spam, changed):
        await ada_api.publish(message)
    await a.push(b)
    gone = await moderation.remove(b.state.store, spam["id"], "abuse")
    assert gone == [spam["id"], changed["id"]]
    [told] = await tell_removed(b.state, gone, "abuse")
    assert (told["key"], told["kept"], told["error"]) == (a.key, 2, "")  # a holds both, and sent them
    [notice] = (await ada_api.withheld(changed["id"]))["withheld"]
    assert (notice["code"], notice["reason"]) == (removals.CODE, removals.refusal_with("abuse"))

    later = edit(ada, spam, "abuse, edited in after the removal")
    await ada_api.publish(later)
    await a.push(b)
    assert not await b.has(later["id"]), "an edit of a removed post was taken in after the removal"
    [refused] = (await ada_api.withheld(later["id"]))["withheld"]
    assert refused["code"] == removals.CODE
