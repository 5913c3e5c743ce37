"""Threads: the tree is the same whatever order its posts arrive in, and missing parents keep their children."""

from __future__ import annotations

import itertools
import json

from store_people import T0, Person

from murmur.store import Store
from murmur.store.threads import ThreadNode, thread


def shape(node: ThreadNode) -> object:
    """The tree as nested (text or None, [children]) for comparing."""
    text = json.loads(node.item.raw)["body"]["text"] if node.item is not None else None
    return (text, [shape(c) for c in node.children])


async def test_tree_is_the_same_in_every_arrival_order(tmp_path, ann: Person, ben: Person, cat: Person) -> None:
    root = ann.post("root", at=T0)
    a = ben.post("a", reply=root, at=T0 + 20)
    b = cat.post("b", reply=root, at=T0 + 10)
    a1 = ann.post("a1", reply=a, at=T0 + 30)
    expected = ("root", [("b", []), ("a", [("a1", [])])])
    for n, order in enumerate(itertools.permutations([root, a, b, a1])):
        async with await Store.open(tmp_path / f"t{n}.db") as store:
            for message in order:
                await store.ingest([message])
            for start in (root, a, b, a1):
                found = await thread(store, start["id"])
                assert found is not None and shape(found.root) == expected
                assert (found.size, found.truncated) == (3, False)
                assert found.root.id == root["id"]


async def test_equal_times_order_by_id(store: Store, ann: Person, ben: Person) -> None:
    root = ann.post("root")
    x, y = ben.post("x", reply=root, at=T0 + 5), ann.post("y", reply=root, at=T0 + 5)
    await store.ingest([root, y, x])
    found = await thread(store, root["id"])
    assert found is not None
    assert [c.id for c in found.root.children] == sorted([x["id"], y["id"]])


async def test_a_reply_dated_ahead_sits_at_its_arrival(store: Store, ann: Person, ben: Person) -> None:
    """A clock running ahead (within the 10-minute skew) cannot put a reply after the replies written after it."""
    now = T0 + 10_000_000
    root = ann.post("root", at=now - 60_000)
    ahead = ben.post("dated 9 minutes ahead", reply=root, at=now + 540_000)
    await store.ingest([root, ahead], now=now)
    after = ann.post("written after it arrived", reply=root, at=now + 1_000)
    await store.ingest([after], now=now + 2_000)
    found = await thread(store, root["id"])
    assert found is not None and shape(found.root) == (
        "root", [("dated 9 minutes ahead", []), ("written after it arrived", [])]
    )  # fmt: skip


async def test_missing_parent_and_missing_root_get_placeholders(store: Store, ann: Person, ben: Person) -> None:
    root = ann.post("root")
    middle = ben.post("middle", reply=root)
    leaf = ann.post("leaf", reply=middle)
    await store.ingest([root, leaf])  # middle never arrives
    found = await thread(store, leaf["id"])
    assert found is not None and shape(found.root) == ("root", [(None, [("leaf", [])])])
    assert found.root.children[0].id == middle["id"]

    await store.ingest([ann.delete(root)])  # the root is deleted; the replies stay reachable
    found = await thread(store, leaf["id"])
    assert found is not None and shape(found.root) == (None, [(None, [("leaf", [])])])
    assert found.root.id == root["id"]
    assert await thread(store, root["id"]) is not None


async def test_reply_counts_in_thread_and_unknown_ids(store: Store, ann: Person, ben: Person) -> None:
    root = ann.post("root")
    await store.ingest([root, ben.post("r1", reply=root), ben.post("r2", reply=root), ben.react(root)])
    found = await thread(store, root["id"])
    assert found is not None and found.root.item is not None
    assert (found.root.item.replies, found.root.item.reactions) == (2, 1)
    assert await thread(store, "0" * 64) is None
    reaction = ben.react(root)
    await store.ingest([reaction])
    assert await thread(store, reaction["id"]) is None


async def test_thread_is_bounded(store: Store, ann: Person, ben: Person) -> None:
    root = ann.post("root")
    await store.ingest([root] + [ben.post(f"r{i}", reply=root) for i in range(5)])
    found = await thread(store, root["id"], max_replies=3)
    assert found is not None and (found.size, found.truncated) == (3, True)
    assert [json.loads(c.item.raw)["body"]["text"] for c in found.root.children if c.item] == ["r0", "r1", "r2"]


async def test_long_chain_does_not_recurse(store: Store, ann: Person) -> None:
    root = ann.post("root")
    chain, parent = [root], root
    for i in range(300):
        parent = ann.post(f"c{i}", reply=parent)
        chain.append(parent)
    await store.ingest(chain)
    found = await thread(store, parent["id"])
    assert found is not None and found.size == 300
    depth, node = 0, found.root
    while node.children:
        node, depth = node.children[0], depth + 1
    assert depth == 300
