"""``murmur group invite`` and ``group remove`` resolve an ``@name`` or a key prefix as ``murmur dm`` does, against a
real server on 127.0.0.1: one resolver, so the identity a name named the first time (by a message or an
invitation) is pinned on the device for both, and an ambiguous or unknown name is refused with what to do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from murmur.keys import fingerprint
from murmur.server.config import ServerConfig
from tests.cli.test_dm_cli import Person
from tests.tui.test_snapshots import ThreadedServer


@pytest.fixture
def folks(tmp_path: Path) -> Iterator[dict[str, Person]]:
    """Ivy, Jo and Kit on a server of their own: each test renames them, so none shares its names."""
    config = ServerConfig(name="names", rate_per_minute=0, open_registration=True)
    server = ThreadedServer(tmp_path / "server.db", config=config, seeded=False)
    server.start()
    try:
        yield {name: Person(tmp_path / name, name, server) for name in ("ivy", "jo", "kit")}
    finally:
        server.stop()


def test_an_invitation_pins_the_name_a_message_then_checks(folks: dict[str, Person]) -> None:
    ivy, jo, kit = folks["ivy"], folks["jo"], folks["kit"]
    group = ivy.json("group", "create", "pinned names", "--private")["id"]
    assert ivy.json("group", "invite", group, "@jo")["epoch"] == 1  # @jo now names Jo on Ivy's device
    jo.ok("profile", "--name", "joanna")
    kit.ok("profile", "--name", "jo")  # a look-alike takes the name
    sent = ivy.run("dm", "@jo", "hello")
    assert sent.exit_code != 0 and "murmur dm forget @jo" in sent.stderr
    assert fingerprint(str(jo.identity)) in sent.stderr and fingerprint(str(kit.identity)) in sent.stderr
    removed = ivy.run("group", "remove", group, "@jo")  # the same pin: Kit is never taken for Jo
    assert removed.exit_code != 0 and "murmur dm forget @jo" in removed.stderr
    assert ivy.json("group", "remove", group, str(jo.identity))["epoch"] == 2  # the full identity still names Jo


def test_a_message_pins_the_name_an_invitation_then_checks(folks: dict[str, Person]) -> None:
    ivy, jo, kit = folks["ivy"], folks["jo"], folks["kit"]
    group = ivy.json("group", "create", "pinned by a message", "--private")["id"]
    ivy.ok("dm", "@kit", "hello")  # @kit now names Kit on Ivy's device
    kit.ok("profile", "--name", "kitty")
    jo.ok("profile", "--name", "kit")
    invited = ivy.run("group", "invite", group, "@kit")
    assert invited.exit_code != 0 and "murmur dm forget @kit" in invited.stderr
    assert [m["key"] for m in ivy.json("group", "members", group)["members"]] == [ivy.json("whoami")["key"]]
    ivy.ok("dm", "forget", "@kit")  # the person says the new answer is right: it is taken, and pinned again
    assert ivy.json("group", "invite", group, "@kit")["epoch"] == 1
    assert ivy.run("dm", "@kit", "hi jo").exit_code == 0


def test_an_ambiguous_or_unknown_name_is_refused_with_what_to_do(folks: dict[str, Person]) -> None:
    ivy, jo, kit = folks["ivy"], folks["jo"], folks["kit"]
    group = ivy.json("group", "create", "ambiguous", "--private")["id"]
    jo.ok("profile", "--name", "twin")
    kit.ok("profile", "--name", "twin")
    for command in (("group", "invite", group, "@twin"), ("group", "remove", group, "@twin"), ("dm", "@twin", "hi")):
        refused = ivy.run(*command)
        assert refused.exit_code == 1 and "could be" in refused.stderr and "by key" in refused.stderr, command
        assert all(any(k[:12] in refused.stderr for k in (str(p.identity), p.json("whoami")["key"])) for p in (jo, kit))
    unknown = ivy.run("group", "invite", group, "@nobody-by-that-name")
    assert unknown.exit_code == 1 and "Nobody called @nobody-by-that-name" in unknown.stderr
    assert ivy.json("group", "invite", group, str(jo.identity)[:12])["epoch"] == 1  # a key prefix names one


def test_appointing_a_moderator_of_a_private_group_names_the_person_pinned(folks: dict[str, Person]) -> None:
    """Whoever answers for a name (a look-alike, or the server itself) is never made a moderator: the appointment
    names the identity pinned on the device, as invitations do."""
    ivy, jo, kit = folks["ivy"], folks["jo"], folks["kit"]
    group = ivy.json("group", "create", "pinned moderators", "--private")["id"]
    assert ivy.json("group", "invite", group, "@jo", "@kit")["epoch"] == 1  # @jo and @kit pinned on Ivy's device
    jo.ok("profile", "--name", "joanna")
    kit.ok("profile", "--name", "jo")  # the look-alike, a member too, takes Jo's name
    appointed = ivy.run("group", "mod", group, "@jo")
    assert appointed.exit_code != 0 and "murmur dm forget @jo" in appointed.stderr
    roles = {m["key"]: m.get("role") for m in ivy.json("group", "members", group)["members"]}
    assert "moderator" not in roles.values()
    assert ivy.run("group", "mod", group, str(jo.identity)).exit_code == 0  # the full identity still names Jo
    roles = {m["key"]: m.get("role") for m in ivy.json("group", "members", group)["members"]}
    assert roles.get(str(jo.identity)) == "moderator" and roles.get(str(kit.identity)) != "moderator", roles


def test_a_public_groups_acts_name_the_person_pinned(folks: dict[str, Person]) -> None:
    """In a public group too, `group approve` and `group remove` name the person (their identity) as this device
    resolves and pins them: a look-alike taking the name later is never the one removed, and the removal is the
    identity's, so a device of theirs joining again only asks."""
    ivy, jo, kit = folks["ivy"], folks["jo"], folks["kit"]
    group = ivy.json("group", "create", "public names", "--approval")["id"]
    jo.ok("group", "join", group)
    ivy.ok("group", "approve", group, "@jo")  # @jo now names Jo's identity on Ivy's device
    members = ivy.json("group", "members", group)
    assert [m["key"] for m in members["members"] if m["role"] != "owner"] == [str(jo.identity)]
    assert f"jo ({fingerprint(str(jo.identity))})" in ivy.ok("group", "members", group).stdout  # named, as a person
    kit.ok("group", "join", group)
    ivy.ok("group", "approve", group, str(kit.identity))
    jo.ok("profile", "--name", "joanna")
    kit.ok("profile", "--name", "jo")  # a look-alike, a member too, takes Jo's name
    removed = ivy.run("group", "remove", group, "@jo")
    assert removed.exit_code != 0 and "murmur dm forget @jo" in removed.stderr
    assert {m["key"] for m in ivy.json("group", "members", group)["members"]} >= {str(jo.identity), str(kit.identity)}
    ivy.ok("group", "remove", group, "@joanna")  # Jo's new name resolves to the identity pinned for @jo: agreed
    members = ivy.json("group", "members", group)
    assert [m["key"] for m in members["removed"]] == [str(jo.identity)]
    assert str(kit.identity) in [m["key"] for m in members["members"]]
    assert "Asked to join" in jo.ok("group", "join", group).stdout  # removed: the person asks again
    assert [m["key"] for m in ivy.json("group", "members", group)["pending"]] == [str(jo.identity)]
