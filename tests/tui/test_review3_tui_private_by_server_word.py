"""Review (issue 16): the TUI takes the home server's word on whether a group is private. ``GroupScreen`` turns
private only when ``GET /groups/{id}`` says ``join: invite``, and the compose screen's group choice leaves out the
groups the server says are ``invite``. A home server calling a private group open gets the group screen's compose
(n) to publish a plain, signed group post it can read: the very thing the CLI guards against by reading the signed
creation message (``signed_join``, tests/cli/test_private_group_lying_home.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import TextArea

from murmur.client.api import MurmurClient
from murmur.client.tui.screens.compose import ComposeScreen
from murmur.client.tui.screens.group import GroupScreen
from tests.tui.conftest import LiveServer, until
from tests.tui.test_private_groups import group_rows, people

CANARY = "canary-r3d the strike fund"


async def test_review3_a_server_calling_a_private_group_open_gets_no_plain_post_from_the_tui(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    me, _, ada_groups, app = await people(live, tmp_path)
    group = await ada_groups.create("organisers")
    await ada_groups.invite(group, [me.identity])
    real_group, real_groups, real_publish = MurmurClient.group, MurmurClient.groups, MurmurClient.publish
    sent: list[dict[str, Any]] = []

    async def recording(self: MurmurClient, message: dict[str, Any]) -> dict[str, Any]:
        sent.append(message)
        return await real_publish(self, message)

    async def says_open(self: MurmurClient, group_id: str) -> dict[str, Any]:
        return {**await real_group(self, group_id), "join": "open"}

    async def all_open(self: MurmurClient, *args: Any, **kwargs: Any) -> dict[str, Any]:
        found = await real_groups(self, *args, **kwargs)
        return {**found, "groups": [{**g, "join": "open"} for g in found["groups"]]}

    monkeypatch.setattr(MurmurClient, "group", says_open)
    monkeypatch.setattr(MurmurClient, "groups", all_open)
    monkeypatch.setattr(MurmurClient, "publish", recording)
    async with app.run_test() as pilot:
        await pilot.press("6")
        await until(pilot, lambda: any("organisers" in r for r in group_rows(app)))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, GroupScreen) and app.screen.group is not None)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        app.screen.query_one("#text", TextArea).insert(CANARY)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(sent))  # sealed or plain, what it wrote went to the server
    # the server refusing a plain post to a private group comes too late: it has read the request
    assert not [m for m in sent if CANARY in str(m)], "the post went to the home server in the clear"
