"""Through a real home server in process: a direct message a device opened and showed is judged again when its
sender's log changes later, as the shown rule judges a public message: a fork made on purpose in the sender's log,
disputing the device that wrote it from before the message, holds it back (kept, shown nowhere: not in the
conversation, its last message or unread count, or search), and the rotation key settling the fork for that device
shows it again (murmur.client.conversations ``_rejudge``; private groups: test_private_group_disputed.py)."""

from __future__ import annotations

from pathlib import Path

from murmur import key_events as ke
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_group_disputed import NEXT, ROTATION, with_rotation_key
from tests.server.test_sealed_api import joined, publish_events


async def test_a_direct_message_from_a_device_a_fork_disputes_is_held_back_until_the_fork_settles(
    server: Harness, tmp_path: Path
) -> None:
    ada, bo = with_rotation_key(), Speaker.new()
    ada_api, bo_api = await joined(server, ada), await joined(server, bo)
    phone = ada.add()
    await publish_events(ada_api, ada)
    phone_api = await server.member(phone.key)
    sent = await phone.conversations(phone_api, ada.identity, tmp_path / "phone").send([bo.identity], "canary-e15")
    reader = bo.devices[0].conversations(bo_api, bo.identity, tmp_path / "bo")
    assert (await reader.sync()).opened == 1
    assert [m.text for m in reader.messages(sent.conversation)] == ["canary-e15"]

    place = ada.events[-1]  # the laptop removes the phone, the phone moves the identity: a fork disputing both
    moved = ke.move(phone.key, ada.identity, place["id"], "https://elsewhere.example", at=place["created_at"] + 2)
    removal = ke.remove_device(ada.devices[0].key, ada.identity, place["id"], phone.key.public_key,
                               at=place["created_at"] + 1)  # fmt: skip
    assert (await phone_api.publish(moved))["status"] == "stored"
    assert (await ada_api.publish(removal))["status"] == "stored"
    await reader.sync()  # nothing new: what it holds is judged again all the same
    assert reader.messages(sent.conversation) == [] and reader.search("canary") == []
    [conversation] = reader.conversations()
    assert (conversation.last, conversation.unread) == (None, 0)
    assert reader.inbox.held_back(sent.conversation) == {"device_disputed": 1}

    settled = ke.rotation(ROTATION, ada.identity, moved["id"], NEXT.public_key, at=moved["created_at"] + 1)
    assert (await ada_api.publish(settled))["status"] == "stored"
    await reader.sync()
    assert [m.text for m in reader.messages(sent.conversation)] == ["canary-e15"]
