"""Review (issue 16): the changer's own home server withholds, from the group's log, the removal the changer's
device has just signed and published. docs/encryption.md §14/§16.5 says "Once a device has seen a signed message it
keeps it" and the changer "starts the next epoch for the group's member devices as it sees them right after its
change": the device that signed the removal has seen it, so the epoch it starts must leave the removed member out,
whatever the server's log says."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.client.api import MurmurClient
from tests.cli.test_dm_cli import Person, box, people  # noqa: F401  (the same server and people, made here again)
from tests.tui.test_snapshots import ThreadedServer


def test_review3_removal_withheld_by_own_server_still_shuts_the_member_out(
    people: dict[str, Person], box: ThreadedServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
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
