"""A person whose device clock is far off gets a clear error when they vote, not a ballot dated wrong: the client
signs the ballot and the request with the same clock, and the server refuses the request's signature first
(``murmur.httpsig``, a 60 s window) with "check your clock"; its door would refuse the ballot itself ``too_old``
(docs/protocol.md §7.4)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import murmur.client.api
import murmur.message
from murmur.httpsig import sign_request
from tests.cli.test_groups_cli import Someone
from tests.tui.conftest import ALICE, BOB
from tests.tui.test_snapshots import ThreadedServer
from tests.tui.test_snapshots import snap_server as home_server

__all__ = ["home_server"]

HOUR_S = 3600


@pytest.mark.parametrize("off_s", [-HOUR_S, HOUR_S])
def test_a_vote_from_a_device_whose_clock_is_an_hour_off_says_check_your_clock(
    home_server: ThreadedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, off_s: int
) -> None:
    alice, bob = Someone(tmp_path / "a", ALICE, home_server), Someone(tmp_path / "b", BOB, home_server)
    poll = alice.json("poll", "create", "Tea?", "--option", "yes", "--option", "no", "--closes", "2h")["id"]

    def signed_off(*args: Any, **kwargs: Any) -> Any:
        return sign_request(*args, **kwargs, created=int(time.time()) + off_s)

    # Bob's device only: what it signs (the ballot, the request) reads its clock; the server's reads the true one.
    monkeypatch.setattr(murmur.client.api, "sign_request", signed_off)
    monkeypatch.setattr(murmur.message, "now_ms", lambda: time.time_ns() // 1_000_000 + off_s * 1000)
    late = bob.run("poll", "vote", poll, "1")
    assert late.exit_code == 1 and "check your clock" in late.stderr
    monkeypatch.undo()
    assert alice.json("poll", "results", poll)["voters"] == 0
