"""A direct message must reach everyone it names, and a flood of sealed messages from strangers cannot stop a
person's sync: each identity looked up costs a request, so one sync asks a bounded number and a failing or
rate-limited answer leaves the rest for later syncs (docs/encryption.md §9.4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from murmur import direct
from murmur.client.api import ApiError
from murmur.client.conversations import LOOKUPS_PER_SYNC, Conversations
from murmur.message import now_ms
from murmur.store.inbox import Inbox
from tests.cli.test_dm_hostile_home import Home, counting_lookups, talks
from tests.dm_people import Device, Speaker


def three() -> tuple[Speaker, Speaker, Speaker, dict[str, list[dict[str, Any]]]]:
    ada, bo, mallory = Speaker.new(), Speaker.new(), Speaker.new()
    return ada, bo, mallory, {ada.identity: ada.events, bo.identity: bo.events, mallory.identity: mallory.events}


def from_mallory(mallory: Speaker, people: list[str], devices: list[str], text: str) -> dict[str, Any]:
    inner = direct.inner_message(people, mallory.identity, mallory.devices[0].key.public_key, text, now_ms())
    return direct.seal_direct(inner, mallory.devices[0].x25519, sorted(devices), "public")


async def test_a_message_kept_from_one_participant_is_refused(tmp_path: Path) -> None:
    ada, bo, mallory, events = three()
    people = [ada.identity, bo.identity, mallory.identity]
    split = from_mallory(mallory, people, [ada.devices[0].public, mallory.devices[0].public], "Bo agreed")
    home = Home(ada.devices[0].key, events, [split])
    reader = talks(ada.devices[0], home, ada.identity, tmp_path)
    report = await reader.sync()
    assert report.opened == 0
    [refusal] = report.refused
    assert refusal.code == "not_sent_to_all"
    assert bo.identity[:16] in refusal.reason
    assert reader.conversations() == []


async def test_a_message_sealed_to_every_participant_opens(tmp_path: Path) -> None:
    ada, bo, mallory, events = three()
    people = [ada.identity, bo.identity, mallory.identity]
    devices = [ada.devices[0].public, bo.devices[0].public, mallory.devices[0].public]
    home = Home(ada.devices[0].key, events, [from_mallory(mallory, people, devices, "all of us")])
    reader = talks(ada.devices[0], home, ada.identity, tmp_path)
    assert (await reader.sync()).opened == 1


async def test_a_participant_not_known_yet_is_tried_again_then_opens(tmp_path: Path) -> None:
    ada, bo, mallory, events = three()
    people = [ada.identity, bo.identity, mallory.identity]
    devices = [ada.devices[0].public, bo.devices[0].public, mallory.devices[0].public]
    held = {k: v for k, v in events.items() if k != bo.identity}  # Bo's log has not reached Ada's server
    home = Home(ada.devices[0].key, held, [from_mallory(mallory, people, devices, "soon")])
    clock = [now_ms()]
    device = ada.devices[0]
    inbox = Inbox.open(tmp_path / "ada.db")
    reader = Conversations(home, device.x25519, ada.identity, inbox, clock=lambda: clock[0])  # type: ignore[arg-type]
    first = await reader.sync()
    assert [r.code for r in first.refused] == ["participant_unknown"]
    home.events[bo.identity] = bo.events
    clock[0] += 60_000
    assert (await reader.sync()).opened == 1


async def test_a_flood_of_strangers_costs_a_bounded_number_of_lookups_and_never_fails_the_sync(
    tmp_path: Path,
) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    stranger = Device.new()
    junk = []
    for n in range(3 * LOOKUPS_PER_SYNC):
        nobody = f"{n:064x}"
        inner = direct.inner_message([ada.identity, nobody], nobody, stranger.key.public_key, "x", now_ms())
        junk.append(direct.seal_direct(inner, stranger.x25519, [ada.devices[0].public], "public"))
    inner = direct.inner_message([ada.identity, bo.identity], bo.identity, bo.devices[0].key.public_key, "real",
                                 now_ms())  # fmt: skip
    real = direct.seal_direct(inner, bo.devices[0].x25519, [ada.devices[0].public, bo.devices[0].public], "public")
    home = Home(ada.devices[0].key, {ada.identity: ada.events, bo.identity: bo.events}, [real, *junk])
    asked = counting_lookups(home)
    reader = talks(ada.devices[0], home, ada.identity, tmp_path)
    report = await reader.sync()
    assert report.opened == 1  # the real message, first in the feed
    assert len(asked) <= LOOKUPS_PER_SYNC
    assert len(report.refused) == 3 * LOOKUPS_PER_SYNC  # kept, each with its reason, tried again later


async def test_a_rate_limited_lookup_ends_nothing(tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    inner = direct.inner_message([ada.identity, bo.identity], bo.identity, bo.devices[0].key.public_key, "hi",
                                 now_ms())  # fmt: skip
    message = direct.seal_direct(inner, bo.devices[0].x25519, [ada.devices[0].public, bo.devices[0].public], "public")
    home = Home(ada.devices[0].key, {ada.identity: ada.events, bo.identity: bo.events}, [message])

    async def limited(name: str) -> dict[str, Any]:
        raise ApiError(429, "rate_limited", "Too many requests.")

    home.identity_events = limited  # type: ignore[method-assign]
    reader = talks(ada.devices[0], home, ada.identity, tmp_path)
    report = await reader.sync()  # no exception: `murmur dm list` and the Conversations tab still work
    assert [r.code for r in report.refused] == ["forged_sender"]
    assert "tries again" in report.refused[0].reason
