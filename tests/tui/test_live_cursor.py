"""The live stream resumes from the last event id it could read by the one number grammar, never from a look-alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from murmur.client.api import StreamEvent
from murmur.client.tui.live import follow_stream
from murmur.errors import MurmurError


class Stop(Exception):
    pass


async def no_wait(_: float) -> None:
    await asyncio.sleep(0)


class FakeApi:
    """Serves one stream of events with the given ids, then records where the reconnection resumes."""

    def __init__(self, ids: list[str | None], health: dict[str, Any] | None = None) -> None:
        self.ids = ids
        self.answer = health or {}
        self.resumed_from: list[int | None] = []
        self.calls: list[str] = []

    async def health(self) -> dict[str, Any]:
        self.calls.append("health")
        return self.answer

    async def stream(self, cursor: int | None) -> AsyncIterator[StreamEvent]:
        self.calls.append("stream")
        self.resumed_from.append(cursor)
        if len(self.resumed_from) > 1:
            raise Stop
        for event_id in self.ids:
            yield StreamEvent("message", event_id, {})
        raise MurmurError("the stream ended")


@pytest.mark.parametrize("hostile", ["٣", "+9", " 9", "9_0", "1e3", "9" * 5000, "-1", "²"])
async def test_an_event_id_that_is_no_number_does_not_move_the_cursor(hostile: str) -> None:
    api = FakeApi(["5", hostile, None])
    seen: list[StreamEvent] = []
    with pytest.raises(Stop):
        await follow_stream(api, seen.append, lambda up, why: None, sleep=no_wait)  # type: ignore[arg-type]
    assert api.resumed_from == [None, 5]
    assert len(seen) == 3  # the events themselves are still delivered


async def test_the_first_stream_resumes_from_where_the_log_ended_before_the_first_reads() -> None:
    """What is stored between the first pages' reads and the stream's start comes over the stream: the log's end is
    read first, then the pages, then the stream opens from that end; a reconnection reads no first pages again."""
    api = FakeApi(["8"], health={"status": "ok", "seq": 7})

    def first_reads() -> None:
        api.calls.append("first reads")

    with pytest.raises(Stop):
        await follow_stream(api, lambda e: None, lambda up, why: None, first_reads=first_reads, sleep=no_wait)  # type: ignore[arg-type]
    assert api.calls == ["health", "first reads", "stream", "health", "stream"]
    assert api.resumed_from == [7, 8]


@pytest.mark.parametrize("seq", ["7", True, -1, 2**53, 7.0, None])
async def test_a_log_end_that_is_no_position_leaves_the_stream_to_start_at_the_servers_end(seq: object) -> None:
    api = FakeApi([], health={"status": "ok", "seq": seq})
    with pytest.raises(Stop):
        await follow_stream(api, lambda e: None, lambda up, why: None, sleep=no_wait)  # type: ignore[arg-type]
    assert api.resumed_from == [None, None]
