"""Processes of one server take turns writing a SQLite file (murmur.store.write_turn): the one waiting is woken
when the other lets go, and a writer cancelled while waiting never leaves the turn taken."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from murmur.store.write_turn import WriteTurn
from tests.waiting import BOUND_S


async def test_a_second_writer_waits_until_the_first_lets_go(tmp_path: Path) -> None:
    first, second = WriteTurn.beside(tmp_path / "murmur.db"), WriteTurn.beside(tmp_path / "murmur.db")
    try:
        await first.take()
        waiting = asyncio.ensure_future(second.take())
        done, _ = await asyncio.wait([waiting], timeout=0.2)  # not a wait for an event: proof it is still held
        assert not done
        first.let_go()
        await asyncio.wait_for(waiting, BOUND_S)
        second.let_go()
    finally:
        first.close()
        second.close()
    assert stat.S_IMODE((tmp_path / "murmur.db-write.lock").stat().st_mode) == 0o600


async def test_a_writer_cancelled_while_waiting_leaves_the_turn_free(tmp_path: Path) -> None:
    first, second, third = (WriteTurn.beside(tmp_path / "murmur.db") for _ in range(3))
    try:
        await first.take()
        waiting = asyncio.ensure_future(second.take())
        await asyncio.sleep(0)  # let it start waiting on its thread
        waiting.cancel()
        first.let_go()  # the cancelled writer's thread takes the turn now, and gives it back at once
        await asyncio.wait_for(third.take(), BOUND_S)
        third.let_go()
    finally:
        for turn in (first, second, third):
            turn.close()
