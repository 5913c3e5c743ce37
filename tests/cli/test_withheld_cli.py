"""``murmur timeline`` and ``murmur thread`` say under a post what a peer withheld of it and why, from the
server's signed notices; ``--json`` keeps them as ``withheld``. What the notice names comes from a peer: shown
inert, never as terminal controls."""

from __future__ import annotations

import json

from murmur.keys import Identity
from tests.cli.fakehome import FakeHome
from tests.cli.test_reading_output import ALICE, NAMES, item, page, post

FAR = Identity.from_seed(b"\x31" * 32).public_key
NOTICE = {"key": FAR, "name": "far", "status": "refused", "code": "policy", "reason": "no lunch", "sig": "", "at": 1}
HOSTILE = {**NOTICE, "name": "f\x1b[2Jar", "reason": "no\x1b]0;owned\x07 lunch\u202e\nhere"}


def test_a_timeline_says_what_a_peer_withheld_under_the_post(fake_home: FakeHome) -> None:
    held, free = post(ALICE, "about lunch"), post(ALICE, "about tea")
    answer = page(held, free, withheld={held["id"]: [NOTICE, HOSTILE], "junk": "not a list"})
    fake_home.answer("/api/v1/timelines/home", answer)
    ran = fake_home.run("timeline")
    assert ran.exit_code == 0, ran.output
    lines = ran.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if "about lunch" in line)
    assert f"withheld by far ({FAR[:16]}): no lunch" in lines[at + 2]  # under the post, after its counts
    assert ran.stdout.count("withheld by") == 2  # the hostile one too, inert; nothing under the other post
    assert "\x1b" not in ran.stdout and "\x07" not in ran.stdout and "\u202e" not in ran.stdout
    as_json = json.loads(fake_home.run("timeline", "--json").stdout)
    assert as_json["withheld"][held["id"]] == [NOTICE, HOSTILE]


def test_a_thread_says_it_under_each_post(fake_home: FakeHome) -> None:
    root, reply = post(ALICE, "thoughts?"), post(ALICE, "lunch!", reply_to=None)
    node = {"id": root["id"], "parent": None, "item": item(root), "children": [
        {"id": reply["id"], "parent": root["id"], "item": item(reply, 2), "children": []},
    ]}  # fmt: skip
    answer = {"root": node, "size": 1, "truncated": False, "names": NAMES, "withheld": {reply["id"]: [NOTICE]}}
    fake_home.answer(f"/api/v1/threads/{root['id']}", answer)
    ran = fake_home.run("thread", root["id"])
    assert ran.exit_code == 0, ran.output
    assert ran.stdout.count(f"withheld by far ({FAR[:16]}): no lunch") == 1
    assert ran.stdout.index("lunch!") < ran.stdout.index("withheld by far")
    assert json.loads(fake_home.run("thread", root["id"], "--json").stdout)["withheld"] == {reply["id"]: [NOTICE]}
