"""A moderator's removal of a post takes its versions with it, as its author's delete does (``murmur.kinds.edit``:
"a delete of the post takes every version with it"): an edit is the post's words, and a removed post's edits
must be neither held, shown by id, nor relayed to peers."""

from __future__ import annotations

import pytest

from murmur.message import sign_draft
from murmur.store import moderation
from tests.federation.conftest import Network
from tests.sync.test_receipts import post


@pytest.mark.xfail(strict=True, reason="review6: a moderator's removal leaves the post's edits held and relayed")
async def test_a_removed_posts_edits_go_with_it_and_reach_no_peer(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, ada_api = await b.member()
    spam = post(ada, "buy now")
    await ada_api.publish(spam)
    edit = sign_draft(ada, {"kind": "edit", "body": {"text": "abuse, edited in"}, "tags": [["target", spam["id"]]]})
    await ada_api.publish(edit)
    await moderation.remove(b.state.store, spam["id"], "abuse, reported by three members")
    await a.pull(b)
    assert not await a.has(edit["id"]), "a peer received the removed post's words as its edit"
    assert not await b.has(edit["id"]), "the removed post's edit is still held"
