"""A private group from the command line when the home server lies about it: calling it an open group does not
get a post published in the clear, withholding the changer's own removal does not keep the member in, and a change
in its members is shown to the person (docs/cli.md, timeline)."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.client.api import MurmurClient
from tests.cli.test_dm_cli import Person, box, people  # noqa: F401  (the same server and people, made here again)
from tests.tui.test_snapshots import ThreadedServer

CANARY = "canary-5c1d the audit starts monday"


def test_a_server_calling_a_private_group_open_gets_no_plaintext(
    people: dict[str, Person], box: ThreadedServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    ada, bo = people["ada"], people["bo"]
    group = ada.json("group", "create", "auditors", "--private")["id"]
    ada.ok("group", "invite", group, "@bo")
    assert bo.json("timeline", f"group:{group}")["member_changes"] == []  # Bo pins Ada and himself
    real = MurmurClient.group

    async def says_open(self: MurmurClient, group_id: str) -> dict[str, Any]:
        return {**await real(self, group_id), "join": "open"}

    monkeypatch.setattr(MurmurClient, "group", says_open)
    ada.ok("post", "--group", group, CANARY)  # sealed all the same: the signed creation message says private
    ada.ok("group", "invite", group, "@cy")  # taken as private: invitations go on
    monkeypatch.undo()
    for path in box.path.parent.glob(box.path.name + "*"):  # the database and its write-ahead log
        assert b"canary-5c1d" not in path.read_bytes()
    page = bo.json("timeline", f"group:{group}")
    assert [i["text"] for i in page["items"]] == [CANARY]
    assert [(c["key"], c["change"]) for c in page["member_changes"]] == [(people["cy"].identity, "added")]
    shown = bo.run("timeline", f"group:{group}")
    assert "members changed:" in shown.stderr and "added (member)" in shown.stderr


def test_a_removal_the_changers_own_server_withholds_still_shuts_the_member_out(
    people: dict[str, Person], box: ThreadedServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The device that signed the removal has seen it: the epoch it starts leaves the removed member out, whatever
    its server's log of the group says (docs/encryption.md §16.2)."""
    ada, bo = people["ada"], people["bo"]
    group = ada.json("group", "create", "withheld", "--private")["id"]
    ada.ok("group", "invite", group, "@bo")
    real = MurmurClient.group_log

    async def withholding(self: MurmurClient, group_id: str) -> dict[str, Any]:
        answer = await real(self, group_id)
        return {**answer, "messages": [m for m in answer["messages"] if m.get("kind") != "group_remove"]}

    monkeypatch.setattr(MurmurClient, "group_log", withholding)
    removed = ada.json("group", "remove", group, "@bo")
    # ada's device signed the removal: the epoch it starts is for ada's device alone
    assert removed["devices"] == 1, removed
    ada.ok("post", "--group", group, "canary-r3a written after Bo was removed")
    texts = [i["text"] for i in bo.json("timeline", f"group:{group}")["items"]]
    assert "canary-r3a written after Bo was removed" not in texts


def test_a_dismissal_the_owners_own_server_withholds_still_counts_on_the_owners_device(
    people: dict[str, Person], box: ThreadedServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """`murmur group unmod` on a private group keeps the signed act on the device, as invite and remove do: its
    server leaving it out of the group's log does not leave the dismissed a moderator there (whose later acts,
    and epoch keys, would count)."""
    ada = people["ada"]
    group = ada.json("group", "create", "withheld dismissal", "--private")["id"]
    ada.ok("group", "invite", group, "@cy")
    ada.ok("group", "mod", group, "@cy")
    ada.json("timeline", f"group:{group}")  # the device folds Cy as a moderator
    real = MurmurClient.group_log

    async def withholding(self: MurmurClient, group_id: str) -> dict[str, Any]:
        answer = await real(self, group_id)
        return {**answer, "messages": [m for m in answer["messages"] if m.get("kind") != "group_unmod"]}

    monkeypatch.setattr(MurmurClient, "group_log", withholding)
    ada.ok("group", "unmod", group, "@cy")
    changes = ada.json("timeline", f"group:{group}")["member_changes"]
    moderator = next(c["key"] for c in changes if c["role"] == "moderator")  # the key the appointment names
    assert [(c["change"], c["role"]) for c in changes if c["key"] == moderator][-1] == ("role", "member")
