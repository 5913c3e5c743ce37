"""`murmur timeline group:ID` when the home server will not answer for a private group the device was just
invited to (docs/cli.md, timeline): the group is said to be behind, on stderr and in `--json`'s `failed`, and read
by a later command once the server answers; nothing that came for it is lost."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.client.api import ApiError, MurmurClient
from tests.cli.test_dm_cli import Person, box, people  # noqa: F401  (the same server and people, made here again)
from tests.tui.test_snapshots import ThreadedServer


def test_a_first_reading_of_a_group_whose_log_fails_says_so_then_reads_it(
    people: dict[str, Person], box: ThreadedServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    ada, bo = people["ada"], people["bo"]
    group = ada.json("group", "create", "stewards", "--private")["id"]
    ada.ok("group", "invite", group, "@bo")
    ada.ok("post", "--group", group, "the first agenda")

    async def limited(self: MurmurClient, group_id: str) -> dict[str, Any]:
        raise ApiError(429, "rate_limited", "Too many requests; try again in 60 s.")

    monkeypatch.setattr(MurmurClient, "group_log", limited)
    page = bo.json("timeline", f"group:{group}")
    assert page["items"] == [] and "Too many requests" in page["failed"][group]
    shown = bo.run("timeline", f"group:{group}")
    assert f"not read: group {group[:16]}: " in shown.stderr and "Too many requests" in shown.stderr
    monkeypatch.undo()
    page = bo.json("timeline", f"group:{group}")
    assert [i["text"] for i in page["items"]] == ["the first agenda"] and page["failed"] == {}
