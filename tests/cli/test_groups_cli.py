"""``murmur group ...``, ``post --group`` and ``timeline group:ID`` against a real server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from murmur.client.profiles import resolve
from murmur.keys import Identity, save_identity
from tests.cli.fakehome import Ran, run_main
from tests.tui.conftest import ALICE, BOB, ME, seeded
from tests.tui.test_snapshots import ThreadedServer
from tests.tui.test_snapshots import snap_server as home_server  # members ME, Alice and Bob ("Bob"), a few posts

__all__ = ["home_server"]


class Someone:
    def __init__(self, home: Path, identity: Identity, server: ThreadedServer) -> None:
        self.home = home
        self.key = identity.public_key
        ref = resolve(home, None)
        save_identity(ref.key_path, identity)
        config = ref.config()
        config.section(ref.name).update({"server": server.url, "server_key": seeded(9).public_key})
        config.save()

    def run(self, *args: str) -> Ran:
        return run_main("--home", str(self.home), *args)

    def ok(self, *args: str) -> Ran:
        ran = self.run(*args)
        assert ran.exit_code == 0, ran.output
        return ran

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)


@pytest.fixture
def people(home_server: ThreadedServer, tmp_path: Path) -> tuple[Someone, Someone, Someone]:
    return tuple(Someone(tmp_path / n, who, home_server) for n, who in (("a", ALICE), ("b", BOB), ("m", ME)))  # type: ignore[return-value]


def test_a_group_end_to_end_from_the_command_line(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, me = people
    created = alice.ok("group", "create", "Fix CI", "--description", "Builds take an hour", "--rules", "Be kind.",
                       "--approval", "--json")  # fmt: skip
    answer = json.loads(created.stdout)
    assert list(answer) == ["id"]
    g = answer["id"]
    assert "Asked to join Fix CI" in bob.ok("group", "join", g).stdout
    assert bob.json("group", "info", g[:12])["you"] == {"status": "pending", "role": ""}
    refused = bob.run("post", "--group", g, "too early")
    assert refused.exit_code == 1 and "not a member" in refused.stderr and refused.stderr.count("\n") == 1
    alice.ok("group", "approve", g, "@bob")
    posted = bob.json("post", "--group", g[:10], "hello group")
    assert ["group", g] in _tags(alice, posted["id"])

    # Someone who does not moderate is told so; nothing is published.
    denied = me.run("group", "hide", g, posted["id"], "not yours")
    assert denied.exit_code == 1 and "not a moderator" in denied.stderr
    assert me.run("group", "mod", g, "@bob").exit_code == 1
    alice.ok("group", "mod", g, "@bob")
    assert [p["role"] for p in alice.json("group", "members", g)["members"]] == ["owner", "moderator"]
    assert alice.json("group", "members", g)["pending"] == []

    other = alice.json("post", "--group", g, "spam spam")
    assert me.run("group", "join", g).exit_code == 0
    bob.ok("group", "hide", g, other["id"], "--reason", "off topic")
    page = me.json("timeline", f"group:{g}")
    shown = {i["message"]["id"]: (i["hidden"], i["hidden_by"], i["reason"]) for i in page["items"]}
    assert shown == {other["id"]: (True, bob.key, "off topic"), posted["id"]: (False, None, None)}
    human = me.ok("timeline", f"group:{g}").stdout
    assert "hidden by Bob" in human and "off topic" in human and "spam spam" not in human
    assert "spam spam" in me.ok("timeline", f"group:{g}", "--show-hidden").stdout

    bob.ok("group", "pin", g, posted["id"])
    info = me.ok("group", "info", g).stdout
    assert "Be kind." in info and "pinned:" in info and "hello group" in info and "moderators: Bob" in info
    bob.ok("group", "unpin", g, posted["id"])
    assert me.json("group", "info", g)["pinned"] == []
    bob.ok("group", "unhide", g, other["id"])
    assert all(not i["hidden"] for i in me.json("timeline", f"group:{g}")["items"])
    elsewhere = bob.json("post", "not in the group")["id"]
    stray = bob.run("group", "pin", g, elsewhere)
    assert stray.exit_code == 1 and "not addressed to Fix CI" in stray.stderr

    alice.ok("group", "unmod", g, "@bob")
    alice.ok("group", "remove", g, "@bob")
    late = bob.run("post", "--group", g, "after removal")
    assert late.exit_code == 1 and "not a member" in late.stderr
    assert "Left Fix CI" in me.ok("group", "leave", g).stdout


def test_listings_and_their_json(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, _ = people
    g = alice.json("group", "create", "Lunch club", "--description", "Where to eat on Fridays")["id"]
    assert "Joined Lunch club" in bob.ok("group", "join", g).stdout
    found = bob.json("group", "list", "fridays")["groups"]
    assert [x["id"] for x in found] == [g]
    assert g in [x["id"] for x in bob.json("group", "list", "--mine")["groups"]]
    assert "Lunch club" in bob.ok("group", "list").stdout
    members = bob.json("group", "members", g)["members"]
    assert {(m["key"], m["role"]) for m in members} == {(alice.key, "owner"), (bob.key, "member")}
    assert "already a member" in bob.run("group", "join", g).stderr
    assert "cannot leave" in alice.run("group", "leave", g).stderr


def test_errors_are_one_line_with_the_documented_codes(people: tuple[Someone, Someone, Someone]) -> None:
    alice, _, _ = people
    g = alice.json("group", "create", "Errors")["id"]
    post = alice.json("post", "--group", g, "a post")["id"]
    cases = [
        (("group", "info", "nothex"), 2),
        (("group", "info", "ab" * 32), 1),  # no such group here
        (("group", "hide", g, post), 2),  # a reason is required
        (("group", "hide", g, post, "why", "--reason", "twice"), 2),
        (("group", "create", "  "), 2),
        (("timeline", "group:zz"), 2),
        (("post", "--group", g, "--local", "x"), 2),
        (("group", "approve", g, "not-a-key"), 2),
    ]
    for args, code in cases:
        ran = alice.run(*args)
        assert ran.exit_code == code, (args, ran.output)
        assert ran.stderr.startswith("murmur: ") and ran.stderr.count("\n") == 1, (args, ran.stderr)
        assert "Traceback" not in ran.output


def _tags(who: Someone, msg_id: str) -> list[list[str]]:
    page = who.json("timeline", "federated", "--limit", "100")
    return next(i["message"]["tags"] for i in page["items"] if i["message"]["id"] == msg_id)
