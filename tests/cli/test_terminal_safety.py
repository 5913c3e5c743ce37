"""Nothing that came from a server, a peer or another person reaches the terminal able to act on it.

Every hostile string of the table goes through every command that prints foreign text: as a server's error
reason, and as names, posts, content warnings, emoji, bios and roles in the answers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from tests.cli.fakehome import FakeHome, run_main
from tests.hostile import HOSTILE, acting_characters

ID = "ab" * 32
KEY = "cd" * 32
ALICE = Identity.from_seed(b"\x02" * 32)

# (command line, the path its first request asks for)
REFUSED_COMMANDS: list[tuple[list[str], str]] = [
    (["post", "hello"], "/api/v1/messages"),
    (["react", ID, "+"], f"/api/v1/messages/{ID}"),
    (["boost", ID], f"/api/v1/messages/{ID}"),
    (["delete", ID], f"/api/v1/messages/{ID}"),
    (["edit", ID, "new words"], f"/api/v1/messages/{ID}"),
    (["history", ID], f"/api/v1/messages/{ID}/history"),
    (["follow", KEY], "/api/v1/messages"),
    (["timeline"], "/api/v1/timelines/home"),
    (["thread", ID], f"/api/v1/threads/{ID}"),
    (["search", "x"], "/api/v1/search"),
    (["notifications"], "/api/v1/notifications"),
    (["members"], "/api/v1/members"),
    (["profile", KEY], f"/api/v1/profiles/{KEY}"),
    (["join", "http://home.test"], "/api/v1/info"),
]


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
@pytest.mark.parametrize("command,path", REFUSED_COMMANDS, ids=[c[0][0] for c in REFUSED_COMMANDS])
def test_a_servers_reason_is_inert(fake_home: FakeHome, command: list[str], path: str, hostile: str) -> None:
    fake_home.refuse(path, f"refused {hostile} because")
    result = fake_home.run(*command)
    assert result.exit_code == 1, result.output
    assert fake_home.asked and fake_home.asked[-1] == path
    line = result.stderr.strip()
    assert line.startswith("murmur: refused ") and line.endswith(" because"), line
    assert "\n" not in line and acting_characters(result.output) == []


def post(text: str, *, author: Identity = ALICE, **body: Any) -> dict[str, Any]:
    return sign_draft(author, {"kind": "post", "body": {"text": text, **body}}, created_at=1_700_000_000_000)


def item(message: dict[str, Any], seq: int = 1, **extra: Any) -> dict[str, Any]:
    counts = {"replies": 0, "reactions": 0, "boosts": 0}
    base = {"seq": seq, "message": message, "boosted_by": None, "boost": None, "counts": counts, "origin": "local"}
    return {**base, **extra}


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
def test_foreign_text_in_answers_is_inert(fake_home: FakeHome, hostile: str) -> None:
    names = {ALICE.public_key: f"Ali{hostile}ce"}
    plain = post(f"text {hostile} end")
    warned = post("under a warning", cw=f"cw {hostile}")
    reaction = sign_draft(
        ALICE, {"kind": "reaction", "body": {"emoji": "+"}, "tags": [["target", plain["id"]]]}, created_at=1
    )
    page = {"items": [item(plain, 2), item(warned, 1)], "next_cursor": None, "names": names}
    fake_home.answer("/api/v1/timelines/home", page)
    fake_home.answer(
        f"/api/v1/threads/{ID}",
        {
            "root": {"id": plain["id"], "parent": None, "item": item(plain), "children": []},
            "size": 1,
            "truncated": False,
            "names": names,
        },
    )
    people = [{"key": ALICE.public_key, "name": f"n{hostile}", "bio": f"bio {hostile}"}]
    fake_home.answer("/api/v1/search", {"people": people, "posts": page["items"], "names": names})
    notices = [
        {"seq": 3, "kind": "reaction", "actor": ALICE.public_key, "target_id": None, "message": reaction},
        {"seq": 2, "kind": hostile, "actor": ALICE.public_key, "target_id": None, "message": plain},
    ]
    fake_home.answer("/api/v1/notifications", {"items": notices, "next_cursor": None, "unread": 1, "names": names})
    fake_home.answer("/api/v1/members", {"members": [{"key": KEY, "role": hostile, "joined_at": 1, "name": hostile}]})
    fake_home.answer(f"/api/v1/profiles/{KEY}", {"key": KEY, "name": hostile, "bio": hostile, "followers": 0})
    for command in (
        ["timeline"],
        ["timeline", "--show-cw", "--full"],
        ["thread", ID],
        ["search", "x"],
        ["search", "x", "--show-cw"],
        ["notifications"],
        ["notifications", "--show-cw"],
        ["members"],
        ["profile", KEY],
    ):
        result = fake_home.run(*command)
        assert result.exit_code == 0, (command, result.output)
        assert acting_characters(result.output) == [], command


def test_a_hostile_server_name_on_join_is_inert(fake_home: FakeHome) -> None:
    fake_home.answer("/api/v1/info", {"server_key": KEY, "name": "\x1b]0;owned\x07box"})
    fake_home.answer("/api/v1/join", {"key": fake_home.identity.public_key, "role": "member", "already_member": False})
    result = fake_home.run("join", "http://home.test")
    assert result.exit_code == 0, result.output
    assert "Joined ␛]0;owned␇box at http://home.test" in result.stdout


def test_json_output_keeps_values_and_escapes_what_acts_on_a_terminal(fake_home: FakeHome) -> None:
    import json

    text = "".join(HOSTILE.values())
    fake_home.answer("/api/v1/members", {"members": [{"key": KEY, "role": "member", "joined_at": 1, "name": text}]})
    result = fake_home.run("members", "--json")
    assert acting_characters(result.stdout) == []
    assert json.loads(result.stdout)["members"][0]["name"] == text


def test_peer_list_and_its_last_error_are_inert(tmp_path: Path) -> None:
    from murmur.server.config import DataDir, ServerConfig
    from murmur.store import Store
    from murmur.store.peers import add_peer, record_failure

    data = DataDir(tmp_path / "data")
    data.create(ServerConfig())

    async def seed() -> None:
        store = await Store.open(data.db_path)
        try:
            await add_peer(store, KEY, "http://peer.test", name="p\x1b[2Jeer")
            await record_failure(store, KEY, "".join(HOSTILE.values()) + "\nok: all fine")
        finally:
            await store.close()

    asyncio.run(seed())
    result = run_main("peer", "list", "--data", str(data.root))
    assert result.exit_code == 0, result.output
    assert acting_characters(result.output) == []
    assert "\nok: all fine" not in result.output  # a peer cannot forge a line of its own


def test_sync_prints_a_peers_hostile_reason_inert(tmp_path: Path) -> None:
    import json

    from murmur.server.config import DataDir, ServerConfig
    from murmur.store import Store
    from murmur.store.peers import add_peer
    from tests.reliability.fakepeer import Answer, FakePeer

    hostile = "".join(HOSTILE.values())
    peer = FakePeer().start()
    try:
        for _ in range(4):
            body = json.dumps({"error": {"code": "refused", "reason": f"no {hostile}\nok: all fine"}}).encode()
            peer.answers.put(Answer(status=400, body=body, headers={"Content-Type": "application/json"}))
        data = DataDir(tmp_path / "data")
        data.create(ServerConfig())

        async def seed() -> None:
            store = await Store.open(data.db_path)
            try:
                await add_peer(store, peer.identity.public_key, peer.url, name="fake", mode="pull-only")
            finally:
                await store.close()

        asyncio.run(seed())
        result = run_main("sync", "--data", str(data.root))
    finally:
        peer.close()
    assert result.exit_code == 1, result.output
    assert "error:" in result.stdout and acting_characters(result.output) == []
    assert "\nok: all fine" not in result.output


WRONG_TYPES = {"items": 1, "root": 2, "id": 3, "posts": 4, "people": 5, "members": 6, "key": 7, "server_key": 8}
ODD_ANSWERS = {"array": [], "empty": {}, "string": "x", "null": None, "wrong types": WRONG_TYPES}


@pytest.mark.parametrize("odd", list(ODD_ANSWERS.values()), ids=list(ODD_ANSWERS))
@pytest.mark.parametrize("command,path", REFUSED_COMMANDS, ids=[c[0][0] for c in REFUSED_COMMANDS])
def test_an_answer_of_the_wrong_shape_is_one_line_never_a_traceback(
    fake_home: FakeHome, command: list[str], path: str, odd: Any
) -> None:
    """A home server answering 200 with anything but what was asked for is a failure like a refusal."""
    fake_home.answer(path, odd)
    result = fake_home.run(*command)
    if command[0] == "search" and odd == {}:  # no posts and no people: nothing was found
        assert (result.exit_code, result.stdout) == (0, "No matches.\n")
        return
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("murmur: ") and "Traceback" not in result.output, result.output


ODD_ROWS: list[tuple[list[str], str, Any]] = [
    (["timeline"], "/api/v1/timelines/home", {"items": [1]}),
    (["notifications"], "/api/v1/notifications", {"items": ["x"]}),
    (["members"], "/api/v1/members", {"members": [{"name": "no key"}]}),
    (["search", "x"], "/api/v1/search", {"posts": [], "people": [{}]}),
    (["search", "x"], "/api/v1/search", {"posts": [None]}),
    (["thread", ID], f"/api/v1/threads/{ID}", {"root": {"children": []}}),
    (["thread", ID], f"/api/v1/threads/{ID}", {"root": {"id": ID, "children": 5}}),
    (["thread", ID], f"/api/v1/threads/{ID}", {"root": {"id": ID, "children": [{"id": ID, "children": [1]}]}}),
]


@pytest.mark.parametrize("command,path,odd", ODD_ROWS, ids=[f"{c[0][0]}-{i}" for i, c in enumerate(ODD_ROWS)])
def test_rows_of_the_wrong_shape_are_one_line_never_a_traceback(
    fake_home: FakeHome, command: list[str], path: str, odd: Any
) -> None:
    fake_home.answer(path, odd)
    result = fake_home.run(*command)
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("murmur: The server's answer to ") and "Traceback" not in result.output, result.output


def test_a_calendar_with_control_characters_is_refused_not_printed(fake_home: FakeHome) -> None:
    meetup = "cd" * 32
    hostile = "BEGIN:VCALENDAR\r\nSUMMARY:\x1b]52;c;cHduZWQ=\x07standup\r\nEND:VCALENDAR\r\n"
    fake_home.answer_raw(f"/api/v1/meetups/{meetup}/ics", hostile.encode(), {"content-type": "text/calendar"})
    ran = fake_home.run("meetup", "ics", meetup)
    assert ran.exit_code != 0 and "\x1b" not in ran.output and "control characters" in ran.stderr
    fine = hostile.replace("\x1b]52;c;cHduZWQ=\x07", "")
    fake_home.answer_raw(f"/api/v1/meetups/{meetup}/ics", fine.encode(), {"content-type": "text/calendar"})
    ran = fake_home.run("meetup", "ics", meetup)
    assert ran.exit_code == 0 and ran.stdout == fine  # the document as served, line ends and all


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
def test_what_the_server_held_back_is_said_inert(fake_home: FakeHome, hostile: str) -> None:
    """A publish answered with ``held_back`` (it goes to fewer peers than it signs, docs/api.md): the author is
    told why, on stderr, on one line, whatever the server wrote there."""
    held = {"code": "audience_unsigned", "reason": f"goes only {hostile} to the peers that confirmed"}
    fake_home.answer("/api/v1/messages", {"status": "stored", "id": ID, "seq": 3, "held_back": held})
    result = fake_home.run("post", "hello")
    assert result.exit_code == 0, result.output
    line = result.stderr.strip()
    assert line.startswith("murmur: held back from peers: goes only ") and line.endswith("to the peers that confirmed")
    assert "\n" not in line and acting_characters(result.output) == []
