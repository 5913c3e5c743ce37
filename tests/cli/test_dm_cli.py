"""``murmur dm`` end to end against a real server on 127.0.0.1: people with identities made by the CLI, messages
sealed and opened on their devices, the server's database holding no plaintext, and every error saying what to
do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from murmur.server.config import ServerConfig
from tests.cli.test_groups_cli import Someone
from tests.tui.test_snapshots import ThreadedServer


class Person(Someone):
    """Someone who made their key, joined and made an identity with the CLI itself (``identity``: not Dee)."""

    def __init__(self, home: Path, name: str, server: ThreadedServer, *, identity: bool = True) -> None:
        self.home = home
        self.ok("init", "--name", name)
        self.ok("join", server.url)
        self.identity = self.json("identity", "create")["identity"] if identity else None


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A home server anyone may join, with nobody on it yet."""
    config = ServerConfig(name="dmbox", rate_per_minute=0, open_registration=True)
    server = ThreadedServer(tmp_path_factory.mktemp("dm") / "server.db", config=config, seeded=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def people(box: ThreadedServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Person]:
    root = tmp_path_factory.mktemp("people")
    return {name: Person(root / name, name, box, identity=name != "dee") for name in ("ada", "bo", "cy", "dee")}


def test_a_conversation_from_the_command_line(people: dict[str, Person], box: ThreadedServer) -> None:
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    sent = ada.json("dm", "@bo", "canary-91c lunch at noon? \x1b[31m[bold]red[/bold]")
    assert list(sent) == ["id"]
    listed = bo.json("dm", "list")
    [conversation] = listed["conversations"]
    assert conversation["with"] == [ada.identity] and conversation["unread"] == 1
    assert conversation["last"]["author"] == ada.identity and listed["refused"] == []
    shown = bo.json("dm", "show", conversation["id"][:12])
    assert [(m["author"], m["text"][:10]) for m in shown["messages"]] == [(ada.identity, "canary-91c")]
    assert bo.json("dm", "list")["conversations"][0]["unread"] == 0  # shown, so read
    human = bo.ok("dm", "show", conversation["id"][:12]).stdout
    assert "canary-91c" in human and "\x1b" not in human and "[bold]red[/bold]" in human  # inert, as typed
    bo.ok("dm", ada.identity, "thanks, noon works")  # her identity names her too
    messages = ada.json("dm", "show", conversation["id"])["messages"]
    assert [m["text"] for m in messages][-1] == "thanks, noon works"  # newest last
    found = bo.json("dm", "search", "noon")["messages"]
    assert sorted(m["text"][:6] for m in found) == ["canary", "thanks"]
    assert {m["conversation"] for m in found} == {conversation["id"]}
    assert cy.json("dm", "list")["conversations"] == []
    assert "No direct messages yet" in cy.ok("dm", "list").stdout
    # the server held it all along, as ciphertext only: its file and its write-ahead log
    for path in box.path.parent.glob(box.path.name + "*"):
        assert b"canary-91c" not in path.read_bytes()


def test_the_name_set_at_join_becomes_the_identitys(people: dict[str, Person]) -> None:
    # `join` named the bare key; `identity create` names the identity, which is what readers of a DM are shown
    ada = people["ada"]
    assert ada.json("profile", str(ada.identity))["name"] == "ada"


def test_errors_say_what_to_do(people: dict[str, Person]) -> None:
    ada, dee = people["ada"], people["dee"]
    to_bare = ada.run("dm", "@dee", "hello")
    assert to_bare.exit_code != 0 and "murmur identity create" in to_bare.stderr and to_bare.stderr.count("\n") == 1
    from_bare = dee.run("dm", "@ada", "hello")
    assert from_bare.exit_code != 0 and "murmur identity create" in from_bare.stderr
    assert "murmur identity create" in dee.run("dm", "list").stderr
    alone = ada.run("dm", "@bo")
    assert alone.exit_code == 2 and "recipient and the text" in alone.stderr
    nobody = ada.run("dm", "@nobody-here", "hello")
    assert nobody.exit_code != 0 and "Nobody called @nobody-here" in nobody.stderr
    unknown = ada.run("dm", "show", "abcdef12")
    assert unknown.exit_code != 0 and "names no conversation" in unknown.stderr
    too_long = ada.run("dm", "@bo", "x" * 5001)
    assert too_long.exit_code != 0 and "at most 5000 characters" in too_long.stderr


def test_both_sides_print_the_same_safety_number(people: dict[str, Person]) -> None:
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    mine = ada.json("dm", "verify", "@bo")
    assert mine["identity"] == bo.identity
    assert mine["safety_number"] == bo.json("dm", "verify", "@ada")["safety_number"]
    assert mine["safety_number"] != cy.json("dm", "verify", "@ada")["safety_number"]
    assert mine["safety_number"] in ada.ok("dm", "verify", "@bo").stdout
    sent = ada.json("dm", "@cy", "hello cy")
    assert sent["id"] and cy.json("dm", "list")["conversations"]
    shown = cy.json("dm", "show", cy.json("dm", "list")["conversations"][0]["id"])
    assert shown["device_changes"] == []  # devices pinned on first sight: nothing changed since
