"""The TUI never takes the home server's word that a private group is open (issue 16): whether a group is private is
read from its signed creation message (``murmur.client.group_authority.is_private``, the CLI's check too,
tests/cli/test_private_group_lying_home.py). A home server calling a private group open gets no plain post from
the group's screen (n writes sealed there) nor from the compose screen's group choice (the post is refused before
anything is sent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Select, Static, TextArea

from murmur.client.api import MurmurClient
from murmur.client.tui.app import MurmurApp
from murmur.client.tui.screens.compose import ComposeScreen
from murmur.client.tui.screens.group import GroupScreen
from murmur.client.tui.screens.main import MainScreen
from tests.tui.conftest import LiveServer, until
from tests.tui.test_private_groups import group_rows, people

CANARY = "canary-r3d the strike fund"


def server_calls_every_group_open(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The home server's answers about groups all say ``join: open``; what the app publishes is recorded."""
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
    return sent


async def invited_where_the_server_calls_it_open(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[MurmurApp, str, list[dict[str, Any]]]:
    """The app of a member of Ada's private group, whose server calls every group open; what the app sends."""
    me, _, ada_groups, app = await people(live, tmp_path)
    group = await ada_groups.create("organisers")
    await ada_groups.invite(group, [me.identity])
    sent = server_calls_every_group_open(monkeypatch)
    return app, group, sent


async def test_review3_a_server_calling_a_private_group_open_gets_no_plain_post_from_the_tui(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _, sent = await invited_where_the_server_calls_it_open(live, tmp_path, monkeypatch)
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


async def test_the_compose_group_choice_sends_nothing_plain_to_a_group_its_server_calls_open(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, group, sent = await invited_where_the_server_calls_it_open(live, tmp_path, monkeypatch)
    async with app.run_test() as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen) and bool(app.screen.groups_offered))
        app.screen.query_one("#compose-group", Select).value = group  # offered: the server called it open
        app.screen.query_one("#text", TextArea).insert(CANARY)
        await pilot.press("ctrl+s")
        error = app.screen.query_one("#compose-error", Static)
        await until(pilot, lambda: "private" in str(error.render()))
    assert not [m for m in sent if CANARY in str(m)], "the post went to the home server in the clear"
