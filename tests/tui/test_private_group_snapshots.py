"""Snapshot of a private group's screen: its messages as this device read them (each author verified, newest
first, a reply with what it answers, reactions counted under their message, the new ones marked), and a sealed
message refused with its reason, inert. The group and the identities are fixed messages on the server; what this
device read is put in its store directly, with fixed times. Update after an intended change with
``pytest tests/tui/test_private_group_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from murmur.client.private_groups import PrivateGroups
from murmur.client.tui.app import MurmurApp
from murmur.group_chains import GroupKeys
from murmur.kinds.group_drafts import about_person_draft, create_draft
from murmur.kinds.group_fold import INVITE
from murmur.message import sign_draft
from murmur.store.group_inbox import GroupInbox, GroupPost, Unread
from tests.tui.test_conversation_snapshots import IDS, DirectServer, direct_app
from tests.tui.test_snapshots import ALICE, EVIL_TEXT, ME, SIZE, ThreadedServer, at, settle

CREATE = sign_draft(ALICE, create_draft("organisers", description="Plans we keep to ourselves.", join=INVITE),
                    created_at=at(400))  # fmt: skip
GROUP = str(CREATE["id"])


class PrivateGroupServer(DirectServer):
    async def _start(self) -> None:
        await super()._start()
        invite = sign_draft(ALICE, about_person_draft("group_approve", GROUP, IDS["me"]), created_at=at(390))
        await self.store.ingest([CREATE, invite], now=2**53 - 1)


@pytest.fixture(scope="module")
def private_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    server = PrivateGroupServer(tmp_path_factory.mktemp("pgsnap") / "server.db")
    server.start()
    yield server
    server.stop()


def read_here(tmp_path: Path) -> GroupInbox:
    """What this device read of the group: a post, a reply to it, reactions, one with markup, two new."""
    store = GroupInbox.open(tmp_path / "groups.db")
    me, ada, bob = IDS["me"], IDS["ada"], IDS["bob"]
    first = f"{1:064x}"
    rows = [  # (sender, kind, text, minutes ago, reply_to, target, new)
        (ada, "post", "Meeting Thursday at six, room 4B.", 120, None, None, False),
        (me, "post", "I will bring the numbers.", 90, first, None, False),
        (bob, "reaction", "👍", 80, None, first, False),
        (me, "reaction", "👍", 70, None, first, False),
        (ada, "post", EVIL_TEXT, 10, None, None, True),
        (bob, "post", "Running late.\nStart without me.", 2, None, None, True),
    ]
    keys = GroupKeys(GROUP).to_json()
    for n, (sender, kind, text, minutes_ago, reply_to, target, new) in enumerate(rows, start=1):
        post = GroupPost(f"{n:064x}", GROUP, kind, sender, "0" * 64, text, at(minutes_ago), reply_to, target, 1, new)
        store.add(post, f"{n + 100:064x}", "organisers", keys)
    store.keep_unread(Unread("c" * 64, GROUP, "tampered", "It was [bold]changed[/] \x1b[2J on the way.", b"{}", 1))
    return store


def private_app(server: ThreadedServer, tmp_path: Path) -> MurmurApp:
    store = read_here(tmp_path)
    return direct_app(server, tmp_path, private_groups=lambda talks, typed: PrivateGroups(talks, ME, store))


def test_a_private_group(snap_compare: Any, private_server: ThreadedServer, tmp_path: Path) -> None:
    assert snap_compare(private_app(private_server, tmp_path), terminal_size=SIZE, run_before=settle("6", "enter"))
