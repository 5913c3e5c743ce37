"""The live stream tells a private group's members, and only them, that the group has a new message: ``event:
sealed`` with its ``seq`` and its ``group`` (which every member knows), on the streams of every current device of
each member as the group's members are when the stretch is read, live or resumed from a cursor; never on a
non-member's, nor on a removed member's once removed."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from murmur.client.private_groups import PrivateGroups
from murmur.message import sign_draft
from murmur.server import fanout
from murmur.store import live
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.streaming import stream_events
from tests.server.test_private_groups import groups_of
from tests.server.test_sealed_api import joined
from tests.server.test_stream_fanout import OpenStream, counted


def announced(stream: OpenStream, group: str) -> list[int]:
    return [at for at, event, data in stream.events if event == "sealed" and data.get("group") == group]


async def last_seq(device: PrivateGroups, group: str) -> int:
    return int((await device.api.sealed(group=group, limit=500))["sealed"][-1]["seq"])


async def marker(device: PrivateGroups, text: str) -> str:
    """A public post: once a stream has it, everything stored before it has been offered to that stream."""
    post = sign_draft(device.device, {"kind": "post", "body": {"text": text, "visibility": "local"}})
    await device.api.publish(post)
    return str(post["id"])


async def test_a_group_message_is_announced_to_its_members_devices_alone(
    server: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    ada, bo, cy = Speaker.new(), Speaker.new(), Speaker.new()
    ada.add()
    apis = {name: await joined(server, s) for name, s in (("ada", ada), ("bo", bo), ("cy", cy))}
    laptop = groups_of(ada.devices[0], apis["ada"], ada.identity, tmp_path / "ada")
    phone = groups_of(ada.devices[1], server.client(ada.devices[1].key), ada.identity, tmp_path / "phone")
    bo_groups = groups_of(bo.devices[0], apis["bo"], bo.identity, tmp_path / "bo")
    group = await laptop.create("organisers")
    await laptop.invite(group, [bo_groups.me])
    start = await server.state.store.last_seq()

    async with contextlib.AsyncExitStack() as stack:
        to_phone, to_bo, to_cy = [await stack.enter_async_context(OpenStream(server, d.key))
                                  for d in (ada.devices[1], bo.devices[0], cy.devices[0])]  # fmt: skip
        stretches = counted(monkeypatch, fanout, "stretch")
        read = counted(monkeypatch, live, "group_members_between")
        await laptop.post(group, "hello members")
        first = await last_seq(laptop, group)
        seen = await marker(laptop, "marker one")
        for stream in (to_phone, to_bo, to_cy):
            await stream.until(lambda s=stream: seen in s.messages())
        assert announced(to_phone, group) == announced(to_bo, group) == [first]
        assert not [e for e in to_cy.events if e[1] == "sealed"]  # a non-member hears nothing of it
        [data] = [d for at, e, d in to_bo.events if e == "sealed" and at == first]
        assert data == {"seq": first, "group": group}  # nothing more than the member may know
        assert 1 <= read[0] <= stretches[0]  # once per stretch of the log, not once per stream

        await laptop.remove(group, bo_groups.me)
        await laptop.post(group, "after Bo left")
        after = await last_seq(laptop, group)
        seen = await marker(laptop, "marker two")
        for stream in (to_phone, to_bo, to_cy):
            await stream.until(lambda s=stream: seen in s.messages())
        assert announced(to_phone, group) == [first, after]
        assert announced(to_bo, group) == [first]  # removed: not told of what he cannot read

    # A stream resumed from a cursor reads the log by itself, by the same rule, with the members as they are now:
    # Bo, removed since, is told of neither.
    def done(events: list[tuple[str, dict[str, Any]]]) -> bool:
        return any(d.get("message", {}).get("id") == seen for _, d in events)

    for who, told in ((phone.device, [first, after]), (cy.devices[0].key, []), (bo.devices[0].key, [])):
        events = await stream_events(server, who, done, query=f"cursor={start}")
        assert [d["seq"] for e, d in events if e == "sealed" and d.get("group") == group] == told
