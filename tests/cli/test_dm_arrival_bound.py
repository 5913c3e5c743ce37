"""A direct message is judged at the later of its claimed time and its arrival, and the arrival is bound by this
device too, not only by the home server's word: a message first seen after the device last read its feed to the
end reached the server after that (murmur.client.sealed_feed.arrival). A home server that leaves ``received_at``
out, or backdates it, cannot have a removed device's backdated message shown as its owner's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError
from murmur.client.sealed_feed import arrival, pages
from murmur.message import now_ms
from murmur.store.inbox import Cursor
from tests.cli.test_dm_refusals import HostileHome, StampingHome, log_of, message, reader
from tests.dm_people import Speaker


def texts(talks: Any) -> list[str]:
    return [m.text for c in talks.conversations() for m in talks.messages(c.id)]


@pytest.mark.parametrize("server_says", ["nothing", "before the removal"])
async def test_a_stolen_removed_devices_backdated_message_is_refused_whatever_the_home_server_says(
    tmp_path: Path, server_says: str
) -> None:
    """Ada's laptop was stolen and removed an hour ago; Bo's device read its feed to the end (and Ada's log) since.
    The thief backdates a message to before the removal, and Bo's home server leaves out when it came, or says
    it came before the removal: the device first saw it after it last read the feed through, so it came after."""
    removed_at = now_ms() - 3_600_000
    ada, bo = Speaker.new(at=removed_at - 60_000), Speaker.new()
    laptop = ada.add(at=removed_at - 30_000)
    ada.remove(laptop, at=removed_at)
    genuine = message(ada, bo, "hello from my phone")
    forged = message(ada, bo, "wire 50k to the new account", sealer=laptop, at=removed_at - 1)
    logs = {ada.identity: log_of(ada)}
    said = [removed_at - 20, removed_at - 10]
    home = HostileHome([[genuine]], logs) if server_says == "nothing" else StampingHome([[genuine]], logs, arrived=said)
    talks = reader(bo, home, tmp_path)
    assert (await talks.sync()).opened == 1
    home.pages.append([forged])
    report = await talks.sync()
    assert "wire 50k to the new account" not in texts(talks)
    assert report.opened == 0 and [r.code for r in report.refused] == ["device_removed"]


async def test_a_message_kept_to_retry_keeps_the_bound_it_was_first_seen_with(tmp_path: Path) -> None:
    """The forgery first comes before the device can read its sender's log (kept, ``forged_sender``, retried):
    tried again once the log comes, it is still judged as having come after the earlier read, not as new."""
    removed_at = now_ms() - 3_600_000
    ada, bo, cy = Speaker.new(at=removed_at - 60_000), Speaker.new(), Speaker.new()
    laptop = ada.add(at=removed_at - 30_000)
    ada.remove(laptop, at=removed_at)
    home = HostileHome([[message(cy, bo, "hi from cy")]], {cy.identity: log_of(cy)})
    talks = reader(bo, home, tmp_path)
    assert (await talks.sync()).opened == 1
    home.pages.append([message(ada, bo, "wire 50k", sealer=laptop, at=removed_at - 1)])
    assert [r.code for r in (await talks.sync()).refused] == ["forged_sender"]  # Ada's log not there yet
    home.logs[ada.identity] = log_of(ada)
    assert (await talks.sync()).opened == 0
    assert [r.code for r in talks.refusals()] == ["device_removed"]
    assert "wire 50k" not in texts(talks)


async def test_a_message_in_the_first_read_is_judged_by_what_the_server_says(tmp_path: Path) -> None:
    """No earlier read bounds what a device's first sync finds: a laptop's message written, and come, before the
    laptop's removal reads as Ada's (docs/encryption.md §9.5 says this limit)."""
    removed_at = now_ms() - 3_600_000
    ada, bo = Speaker.new(at=removed_at - 60_000), Speaker.new()
    laptop = ada.add(at=removed_at - 30_000)
    ada.remove(laptop, at=removed_at)
    home = HostileHome([[message(ada, bo, "sent before it was stolen", sealer=laptop, at=removed_at - 1)]],
                       {ada.identity: log_of(ada)})  # fmt: skip
    talks = reader(bo, home, tmp_path)
    assert (await talks.sync()).opened == 1
    assert texts(talks) == ["sent before it was stolen"]


class Paged:
    """A feed of three pages, the second failing once: a walk cut short never says it read the feed through."""

    base_url = "http://home.test"

    def __init__(self) -> None:
        self.fail = True

    async def sealed(self, after: int = 0, *, at: str | None = None, group: str | None = None) -> dict[str, Any]:
        if after == 1 and self.fail:
            self.fail = False
            raise ApiError(503, "unavailable", "try later")
        return {"sealed": [{"seq": after + 1, "message": {}}], "next_cursor": after + 1, "more": after + 1 < 3}


async def test_only_a_walk_that_reaches_the_end_of_the_feed_moves_its_bound() -> None:
    feed, times = Paged(), iter(range(100, 200))
    cursor = Cursor(through=50)
    with pytest.raises(ApiError):
        async for page in pages(feed, cursor, clock=lambda: next(times)):  # type: ignore[arg-type]
            assert page.since == 50
            cursor = page.cursor
    assert cursor.seq == 1 and cursor.through == 50  # the walk stopped midway: the old bound stays
    async for page in pages(feed, cursor, clock=lambda: next(times)):  # type: ignore[arg-type]
        assert page.since == 50
        cursor = page.cursor
    assert cursor.seq == 3 and cursor.through == 103  # asked for the last page at 103: all before it was read


def test_the_arrival_is_the_later_of_the_servers_word_and_the_devices_bound() -> None:
    assert arrival(None, None) is None
    assert arrival(5, None) == 5 and arrival(None, 7) == 7
    assert arrival(5, 7) == 7 and arrival(9, 7) == 9
