"""Snapshots of direct messages: the Conversations tab (unread counts, names and fingerprints, a refused sealed
message with its reason, inert) and a conversation (each author verified, newest last). The identities are fixed
key-event logs on the server; what this device opened is put in its store directly, with fixed times. Update after
an intended change with ``pytest tests/tui/test_conversation_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from murmur import key_events as ke
from murmur.client.api import MurmurClient
from murmur.client.conversations import Conversations
from murmur.client.tui.app import MurmurApp
from murmur.client.tui.settings import TuiSettings
from murmur.message import sign_draft
from murmur.sealing import public_hex
from murmur.store import Store
from murmur.store.inbox import Inbox, Stored
from tests.tui.test_snapshots import ALICE, BOB, EVIL_TEXT, ME, MIN, NOW, SIZE, ThreadedServer, at, seeded, settle

PEOPLE = {"me": (ME, 11), "ada": (ALICE, 12), "bob": (BOB, 13)}
LOGS = {
    who: ke.inception(key, "first", public_hex(key.sealing_key()), seeded(n + 10).public_key, at=NOW - 300 * MIN)
    for who, (key, n) in PEOPLE.items()
}
IDS = {who: str(event["id"]) for who, event in LOGS.items()}


async def seed_identities(store: Store) -> None:
    names = {"me": "Me", "ada": "Ada [b]Lovelace[/b]", "bob": "Bob"}
    profiles = [
        sign_draft(key, {"kind": "profile", "body": {"name": names[who]}, "tags": [["identity", IDS[who]]]},
                   created_at=at(200))
        for who, (key, _) in PEOPLE.items()
    ]  # fmt: skip
    await store.ingest([*LOGS.values(), *profiles], now=2**53 - 1)


class DirectServer(ThreadedServer):
    async def _start(self) -> None:
        await super()._start()
        await seed_identities(self.store)


@pytest.fixture(scope="module")
def direct_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    server = DirectServer(tmp_path_factory.mktemp("dmsnap") / "server.db")
    server.start()
    yield server
    server.stop()


def opened(tmp_path: Path) -> Inbox:
    """What this device opened: two conversations (one with unread messages) and one refusal."""
    inbox = Inbox.open(tmp_path / "conversations.db")
    me, ada, bob = IDS["me"], IDS["ada"], IDS["bob"]
    with_ada, with_bob = "a" * 64, "b" * 64
    rows = [
        (with_bob, bob, "Lunch on Friday?", 90, False),
        (with_ada, ada, "Did you see the draft?", 40, False),
        (with_ada, me, "Yes: two comments, sent by mail.", 35, False),
        (with_ada, ada, EVIL_TEXT, 5, True),
        (with_ada, ada, "Thanks!\nSecond line.", 2, True),
    ]
    for n, (conversation, sender, text, minutes_ago, unread) in enumerate(rows):
        message = Stored(f"{n:064x}", conversation, sender, sender, text, at(minutes_ago), None, unread)
        inbox.add(message, f"{n + 100:064x}", [me, ada if conversation == with_ada else bob])
    inbox.refuse("c" * 64, "bad_inner", "It names [bold]nobody[/] \x1b[2J you know.", b"{}", 1, at=1)
    return inbox


def direct_app(server: ThreadedServer, tmp_path: Path, **more: Any) -> MurmurApp:
    """The app on the snapshot server with this device's direct messages (and ``more`` settings)."""
    inbox = opened(tmp_path)

    def talks(api: MurmurClient) -> Conversations:
        return Conversations(api, ME.sealing_key(), IDS["me"], inbox)

    settings = TuiSettings(
        profile="default",
        server="http://murmur.test",
        cache_path=tmp_path / "cache.json",
        clock=lambda: NOW,
        live=False,
        conversations=talks,
        **more,
    )
    return MurmurApp(MurmurClient(server.url, ME), settings)


def test_conversations_tab(snap_compare: Any, direct_server: ThreadedServer, tmp_path: Path) -> None:
    assert snap_compare(direct_app(direct_server, tmp_path), terminal_size=SIZE, run_before=settle("8"))


def test_a_conversation(snap_compare: Any, direct_server: ThreadedServer, tmp_path: Path) -> None:
    assert snap_compare(direct_app(direct_server, tmp_path), terminal_size=SIZE, run_before=settle("8", "enter"))
