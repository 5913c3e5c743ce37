"""What this device writes in a private group waits in its outbox (murmur.store.group_inbox) with the chain that
wrote it, before it is sent: a lost answer, a refusal or a crash between writing and sending never loses an
acknowledged message, never shows the device's own message as a replay, and never writes two with one index.
A direct message, which moves no chain, is read back from the feed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError
from murmur.client.private_groups import PrivateGroups
from murmur.errors import Refused
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import texts
from tests.server.test_private_groups_faults import pair
from tests.server.test_sealed_api import joined

Publish = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class Crash(BaseException):
    """The program ending where it stands (not an error anything catches)."""


async def write(device: PrivateGroups, group: str, kind: str, text: str) -> None:
    """A post, or a reaction ``text`` to the group's first message (posted first, and sent)."""
    if kind == "post":
        await device.post(group, text)
        return
    first = device.timeline(group)[-1].id
    await device.post(group, text, react_to=first)


def everything(device: PrivateGroups, group: str) -> list[str]:
    return sorted(p.text for p in device.timeline(group))


@pytest.mark.parametrize("kind", ["post", "reaction"])
async def test_a_message_whose_answer_was_lost_is_shown_as_its_own_after_the_next_sync(
    server: Harness, tmp_path: Path, kind: str
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    await laptop.post(group, "first")
    real = laptop.api.publish

    async def stored_then_dropped(message: dict[str, Any]) -> dict[str, Any]:
        await real(message)  # the server keeps it; its answer never comes
        raise ApiError(502, "bad_gateway", "connection reset")

    laptop.api.publish = stored_then_dropped  # type: ignore[method-assign]
    with pytest.raises(ApiError) as failed:
        await write(laptop, group, kind, "acknowledged")
    laptop.api.publish = real  # type: ignore[method-assign]
    assert len(laptop.store.unsent()) == 1
    report = await laptop.sync(group)  # sent again: a duplicate, taken
    assert report.unread == [] and laptop.store.unsent() == []
    assert everything(laptop, group) == ["acknowledged", "first"]
    await laptop.post(group, "next")  # its chain went on from the kept message's index
    await bog.sync(group)
    assert everything(bog, group) == ["acknowledged", "first", "next"]
    assert "kept on this device" in failed.value.message  # the person is told it is not lost


async def test_its_own_message_in_the_feed_is_recognised_when_it_cannot_be_sent_again(
    server: Harness, tmp_path: Path
) -> None:
    laptop, _, group = await pair(server, tmp_path)
    real = laptop.api.publish

    async def stored_then_dropped(message: dict[str, Any]) -> dict[str, Any]:
        await real(message)
        raise ApiError(502, "bad_gateway", "connection reset")

    async def busy(message: dict[str, Any]) -> dict[str, Any]:
        raise ApiError(503, "unavailable", "busy")

    laptop.api.publish = stored_then_dropped  # type: ignore[method-assign]
    with pytest.raises(ApiError):
        await laptop.post(group, "held by the server")
    laptop.api.publish = busy  # type: ignore[method-assign]
    report = await laptop.sync(group)  # the feed holds it: its answer, at last
    assert report.unread == [] and laptop.store.unsent() == []
    assert texts(laptop, group) == ["held by the server"]


async def test_a_crash_before_sending_loses_nothing_and_reuses_no_index(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    real = laptop.api.publish

    async def crash(message: dict[str, Any]) -> dict[str, Any]:
        raise Crash

    laptop.api.publish = crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await laptop.post(group, "written before the crash")
    laptop.api.publish = real  # type: ignore[method-assign]
    await laptop.post(group, "after the restart")  # sends the kept one first, then this one on the next index
    report = await bog.sync(group)
    assert report.unread == []
    assert texts(bog, group) == ["written before the crash", "after the restart"]
    assert (await laptop.sync(group)).unread == []
    assert texts(laptop, group) == ["written before the crash", "after the restart"]


async def test_a_message_refused_for_good_leaves_the_outbox_with_its_reason(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    real = laptop.api.publish

    async def refusing(message: dict[str, Any]) -> dict[str, Any]:
        return {"status": "refused", "code": "too_large", "reason": "it is larger than this server takes"}

    laptop.api.publish = refusing  # type: ignore[method-assign]
    with pytest.raises(Refused) as refused:
        await laptop.post(group, "refused")
    assert refused.value.code == "too_large" and "'refused'" in refused.value.message
    assert "larger than this server takes" in refused.value.message
    laptop.api.publish = real  # type: ignore[method-assign]
    assert laptop.store.unsent() == [] and texts(laptop, group) == []
    await laptop.post(group, "taken")
    assert (await bog.sync(group)).unread == [] and texts(bog, group) == ["taken"]


async def test_a_direct_message_whose_answer_was_lost_is_shown_as_its_own_after_the_next_sync(
    server: Harness, tmp_path: Path
) -> None:
    """A direct message moves no chain: the sending device is sealed to, so it opens its own copy from the feed."""
    ada, bo = Speaker.new(), Speaker.new()
    a_api, _ = await joined(server, ada), await joined(server, bo)
    talks = ada.devices[0].conversations(a_api, ada.identity, tmp_path / "ada")
    real = a_api.publish

    async def stored_then_dropped(message: dict[str, Any]) -> dict[str, Any]:
        await real(message)
        raise ApiError(502, "bad_gateway", "connection reset")

    a_api.publish = stored_then_dropped  # type: ignore[method-assign]
    with pytest.raises(ApiError):
        await talks.send([bo.identity], "acknowledged")
    a_api.publish = real  # type: ignore[method-assign]
    report = await talks.sync()
    assert report.opened == 1 and report.refused == []
    (conversation,) = talks.conversations()
    assert [(m.text, m.sender, m.unread) for m in talks.messages(conversation.id)] == [
        ("acknowledged", ada.identity, False)
    ]
