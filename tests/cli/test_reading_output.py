"""What the reading commands show of other people's posts: content warnings folded, long posts folded,
replies marked (orphans too), and ``--json`` without what failed verification unless asked for."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from murmur.keys import Identity, fingerprint
from murmur.message import sign_draft
from tests.cli.fakehome import FakeHome

ALICE = Identity.from_seed(b"\x02" * 32)
BOB = Identity.from_seed(b"\x03" * 32)
NAMES = {ALICE.public_key: "Alice", BOB.public_key: "Bob"}
AT = 1_700_000_000_000


def post(who: Identity, text: str, *, reply_to: str | None = None, **body: Any) -> dict[str, Any]:
    tags = [["reply", reply_to], ["root", reply_to]] if reply_to else []
    return sign_draft(who, {"kind": "post", "body": {"text": text, **body}, "tags": tags}, created_at=AT)


def item(message: dict[str, Any], seq: int = 1) -> dict[str, Any]:
    counts = {"replies": 0, "reactions": 0, "boosts": 0}
    return {"seq": seq, "message": message, "boosted_by": None, "boost": None, "counts": counts, "origin": "local"}


def forged(message: dict[str, Any]) -> dict[str, Any]:
    altered = json.loads(json.dumps(message))
    altered["body"]["text"] = "forged words"
    return altered


def page(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    items = [item(m, len(messages) - i) for i, m in enumerate(messages)]
    return {"items": items, "next_cursor": None, "names": NAMES, **extra}


WARNED = post(ALICE, "the ending is a twist", cw="spoilers")


def serve_everywhere(fake: FakeHome, *messages: dict[str, Any]) -> None:
    """The same posts as a timeline, a thread under the first, search results and notifications."""
    fake.answer("/api/v1/timelines/home", page(*messages))
    first, *rest = messages
    children = [{"id": m["id"], "parent": first["id"], "item": item(m), "children": []} for m in rest]
    root = {"id": first["id"], "parent": None, "item": item(first), "children": children}
    fake.answer(
        f"/api/v1/threads/{first['id']}", {"root": root, "size": len(messages), "truncated": False, "names": NAMES}
    )
    fake.answer("/api/v1/search", {"posts": page(*messages)["items"], "names": NAMES})
    notices = [
        {"seq": i + 1, "kind": "reply", "actor": m["author"], "target_id": None, "message": m}
        for i, m in enumerate(messages)
    ]
    fake.answer("/api/v1/notifications", {"items": notices, "next_cursor": None, "unread": 0, "names": NAMES})


def commands(first_id: str) -> list[list[str]]:
    return [["timeline"], ["thread", first_id], ["search", "twist"], ["notifications"]]


def test_a_content_warning_folds_the_text_everywhere_until_asked(fake_home: FakeHome) -> None:
    serve_everywhere(fake_home, WARNED)
    for command in commands(WARNED["id"]):
        folded = fake_home.run(*command)
        assert folded.exit_code == 0, folded.output
        assert "spoilers" in folded.stdout and "twist" not in folded.stdout.replace("search twist", ""), command
        assert "--show-cw" in folded.stdout, command
        shown = fake_home.run(*command, "--show-cw")
        assert "the ending is a twist" in shown.stdout, command


LONG_CASES = {
    "500 newlines": "start" + "\n" * 500 + "end",
    "one long line": "x" * 5000,
    "many short lines": "\n".join(f"line {i}" for i in range(300)),
}


@pytest.mark.parametrize("text", list(LONG_CASES.values()), ids=list(LONG_CASES))
def test_a_long_post_is_folded_with_a_marker_and_shown_whole_with_full(fake_home: FakeHome, text: str) -> None:
    long = post(ALICE, text)
    serve_everywhere(fake_home, long)
    for command in commands(long["id"])[:3]:
        folded = fake_home.run(*command)
        assert folded.exit_code == 0, folded.output
        assert len(folded.stdout.splitlines()) < 25 and len(folded.stdout) < 2000, command
        assert "more line" in folded.stdout or "more characters" in folded.stdout
        assert "(--full shows all)" in folded.stdout
        whole = fake_home.run(*command, "--full")
        assert text in whole.stdout.replace("\n  ", "\n").replace("\n      ", "\n"), command
        assert "--full shows all" not in whole.stdout


def test_replies_are_marked_and_an_orphan_says_its_parent_is_not_here(fake_home: FakeHome) -> None:
    parent = post(ALICE, "the proposal")
    answer = post(BOB, "agreed", reply_to=parent["id"])
    elsewhere = post(ALICE, "an older thing")
    to_elsewhere = post(BOB, "about that older thing", reply_to=elsewhere["id"])
    lost = "ef" * 32
    orphan = post(BOB, "answering something gone", reply_to=lost)
    fake_home.answer("/api/v1/timelines/home", page(answer, parent, to_elsewhere, orphan))
    fake_home.answer(f"/api/v1/messages/{elsewhere['id']}", elsewhere)
    out = fake_home.run("timeline").stdout
    assert f"↳ in reply to Alice ({fingerprint(ALICE.public_key)}) · {parent['id'][:12]}" in out
    assert f"↳ in reply to Alice ({fingerprint(ALICE.public_key)}) · {elsewhere['id'][:12]}" in out
    assert f"↳ in reply to a post this server does not have ({lost[:12]})" in out
    blocks = out.split("\n\n")
    assert "↳" not in next(b for b in blocks if "the proposal" in b)


def test_a_thread_marks_the_reply_under_a_missing_parent(fake_home: FakeHome) -> None:
    root = post(ALICE, "root post")
    lost = "ef" * 32
    orphan = post(BOB, "answering something gone", reply_to=lost)
    node = {"id": orphan["id"], "parent": lost, "item": item(orphan), "children": []}
    missing = {"id": lost, "parent": root["id"], "item": None, "children": [node]}
    tree = {"id": root["id"], "parent": None, "item": item(root), "children": [missing]}
    fake_home.answer(f"/api/v1/threads/{root['id']}", {"root": tree, "size": 2, "truncated": False, "names": NAMES})
    out = fake_home.run("thread", root["id"]).stdout
    assert f"(a post this server does not have: {lost[:12]})" in out
    assert f"↳ in reply to a post this server does not have ({lost[:12]})" in out


def test_json_leaves_out_what_failed_verification_unless_asked(fake_home: FakeHome) -> None:
    good = post(ALICE, "genuine")
    bad = forged(post(BOB, "original"))
    serve_everywhere(fake_home, good, bad)
    for command in commands(good["id"]):
        result = fake_home.run(*command, "--json")
        assert result.exit_code == 0, result.output
        assert "forged words" not in result.stdout, command
        assert "genuine" in result.stdout, command
        assert "left out 1 message that failed verification" in result.stderr, command
        assert "--include-unverified" in result.stderr
        included = fake_home.run(*command, "--json", "--include-unverified")
        assert '"verified":false' in included.stdout and "forged words" in included.stdout, command
        assert included.stderr == ""


def test_json_of_a_thread_keeps_the_shape_around_a_forged_node(fake_home: FakeHome) -> None:
    good = post(ALICE, "genuine")
    bad = forged(post(BOB, "original"))
    serve_everywhere(fake_home, good, bad)
    tree = json.loads(fake_home.run("thread", good["id"], "--json").stdout)["root"]
    assert tree["item"]["verified"] is True
    assert tree["children"][0]["id"] == bad["id"] and tree["children"][0]["item"] is None


def test_human_output_hides_a_forged_post(fake_home: FakeHome) -> None:
    serve_everywhere(fake_home, post(ALICE, "genuine"), forged(post(BOB, "original")))
    out = fake_home.run("timeline").stdout
    assert "forged words" not in out and "failed verification was hidden" in out


def test_invisible_characters_in_names_show_and_a_shared_name_is_flagged(fake_home: FakeHome) -> None:
    twin = Identity.from_seed(b"\x04" * 32)
    names = {ALICE.public_key: "Alice", twin.public_key: "Ali\u200bce\u3164", BOB.public_key: "Bob"}
    shared = sorted([ALICE.public_key, twin.public_key])
    timeline = page(post(ALICE, "one"), post(twin, "two"), post(BOB, "three"))
    fake_home.answer("/api/v1/timelines/home", {**timeline, "names": names, "shared_names": shared})
    out = fake_home.run("timeline").stdout
    assert f"Alice ({fingerprint(ALICE.public_key)}) ⚠ name also used by another key" in out
    assert f"Ali<U+200B>ce<U+3164> ({fingerprint(twin.public_key)}) ⚠ name also used by another key" in out
    assert f"Bob ({fingerprint(BOB.public_key)})\n" in out.replace(" · ", "\n")
    fake_home.answer(
        f"/api/v1/profiles/{twin.public_key}",
        {"key": twin.public_key, "name": "Ali\u200bce", "name_shared": True, "followers": 0},
    )
    shown = fake_home.run("profile", twin.public_key).stdout
    assert shown.startswith("Ali<U+200B>ce  ") and "⚠ name also used by another key" in shown.splitlines()[0]
    members = [
        {"key": ALICE.public_key, "role": "member", "joined_at": 1, "name": "Alice", "name_shared": True},
        {"key": BOB.public_key, "role": "member", "joined_at": 2, "name": "Bob", "name_shared": False},
    ]
    fake_home.answer("/api/v1/members", {"members": members})
    listed = fake_home.run("members").stdout.splitlines()
    assert listed[0].endswith("Alice  ⚠ name also used by another key") and listed[1].endswith("Bob")


def test_a_names_map_of_the_wrong_shape_is_ignored_not_a_traceback(fake_home: FakeHome) -> None:
    fake_home.answer(
        "/api/v1/timelines/home",
        {**page(post(ALICE, "hi")), "names": {ALICE.public_key: 5}, "shared_names": "everyone"},
    )
    result = fake_home.run("timeline")
    assert result.exit_code == 0 and f"({fingerprint(ALICE.public_key)})" in result.stdout


def test_export_mine_leaves_out_a_forgery_and_says_so(fake_home: FakeHome, tmp_path: Path) -> None:
    from murmur.jcs import canonicalize

    me = fake_home.identity
    genuine = sign_draft(me, {"kind": "post", "body": {"text": "mine"}}, created_at=AT)
    altered = forged(sign_draft(me, {"kind": "post", "body": {"text": "also mine"}}, created_at=AT))
    lines = canonicalize(genuine) + b"\n" + json.dumps(altered).encode() + b"\n"
    fake_home.answer_raw("/api/v1/export", lines, {"murmur-cursor": "2", "murmur-more": "0"})
    bundle = tmp_path / "mine.bundle"
    result = fake_home.run("export", "--mine", str(bundle))
    assert result.exit_code == 0, result.output
    assert "left out 1 message that failed verification" in result.stderr
    carried = gzip.decompress(bundle.read_bytes())
    assert b"forged words" not in carried and genuine["id"].encode() in carried


def test_parents_off_the_page_are_asked_about_once_each_and_at_most_a_page(fake_home: FakeHome) -> None:
    from murmur.client.cli.reading import MAX_PARENT_LOOKUPS

    parents = [post(ALICE, f"parent {i}") for i in range(MAX_PARENT_LOOKUPS + 5)]
    replies = [post(BOB, f"reply {i} {j}", reply_to=p["id"]) for i, p in enumerate(parents) for j in range(2)]
    fake_home.answer("/api/v1/timelines/home", page(*replies))
    for parent in parents:
        fake_home.answer(f"/api/v1/messages/{parent['id']}", parent)
    out = fake_home.run("timeline", "--limit", "100").stdout
    lookups = [path for path in fake_home.asked if path.startswith("/api/v1/messages/")]
    assert len(lookups) == len(set(lookups)) == MAX_PARENT_LOOKUPS
    assert out.count("↳ in reply to Alice") == 2 * MAX_PARENT_LOOKUPS and out.count("↳ in reply to ") == len(replies)
