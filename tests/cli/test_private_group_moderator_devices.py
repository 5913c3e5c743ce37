"""A private group's moderator acts from any current device of their identity, against a real server on 127.0.0.1:
the role is the identity's (murmur.kinds.group_speakers), so a device paired after the appointment invites, and
one removed from the identity no longer can (its own server refuses it; tests/store/test_group_roles.py shows that
an act it signs counts for nothing wherever it goes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from murmur.server.config import ServerConfig
from tests.cli.test_dm_cli import Person
from tests.cli.test_groups_cli import Someone
from tests.tui.test_snapshots import ThreadedServer


class Device(Someone):
    """A second device of ``owner``'s identity, paired from the CLI: its key is made and kept in its own home."""

    def __init__(self, home: Path, owner: Person, name: str, server: ThreadedServer) -> None:
        self.home = home
        self.ok("init")
        request = home.parent / f"{name}.request"
        self.ok("device", "add", str(owner.identity), "--name", name, "--out", str(request), "--server", server.url)
        owner.ok("device", "approve", str(request))
        self.identity = owner.identity


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadedServer]:
    config = ServerConfig(name="mods", rate_per_minute=0, open_registration=True)
    box = ThreadedServer(tmp_path / "server.db", config=config, seeded=False)
    box.start()
    try:
        yield box
    finally:
        box.stop()


def test_a_moderator_invites_from_a_second_device_and_not_once_it_is_removed(
    server: ThreadedServer, tmp_path: Path
) -> None:
    ada, bo, cy, dee = (Person(tmp_path / n, n, server) for n in ("ada", "bo", "cy", "dee"))
    group = ada.json("group", "create", "organisers", "--private")["id"]
    ada.ok("group", "invite", group, "@bo")
    ada.ok("group", "mod", group, "@bo")  # appointed by what @bo names, from Bo's first device
    phone = Device(tmp_path / "bo-phone", bo, "phone", server)
    ada.ok("timeline", f"group:{group}")  # the owner's sync seals the next epoch to the phone too
    invited = phone.json("group", "invite", group, "@cy")
    assert invited["epoch"] >= 2
    phone.ok("post", "--group", group, "welcome, cy")
    assert "welcome, cy" in [i["text"] for i in cy.json("timeline", f"group:{group}")["items"]]
    assert cy.identity in [m["key"] for m in ada.json("group", "members", group)["members"]]

    bo.ok("device", "remove", "phone")
    refused = phone.run("group", "invite", group, "@dee")  # its server refuses it first: it speaks for no one
    assert refused.exit_code != 0 and "removed from its identity" in refused.stderr
    assert dee.identity not in [m["key"] for m in ada.json("group", "members", group)["members"]]
