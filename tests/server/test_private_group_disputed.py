"""Through a real home server in process: a private group message a device read and showed is judged again when
its sender's log changes later, as the shown rule judges a public message (murmur.kinds.key_log.device_verdict):
a fork made on purpose in the sender's log, disputing the device that wrote it from before the message, holds it
back on every reader's device (kept, shown nowhere: not in the timeline, search or unread counts), and the rotation
key settling the fork for that device shows it again (murmur.client.group_reading ``_rejudge``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from murmur import key_events as ke
from murmur.client.cli.private import emit_private_timeline, private_timeline
from murmur.keys import Identity
from tests.dm_people import Device, Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined, publish_events

ROTATION, NEXT = Identity.generate(), Identity.generate()


def with_rotation_key() -> Speaker:
    """An identity whose rotation key the test holds, to settle a fork in its log."""
    first = Device.new()
    return Speaker([first], [ke.inception(first.key, "first", first.public, ROTATION.public_key)])


async def test_a_message_from_a_device_a_fork_disputes_is_held_back_until_the_fork_settles(
    server: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ada, bo = Speaker.new(), with_rotation_key()
    owner = groups_of(ada.devices[0], await joined(server, ada), ada.identity, tmp_path / "ada")
    bo_api = await joined(server, bo)
    phone_device = bo.add()
    await publish_events(bo_api, bo)
    phone = groups_of(phone_device, bo_api, bo.identity, tmp_path / "phone")
    group = await owner.create("stewards")
    await owner.invite(group, [bo.identity])
    await phone.sync()
    await phone.post(group, "canary-d15 from the phone")
    assert (await owner.sync()).read == 1
    assert texts(owner, group) == ["canary-d15 from the phone"]
    assert [p.text for p in owner.search("canary-d15")] == ["canary-d15 from the phone"]

    # a fork dated before the phone's message: the laptop removes the phone, the phone moves the identity, both
    # after the same event; each device signed a contested claim, so both are disputed from the removal's time
    place = bo.events[-1]
    removal = ke.remove_device(bo.devices[0].key, bo.identity, place["id"], phone_device.key.public_key,
                               at=place["created_at"] + 1)  # fmt: skip
    moved = ke.move(phone_device.key, bo.identity, place["id"], "https://elsewhere.example", at=place["created_at"] + 2)
    assert (await (await server.member(phone_device.key)).publish(moved))["status"] == "stored"
    assert (await bo_api.publish(removal))["status"] == "stored"
    await owner.sync()
    assert texts(owner, group) == []  # held back: kept on the device, shown nowhere
    assert owner.search("canary-d15") == []
    page = await private_timeline(owner, group, 50)
    assert page.held_back == {"device_disputed": 1}
    emit_private_timeline(page, as_json=False)  # said with the timeline
    assert "held back: 1 message read here (device_disputed)" in capsys.readouterr().err

    # the rotation key settles the fork on the branch that keeps the phone: its message is shown again
    settled = ke.rotation(ROTATION, bo.identity, moved["id"], NEXT.public_key, at=moved["created_at"] + 1)
    assert (await bo_api.publish(settled))["status"] == "stored"
    await owner.sync()
    assert texts(owner, group) == ["canary-d15 from the phone"]
    assert owner.store.held_back(group) == {}
