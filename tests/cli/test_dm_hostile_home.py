"""A hostile home server against direct messages: it cannot add a device of its own to anyone's identity (the
device resolves the signed key events itself), every change in a contact's devices is pinned and shown, and the
devices a message is sealed to do not tell which device sent it (docs/encryption.md §9)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from murmur import direct
from murmur import key_events as ke
from murmur.client.api import ApiError
from murmur.client.conversations import Conversations
from murmur.client.identity_check import safety_number
from murmur.errors import ConfigError, Refused
from murmur.keys import Identity
from murmur.message import now_ms
from tests.dm_people import Device, Speaker


@dataclass
class Home:
    """A home server that answers the key events it likes and keeps what is published."""

    device: Identity
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pending: list[dict[str, Any]] = field(default_factory=list)
    published: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = "http://home.test"

    @property
    def identity(self) -> Identity:
        return self.device

    async def identity_events(self, name: str) -> dict[str, Any]:
        if name not in self.events:
            raise ApiError(404, "not_found", "No identity, device or key by that name is held here.")
        return {"identity": name, "bare": False, "events": self.events[name]}

    async def members(self) -> dict[str, Any]:
        return {"members": []}

    async def publish(self, message: dict[str, Any]) -> dict[str, Any]:
        self.published.append(message)
        return {"status": "stored"}

    async def sealed(self, after: int = 0, *, at: str | None = None, limit: int = 100, group: None = None
                     ) -> dict[str, Any]:  # fmt: skip
        items = [{"seq": n + 1, "message": m} for n, m in enumerate(self.pending) if n + 1 > after]
        return {"sealed": items, "next_cursor": len(self.pending), "more": False}


def counting_lookups(home: Any) -> list[str]:
    """The identities ``home`` is asked for from now on, in order (its ``identity_events`` is wrapped)."""
    asked: list[str] = []
    answer = home.identity_events

    async def counted(name: str) -> dict[str, Any]:
        asked.append(name)
        return await answer(name)

    home.identity_events = counted
    return asked


def planted(speaker: Speaker, evil: Device) -> list[dict[str, Any]]:
    """The speaker's events and one more, adding ``evil``, signed by a key that is none of the speaker's devices."""
    body = ke.device_body(evil.key.public_key, "server", evil.public, ke.device_proof(evil.key, speaker.identity))
    return [*speaker.events, ke.add_device(evil.key, speaker.identity, speaker.events[-1]["id"], body)]


def talks(device: Device, home: Home, identity: str, tmp_path: Path) -> Conversations:
    return device.conversations(home, identity, tmp_path)  # type: ignore[arg-type]


def sealed_to(message: dict[str, Any]) -> set[str]:
    return {t["device"] for t in json.loads(message["body"]["envelope"])["to"]}


async def test_a_device_the_server_adds_to_a_recipient_is_never_sealed_to(tmp_path: Path) -> None:
    ada, bo, evil = Speaker.new(), Speaker.new(), Device.new()
    home = Home(ada.devices[0].key, {ada.identity: ada.events, bo.identity: planted(bo, evil)})
    await talks(ada.devices[0], home, ada.identity, tmp_path).send([bo.identity], "the merger is off")
    assert sealed_to(home.published[0]) == {bo.devices[0].public, ada.devices[0].public}


async def test_a_device_the_server_adds_to_the_sender_cannot_speak_for_them(tmp_path: Path) -> None:
    ada, bo, evil = Speaker.new(), Speaker.new(), Device.new()
    inner = direct.inner_message([ada.identity, bo.identity], ada.identity, evil.key.public_key, "payroll?", now_ms())
    forged = direct.seal_direct(inner, evil.x25519, [bo.devices[0].public], "public")
    home = Home(bo.devices[0].key, {ada.identity: planted(ada, evil), bo.identity: bo.events}, [forged])
    reader = talks(bo.devices[0], home, bo.identity, tmp_path)
    report = await reader.sync()
    assert (report.opened, [r.code for r in report.refused]) == (0, ["forged_sender"])
    assert reader.conversations() == []


@pytest.mark.parametrize("served", ["none", "stranger", "unsigned"])
async def test_an_identity_its_signed_events_do_not_make_is_not_sealed_to(served: str, tmp_path: Path) -> None:
    ada, bo, cy = Speaker.new(), Speaker.new(), Speaker.new()
    broken = {**bo.events[0], "sig": "00" * 64}
    events = {"none": [], "stranger": cy.events, "unsigned": [broken]}[served]
    home = Home(ada.devices[0].key, {ada.identity: ada.events, bo.identity: events})
    with pytest.raises(Refused) as refused:
        await talks(ada.devices[0], home, ada.identity, tmp_path).send([bo.identity], "hello")
    assert refused.value.code == "identity_unverified" and home.published == []


@pytest.mark.parametrize("claim", ["bare", "not_found"])
async def test_a_contact_whose_devices_are_pinned_is_not_disowned_on_the_servers_word(
    claim: str, tmp_path: Path
) -> None:
    """Once Bo's devices are pinned from his signed events, his server calling him a bare key, or not known, is
    refused (not taken as a bare key to be skipped): nothing is sealed, the reason says why."""
    ada, bo = Speaker.new(), Speaker.new()
    home = Home(ada.devices[0].key, {ada.identity: ada.events, bo.identity: bo.events})
    conversations = talks(ada.devices[0], home, ada.identity, tmp_path)
    await conversations.send([bo.identity], "first, pinned")
    if claim == "bare":
        answer = home.identity_events

        async def bare(name: str) -> dict[str, Any]:
            return {"identity": name, "bare": True, "events": []} if name == bo.identity else await answer(name)

        home.identity_events = bare  # type: ignore[method-assign]
    else:
        del home.events[bo.identity]
    with pytest.raises(Refused) as refused:
        await conversations.recipient(bo.identity)
    assert refused.value.code == "identity_unverified" and "pinned" in refused.value.message
    assert len(home.published) == 1


async def test_a_forked_identity_is_not_sealed_to(tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    prior = bo.events[-1]["id"]
    one, two = Device.new(), Device.new()
    branches = [ke.add_device(bo.devices[0].key, bo.identity, prior, ke.device_body(
        d.key.public_key, "x", d.public, ke.device_proof(d.key, bo.identity))) for d in (one, two)]  # fmt: skip
    home = Home(ada.devices[0].key, {ada.identity: ada.events, bo.identity: [*bo.events, *branches]})
    with pytest.raises(ConfigError, match="forked"):
        await talks(ada.devices[0], home, ada.identity, tmp_path).send([bo.identity], "hello")


async def test_a_change_in_a_contacts_devices_is_pinned_and_recorded(tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    home = Home(ada.devices[0].key, {ada.identity: ada.events, bo.identity: bo.events})
    sender = talks(ada.devices[0], home, ada.identity, tmp_path)
    await sender.send([bo.identity], "first")
    assert sender.inbox.device_changes([bo.identity]) == []  # first sight: pinned, nothing to say
    phone = bo.add()
    await sender.send([bo.identity], "second")
    [change] = sender.inbox.device_changes([bo.identity])
    assert (change.device, change.change, change.name) == (phone.key.public_key, "added", "d1")
    bo.remove(phone)
    await sender.send([bo.identity], "third")
    assert [c.change for c in sender.inbox.device_changes([bo.identity])] == ["added", "removed"]


async def test_the_devices_a_message_is_sealed_to_do_not_name_the_sending_device(tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    ada.add()
    seen = []
    for n, device in enumerate(ada.devices):
        home = Home(device.key, {ada.identity: ada.events, bo.identity: bo.events})
        await talks(device, home, ada.identity, tmp_path / str(n)).send([bo.identity], "hi")
        seen.append(sealed_to(home.published[0]))
    assert seen[0] == seen[1] == {bo.devices[0].public, *(d.public for d in ada.devices)}


async def test_a_device_reads_its_own_copy_as_one_it_holds(tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    home = Home(ada.devices[0].key, {ada.identity: ada.events, bo.identity: bo.events})
    sender = talks(ada.devices[0], home, ada.identity, tmp_path)
    await sender.send([bo.identity], "hi")
    home.pending = list(home.published)
    assert await sender.sync() == type(await sender.sync())(0, [])
    assert [m.text for c in sender.conversations() for m in sender.messages(c.id)] == ["hi"]


def test_the_safety_number_is_the_same_on_both_sides_and_moves_with_a_device() -> None:
    ada = {"identity": "a" * 64, "devices": [{"key": "1" * 64, "x25519": "2" * 64, "removed_at": None}]}
    bo = {"identity": "b" * 64, "devices": [{"key": "3" * 64, "x25519": "4" * 64, "removed_at": None}]}
    assert safety_number(ada, bo) == safety_number(bo, ada)
    evil = {**bo, "devices": [*bo["devices"], {"key": "5" * 64, "x25519": "6" * 64, "removed_at": None}]}
    assert safety_number(ada, evil) != safety_number(ada, bo)
    assert len(safety_number(ada, bo).replace(" ", "")) == 60
