"""Snapshots of the Groups tab and a group's screen, from the snapshot server with two groups added.

Update after an intended change with ``pytest tests/tui/test_group_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from murmur.keys import Identity
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, create_draft, membership_draft
from murmur.message import sign_draft
from murmur.store import Store
from tests.tui.test_snapshots import ALICE, BOB, MALLORY, ME, SIZE, ThreadedServer, at, settle, snap_app


async def seed_groups(store: Store) -> None:
    def s(who: Identity, draft: dict[str, Any], minutes_ago: int) -> dict[str, Any]:
        return sign_draft(who, draft, created_at=at(minutes_ago))

    def post(who: Identity, text: str, minutes_ago: int) -> dict[str, Any]:
        return s(who, {"kind": "post", "body": {"text": text}, "tags": [["group", g]]}, minutes_ago)

    create = s(
        ALICE, create_draft("Fix CI", description="Our builds take an hour.", rules="Be kind.", approval=True), 500
    )
    g = create["id"]
    welcome = post(ALICE, "Welcome! Read the runbook first.", 400)
    spam = post(MALLORY, "buy my stuff", 200)
    messages = [
        create,
        s(ALICE, about_person_draft("group_mod", g, BOB.public_key), 490),
        s(ME, membership_draft("group_join", g), 480),
        s(BOB, about_person_draft("group_approve", g, ME.public_key), 470),
        s(MALLORY, membership_draft("group_join", g), 460),
        s(BOB, about_person_draft("group_approve", g, MALLORY.public_key), 450),
        welcome,
        s(ALICE, about_post_draft("group_pin", g, welcome["id"]), 390),
        post(ME, "Caching the dependencies cut ten minutes.", 300),
        spam,
        s(BOB, about_post_draft("group_hide", g, spam["id"], reason="spam"), 100),
        s(BOB, create_draft("Lunch club", description="Where to eat on Fridays."), 350),
    ]
    await store.ingest(messages, now=2**53 - 1)


class GroupServer(ThreadedServer):
    async def _start(self) -> None:
        await super()._start()
        await seed_groups(self.store)


@pytest.fixture(scope="module")
def group_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    server = GroupServer(tmp_path_factory.mktemp("groupsnap") / "server.db")
    server.start()
    yield server
    server.stop()


def test_groups_tab(snap_compare: Any, group_server: ThreadedServer, tmp_path: Path) -> None:
    assert snap_compare(snap_app(group_server, tmp_path), terminal_size=SIZE, run_before=settle("6"))


def test_group_screen(snap_compare: Any, group_server: ThreadedServer, tmp_path: Path) -> None:
    app = snap_app(group_server, tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle("6", "enter", "M"))
