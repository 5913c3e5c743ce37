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


class FakeApi:
    """Serves one stream of events with the given ids, then records where the reconnection resumes."""

    def __init__(self, ids: list[str | None]) -> None:
        self.ids = ids
        self.resumed_from: list[int | None] = []

    async def health(self) -> dict[str, Any]:
        return {}

    async def stream(self, cursor: int | None) -> AsyncIterator[StreamEvent]:
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

    async def no_wait(_: float) -> None:
        await asyncio.sleep(0)

    with pytest.raises(Stop):
        await follow_stream(api, seen.append, lambda up, why: None, sleep=no_wait)  # type: ignore[arg-type]
    assert api.resumed_from == [None, 5]
    assert len(seen) == 3  # the events themselves are still delivered
