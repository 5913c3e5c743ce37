"""Review 4 (issue 16): attacks that still work, each proven by a test that fails until it is fixed."""

from __future__ import annotations

import stat
from pathlib import Path

from murmur.message import now_ms
from murmur.store.inbox import Inbox
from tests.cli.test_dm_refusals import HostileHome, log_of, message, reader
from tests.dm_people import Speaker


async def test_a_hostile_home_that_says_no_arrival_lets_a_stolen_removed_device_speak_as_its_owner(
    tmp_path: Path,
) -> None:
    """Ada's laptop was stolen and removed from her identity an hour ago; Bo's device has already read Ada's log
    with that removal. The thief backdates a direct message to before the removal, and Bo's home server (the
    organisation's, colluding) simply leaves out ``received_at``: judged by the claimed time alone, the thief's
    words are shown to Bo as Ada's. The device itself knew of the removal before it first saw the message, so it
    can bound the arrival without the server's word (as it does for group acts: ``signed_log.seen``)."""
    removed_at = now_ms() - 3_600_000
    ada, bo = Speaker.new(at=removed_at - 60_000), Speaker.new()
    laptop = ada.add(at=removed_at - 30_000)
    ada.remove(laptop, at=removed_at)
    genuine = message(ada, bo, "hello from my phone")
    forged = message(ada, bo, "wire 50k to the new account", sealer=laptop, at=removed_at - 1)
    home = HostileHome([[genuine]], {ada.identity: log_of(ada)})  # no received_at, ever
    talks = reader(bo, home, tmp_path)
    assert (await talks.sync()).opened == 1  # Bo's device now holds Ada's log, the laptop's removal in it
    home.pages.append([forged])  # first seen by the device well after it held the removal
    report = await talks.sync()
    shown = [m.text for c in talks.conversations() for m in talks.messages(c.id)]
    assert "wire 50k to the new account" not in shown
    assert report.opened == 0 and [r.code for r in report.refused] == ["device_removed"]


def test_a_message_store_found_open_to_other_users_is_kept_open_to_them(tmp_path: Path) -> None:
    """docs/encryption.md §9.8 promises the opened messages rest in a 0600 file. A store that already exists with a
    wider mode (a profile copied with ``cp -r`` or restored from a backup under umask 022) is opened and filled as
    it is: every direct message read from then on is readable by the machine's other users."""
    path = tmp_path / "conversations.db"
    Inbox.open(path).close()
    path.chmod(0o644)  # as `cp -r` or a restore under umask 022 leaves it
    Inbox.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
