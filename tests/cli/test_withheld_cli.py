"""``murmur timeline``, ``thread`` and ``notifications`` say under a post what a peer withheld of it and why, from
the server's signed notices, each checked again here (``murmur.receipts.notice_verifies``): a notice the home
server made up or altered is said to be unverified, and nothing of what it claims is shown. ``--json`` keeps the
notices as ``withheld``, each with this machine's ``verified``. What a notice names comes from a peer: shown
inert, never as terminal controls. A notice is shown under a peer's name only when its key is one the home server's
signed trust manifest lists; any other key is shown as unknown, without the name the server served."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from murmur.client import api
from murmur.keys import Identity
from murmur.receipts import signed
from tests.cli.fakehome import URL, FakeHome
from tests.cli.test_reading_output import ALICE, BOB, NAMES, item, page, post

FAR_ID = Identity.from_seed(b"\x31" * 32)
FAR = FAR_ID.public_key
UNVERIFIED = "unverified withheld notice"


@pytest.fixture
def fake_home(fake_home: FakeHome) -> FakeHome:
    """The home server lists the peer FAR, named far, in its signed trust manifest."""
    fake_home.lists({FAR: "far"})
    return fake_home


def marked(answer: dict[str, Any]) -> dict[str, Any]:
    """A notice by FAR as this reader marks it: verified, and named by the manifest."""
    return {**answer, "verified": True, "signer": "peer", "name": "far"}


def notice(msg_id: str, reason: str = "no lunch", *, name: str = "far", by: Identity = FAR_ID) -> dict[str, Any]:
    """A peer's notice that it withheld ``msg_id``, signed as a peer signs it, in the shape a server serves it."""
    line = signed(by, {"id": msg_id, "status": "refused", "code": "policy", "reason": reason})
    return {"key": by.public_key, "name": name, "status": "refused", "code": "policy", "reason": reason,
            "sig": line["sig"], "at": 1}  # fmt: skip


def forgeries(msg_id: str, other_id: str) -> dict[str, dict[str, Any]]:
    """What a home server could serve as a peer's notice without the peer having signed it."""
    honest = notice(msg_id)
    return {
        "reason altered": {**honest, "reason": "it was spam"},
        "code altered": {**honest, "code": "spam"},
        "key swapped": {**honest, "key": BOB.public_key},
        "about another message": notice(other_id),
        "a receipt as a notice": {
            **honest, "sig": signed(FAR_ID, {"id": msg_id, "status": "stored", "code": "", "reason": ""})["sig"],
            "code": "", "reason": "",
        },
        "unsigned": {**honest, "sig": ""},
        "not hex": {**honest, "sig": "zz" * 64, "key": "k" * 64},
    }  # fmt: skip


def test_a_timeline_says_what_a_peer_withheld_under_the_post(fake_home: FakeHome) -> None:
    held, free = post(ALICE, "about lunch"), post(ALICE, "about tea")
    hostile = notice(held["id"], "no\x1b]0;owned\x07 lunch\u202e\nhere", name="f\x1b[2Jar")
    answer = page(held, free, withheld={held["id"]: [notice(held["id"]), hostile], "junk": "not a list"})
    fake_home.answer("/api/v1/timelines/home", answer)
    ran = fake_home.run("timeline")
    assert ran.exit_code == 0, ran.output
    lines = ran.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if "about lunch" in line)
    assert f"withheld by far ({FAR[:16]}): no lunch" in lines[at + 2]  # under the post, after its counts
    assert ran.stdout.count("withheld by") == 2  # the hostile one too, inert; nothing under the other post
    assert "\x1b" not in ran.stdout and "\x07" not in ran.stdout and "\u202e" not in ran.stdout
    as_json = json.loads(fake_home.run("timeline", "--json").stdout)
    assert as_json["withheld"][held["id"]] == [marked(notice(held["id"])), marked(hostile)]


def test_a_thread_says_it_under_each_post(fake_home: FakeHome) -> None:
    root, reply = post(ALICE, "thoughts?"), post(ALICE, "lunch!", reply_to=None)
    node = {"id": root["id"], "parent": None, "item": item(root), "children": [
        {"id": reply["id"], "parent": root["id"], "item": item(reply, 2), "children": []},
    ]}  # fmt: skip
    held = {reply["id"]: [notice(reply["id"])]}
    answer = {"root": node, "size": 1, "truncated": False, "names": NAMES, "withheld": held}
    fake_home.answer(f"/api/v1/threads/{root['id']}", answer)
    ran = fake_home.run("thread", root["id"])
    assert ran.exit_code == 0, ran.output
    assert ran.stdout.count(f"withheld by far ({FAR[:16]}): no lunch") == 1
    assert ran.stdout.index("lunch!") < ran.stdout.index("withheld by far")
    as_json = json.loads(fake_home.run("thread", root["id"], "--json").stdout)["withheld"]
    assert as_json == {reply["id"]: [marked(notice(reply["id"]))]}


def notifications_page(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    told = {"seq": 3, "kind": "reply", "actor": message["author"], "target_id": None, "message": message}
    return {"items": [told], "next_cursor": None, "unread": 1, "names": NAMES, **extra}


def test_a_notification_says_what_a_peer_withheld_of_its_message(fake_home: FakeHome) -> None:
    reply = post(BOB, "see you at lunch")
    hostile = notice(reply["id"], "no\x1b[31m lunch\nhere", name="f\x1b[2Jar")
    fake_home.answer(
        "/api/v1/notifications", notifications_page(reply, withheld={reply["id"]: [notice(reply["id"]), hostile]})
    )
    ran = fake_home.run("notifications")
    assert ran.exit_code == 0, ran.output
    lines = ran.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if "see you at lunch" in line)
    assert f"withheld by far ({FAR[:16]}): no lunch" in lines[at + 1]  # right under the notification
    assert ran.stdout.count("withheld by") == 2 and "\x1b" not in ran.stdout
    as_json = json.loads(fake_home.run("notifications", "--json").stdout)
    assert [n["verified"] for n in as_json["withheld"][reply["id"]]] == [True, True]


def test_a_notification_nothing_was_withheld_of_says_nothing(fake_home: FakeHome) -> None:
    reply, other = post(BOB, "see you at lunch"), post(ALICE, "elsewhere")
    fake_home.answer("/api/v1/notifications", notifications_page(reply, withheld={other["id"]: [notice(other["id"])]}))
    ran = fake_home.run("notifications")
    assert ran.exit_code == 0, ran.output
    assert "withheld" not in ran.stdout


@pytest.mark.parametrize("how", sorted(forgeries("ab" * 32, "cd" * 32)))
@pytest.mark.parametrize("command", ["timeline", "thread", "notifications"])
def test_a_notice_the_home_server_forged_is_said_to_be_unverified_and_shown_no_further(
    fake_home: FakeHome, how: str, command: str
) -> None:
    held, elsewhere = post(ALICE, "about lunch"), post(ALICE, "about tea")
    forged = forgeries(held["id"], elsewhere["id"])[how]
    withheld = {held["id"]: [forged]}
    if command == "timeline":
        fake_home.answer("/api/v1/timelines/home", page(held, withheld=withheld))
        args = ["timeline"]
    elif command == "thread":
        node = {"id": held["id"], "parent": None, "item": item(held), "children": []}
        answer = {"root": node, "size": 0, "truncated": False, "names": NAMES, "withheld": withheld}
        fake_home.answer(f"/api/v1/threads/{held['id']}", answer)
        args = ["thread", held["id"]]
    else:
        fake_home.answer("/api/v1/notifications", notifications_page(held, withheld=withheld))
        args = ["notifications"]
    ran = fake_home.run(*args)
    assert ran.exit_code == 0, ran.output
    assert ran.stdout.count(UNVERIFIED) == 1, ran.stdout
    assert "withheld by" not in ran.stdout and "spam" not in ran.stdout and "no lunch" not in ran.stdout
    [kept] = json.loads(fake_home.run(*args, "--json").stdout)["withheld"][held["id"]]
    assert kept["verified"] is False


@pytest.mark.parametrize("listed_by", ["this server", "no one", "another key"])
def test_a_notice_signed_by_a_key_the_server_made_up_is_shown_as_unknown_never_under_the_peers_name(
    fake_home: FakeHome, listed_by: str
) -> None:
    """The signature binds the notice to the key it names, not to a peer: a home server that signs with a key of
    its own making under a peer's name is shown as an unknown key, with neither that name nor its words; and so
    is a listed peer's notice when the manifest is not one the home server signed (nobody's word)."""
    held = post(ALICE, "about lunch")
    made_up = Identity.from_seed(b"\x77" * 32)
    by = made_up if listed_by == "this server" else FAR_ID
    if listed_by == "no one":
        fake_home.routes.pop("/api/v1/manifest")  # an older server: it lists no peers
    elif listed_by == "another key":
        fake_home.lists({FAR: "far"}, by=made_up)
    fake_home.answer("/api/v1/timelines/home", page(held, withheld={held["id"]: [notice(held["id"], by=by)]}))
    ran = fake_home.run("timeline")
    assert ran.exit_code == 0, ran.output
    assert f"withheld notice signed by an unknown key ({by.public_key[:16]})" in ran.stdout
    assert "withheld by" not in ran.stdout and "no lunch" not in ran.stdout
    [kept] = json.loads(fake_home.run("timeline", "--json").stdout)["withheld"][held["id"]]
    assert (kept["verified"], kept["signer"], kept["name"]) == (True, "unknown", "")


def test_the_manifest_is_asked_once_and_only_when_there_are_notices(fake_home: FakeHome) -> None:
    held = post(ALICE, "about lunch")
    fake_home.answer("/api/v1/timelines/home", page(held))
    fake_home.run("timeline")
    assert "/api/v1/manifest" not in fake_home.asked
    fake_home.answer("/api/v1/timelines/home", page(held, withheld={held["id"]: [notice(held["id"])]}))
    fake_home.run("timeline")
    assert fake_home.asked.count("/api/v1/manifest") == 1


def test_a_long_lived_client_reads_the_manifest_again_for_a_key_it_does_not_know(
    fake_home: FakeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TUI keeps one client for hours: a peer added to the manifest since it first read it is named once the
    manifest is read again, which a key it does not know prompts (at most every ``SIGNERS_AGAIN_S``)."""
    monkeypatch.setattr(api, "SIGNERS_AGAIN_S", 0.0)
    held = post(ALICE, "about lunch")
    fake_home.lists({})
    fake_home.answer("/api/v1/timelines/home", page(held, withheld={held["id"]: [notice(held["id"])]}))

    async def read() -> list[str]:
        client = api.MurmurClient(URL, fake_home.identity, transport=httpx.MockTransport(fake_home.handle))
        async with client:
            said = [(await client.timeline("home"))["withheld"][held["id"]][0]["signer"]]
            fake_home.lists({FAR: "far"})
            for _ in range(2):
                said.append((await client.timeline("home"))["withheld"][held["id"]][0]["signer"])
        return said

    assert asyncio.run(read()) == ["unknown", "peer", "peer"]
    assert fake_home.asked.count("/api/v1/manifest") == 2  # once known, not asked again


def test_a_manifest_answer_carrying_notices_is_read_as_a_manifest_only(fake_home: FakeHome) -> None:
    """A hostile server's manifest answer with notices in it neither hangs the client (asking for the manifest
    again while reading it) nor lists anyone."""
    held = post(ALICE, "about lunch")
    fake_home.answer("/api/v1/manifest", {"manifest": None, "withheld": {held["id"]: [notice(held["id"])]}})
    fake_home.answer("/api/v1/timelines/home", page(held, withheld={held["id"]: [notice(held["id"])]}))
    ran = fake_home.run("timeline")
    assert ran.exit_code == 0, ran.output
    assert "withheld notice signed by an unknown key" in ran.stdout
