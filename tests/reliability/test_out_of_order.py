"""Out-of-order arrival: messages pushed to a real server in the worst order still give the right views.

The same conversation reaches three servers through the federation API: in the order it was written, one
message per batch in the worst order (every reply, reaction, boost and delete before what it refers to, every
unfollow before its follow), and all at once as one reversed batch. Once everything has arrived, every view a
member sees (timelines, thread, counts, notifications, follow state) is the same on all three, and right.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.conftest import ServerFactory
from tests.reliability.harness import API, Member, Peer, Server, peer_add, raw

pytestmark = pytest.mark.timeout(120)


def conversation(ada: Member, bob: Member, cat: Member) -> dict[str, dict[str, Any]]:
    """A conversation in the order it was written; created_at increases by one second per message."""
    t = 1_700_000_000_000
    out: dict[str, dict[str, Any]] = {}

    def add(name: str, who: Member, draft: dict[str, Any]) -> dict[str, Any]:
        nonlocal t
        t += 1000
        out[name] = who.sign({**draft, "created_at": t})
        return out[name]

    def post(text: str, tags: list[list[str]] | None = None) -> dict[str, Any]:
        return {"kind": "post", "body": {"text": text, "visibility": "public"}, "tags": tags or []}

    root = add("root", ada, post("the root post"))
    reply = add("reply", cat, post("cat replies", [["reply", root["id"]], ["root", root["id"]], ["mention", ada.key]]))
    add("reply2", bob, post("bob answers cat", [["reply", reply["id"]], ["root", root["id"]]]))
    add("reaction", cat, {"kind": "reaction", "body": {"emoji": "🎉"}, "tags": [["target", root["id"]]]})
    add("boost", cat, {"kind": "boost", "body": {}, "tags": [["target", root["id"]]]})
    doomed = add("doomed", bob, post("bob regrets this"))
    add("delete", bob, {"kind": "delete", "body": {}, "tags": [["target", doomed["id"]]]})
    add("doomed_reaction", cat, {"kind": "reaction", "body": {"emoji": "x"}, "tags": [["target", doomed["id"]]]})
    add("follow_bob", ada, {"kind": "follow", "body": {}, "tags": [["subject", bob.key]]})
    add("follow_cat", ada, {"kind": "follow", "body": {}, "tags": [["subject", cat.key]]})
    add("unfollow_cat", ada, {"kind": "unfollow", "body": {}, "tags": [["subject", cat.key]]})
    add("cat_follows_ada", cat, {"kind": "follow", "body": {}, "tags": [["subject", ada.key]]})
    add("kept", bob, post("bob's post that stays"))
    return out


WORST_ORDER = [
    "unfollow_cat",
    "follow_cat",
    "delete",
    "doomed_reaction",
    "doomed",
    "reply2",
    "reaction",
    "boost",
    "reply",
    "kept",
    "cat_follows_ada",
    "follow_bob",
    "root",
]


def views(server: Server, ada: Member, msgs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Everything ada can see, without log positions (those differ between servers by design)."""
    viewer = Member(server.url, ada.identity)
    try:

        def timeline(name: str) -> list[tuple[str, str, list[tuple[str, int]]]]:
            # Timelines are newest first by *local* arrival (docs/api.md), so only their contents must agree.
            page = viewer.get_json(f"{API}/timelines/{name}", limit=100)
            items = [(i["message"]["id"], i["boosted_by"] or "", sorted(i["counts"].items())) for i in page["items"]]
            return sorted(items)

        def tree(node: dict[str, Any]) -> tuple[str, bool, list[Any]]:
            return (node["id"], node["item"] is not None, [tree(child) for child in node["children"]])

        notes = viewer.get_json(f"{API}/notifications", limit=100)
        profile = {
            who: {k: v for k, v in viewer.get_json(f"{API}/profiles/{msgs[name]['author']}").items() if k != "member"}
            for who, name in (("bob", "kept"), ("cat", "reply"))
        }
        return {
            "home": timeline("home"),
            "federated": timeline("federated"),
            "thread": tree(viewer.get_json(f"{API}/threads/{msgs['root']['id']}")["root"]),
            "reply_thread": tree(viewer.get_json(f"{API}/threads/{msgs['reply2']['id']}")["root"]),
            "notifications": sorted((n["kind"], n["actor"], n["message"]["id"]) for n in notes["items"]),
            "unread": notes["unread"],
            "profiles": profile,
            "doomed": viewer.request("GET", f"{API}/messages/{msgs['doomed']['id']}").status_code,
        }
    finally:
        viewer.close()


def deliver(server: Server, batches: list[list[bytes]]) -> list[dict[str, Any]]:
    peer = Peer(server.url)
    peer_add(server, "http://127.0.0.1:9", peer.key, mode="serve-only")
    results: list[dict[str, Any]] = []
    try:
        for batch in batches:
            answer = peer.push(batch)
            assert answer.status_code == 200, answer.text
            results += answer.json()["results"]
    finally:
        peer.close()
    return results


def test_every_view_is_right_whatever_the_arrival_order(make_server: ServerFactory) -> None:
    natural, worst, reversed_batch = make_server("natural"), make_server("worst"), make_server("reversed")
    ada = Member(natural.url)
    for server in (natural, worst, reversed_batch):
        Member(server.url, ada.identity).join().close()
    bob, cat = Member(natural.url), Member(natural.url)
    msgs = conversation(ada, bob, cat)
    in_order = [raw(m) for m in msgs.values()]
    assert sorted(WORST_ORDER) == sorted(msgs)

    deliver(natural, [[line] for line in in_order])
    worst_results = deliver(worst, [[raw(msgs[name])] for name in WORST_ORDER])
    deliver(reversed_batch, [list(reversed(in_order))])
    # A post whose delete is already held is not stored, and says why.
    doomed = next(r for r in worst_results if r.get("id") == msgs["doomed"]["id"])
    assert doomed["status"] == "deleted" and doomed["code"] == "deleted"

    expected = views(natural, ada, msgs)
    assert views(worst, ada, msgs) == expected
    assert views(reversed_batch, ada, msgs) == expected

    # And the views are right, not merely equal.
    ids = {name: m["id"] for name, m in msgs.items()}
    home = [entry[0] for entry in expected["home"]]
    assert ids["kept"] in home and ids["root"] in home and ids["doomed"] not in home
    root_entry = next(e for e in expected["home"] if e[0] == ids["root"] and not e[1])
    assert dict(root_entry[2]) == {"replies": 1, "reactions": 1, "boosts": 1}  # replies: direct answers only
    assert expected["thread"] == (ids["root"], True, [(ids["reply"], True, [(ids["reply2"], True, [])])])
    assert expected["reply_thread"] == expected["thread"]
    assert {(k, a) for k, a, _ in expected["notifications"]} == {
        ("reply", cat.key),
        ("reaction", cat.key),
        ("boost", cat.key),
        ("follow", cat.key),
    }
    assert expected["profiles"]["bob"]["following"] is True
    assert expected["profiles"]["cat"]["following"] is False
    assert expected["profiles"]["cat"]["follows_you"] is True
    assert expected["doomed"] == 404
    for server in (natural, worst, reversed_batch):
        # The deleted post is gone everywhere; cat's reaction to it is cat's own signed message, kept but shown
        # nowhere (the views above agree on that).
        assert not server.ids(f"id = x'{ids['doomed']}'")
        assert server.integrity() == "ok"
    for m in (ada, bob, cat):
        m.close()
