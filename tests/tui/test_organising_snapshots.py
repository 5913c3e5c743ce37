"""Snapshots of polls and meetups: their cards in the home timeline, a poll's screen (bars, my vote, time left,
open ballots) and a meetup's (places, my answer, the waiting list), opened from the Meetups tab.

Update after an intended change with ``pytest tests/tui/test_organising_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from murmur.keys import Identity
from murmur.kinds.meetup import meetup_body, meetup_draft
from murmur.kinds.poll import poll_draft
from murmur.message import sign_draft
from murmur.store import Store
from tests.tui.test_snapshots import ALICE, BOB, ME, MIN, NOW, SIZE, ThreadedServer, at, settle, snap_app

CLOSES = 4_102_444_800_000  # 2100: open whatever the real clock says, as the server judges "closed" by it


async def seed_organising(store: Store) -> None:
    def s(who: Identity, draft: dict[str, Any], minutes_ago: int) -> dict[str, Any]:
        return sign_draft(who, draft, created_at=at(minutes_ago))

    poll = s(ALICE, poll_draft("Where do we meet?", ["The park", "The library", "Online"], closes_at=CLOSES,
                               multiple=False, group=None), 8)  # fmt: skip
    body = meetup_body("Picnic", start=NOW + 180 * MIN, end=NOW + 300 * MIN, tz="Europe/Paris",
                       place="The park, by the pond", capacity=1, description="Bring something to share.")  # fmt: skip
    meetup = s(ALICE, meetup_draft(body), 5)

    def answer(who: Identity, kind: str, target: dict[str, Any], key: str, value: str, ago: int) -> dict[str, Any]:
        tags = [["target", target["id"]], ["subject", ALICE.public_key]]
        return s(who, {"kind": kind, "body": {key: value}, "tags": tags}, ago)

    await store.ingest(
        [
            s(ME, {"kind": "follow", "body": {}, "tags": [["subject", ALICE.public_key]]}, 9),
            poll,
            answer(BOB, "ballot", poll, "choices", "1", 7),
            answer(ALICE, "ballot", poll, "choices", "2", 7),
            answer(ME, "ballot", poll, "choices", "1", 6),
            meetup,
            answer(BOB, "rsvp", meetup, "answer", "going", 4),
            answer(ME, "rsvp", meetup, "answer", "going", 3),
        ],
        now=2**53 - 1,
    )


class OrganisingServer(ThreadedServer):
    async def _start(self) -> None:
        await super()._start()
        await seed_organising(self.store)


@pytest.fixture(scope="module")
def organising_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    server = OrganisingServer(tmp_path_factory.mktemp("orgsnap") / "server.db")
    server.start()
    yield server
    server.stop()


def test_poll_and_meetup_cards_at_home(snap_compare: Any, organising_server: ThreadedServer, tmp_path: Path) -> None:
    assert snap_compare(snap_app(organising_server, tmp_path), terminal_size=SIZE, run_before=settle())


def test_poll_screen(snap_compare: Any, organising_server: ThreadedServer, tmp_path: Path) -> None:
    # The home timeline's newest entries: the meetup (5 minutes ago), then the poll (8).
    app = snap_app(organising_server, tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle("j", "enter"))


def test_meetup_screen_from_the_meetups_tab(
    snap_compare: Any, organising_server: ThreadedServer, tmp_path: Path
) -> None:
    app = snap_app(organising_server, tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle("7", "enter"))


def test_new_poll_screen(snap_compare: Any, organising_server: ThreadedServer, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await settle()(pilot)
        pilot.app.controller.new_poll()
        await settle()(pilot)
        for field in pilot.app.screen.query(Input):  # a blinking cursor would be drawn or not by the clock
            field.cursor_blink = False
        await pilot.pause()

    app = snap_app(organising_server, tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
