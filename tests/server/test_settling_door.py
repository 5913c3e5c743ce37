"""A device a fork disputes is no member (docs/protocol.md §13.4), yet the owner may hold the rotation key on it: its
home server lets it read its own identity and hand in what the rotation key signs, which settles the fork, and
nothing else; a device no member is told why and what to do (docs/cli.md, "Devices and recovery")."""

from __future__ import annotations

from typing import Any

import pytest

from murmur import key_events as ke
from murmur.client.api import ApiError, MurmurClient
from murmur.keys import Identity
from murmur.message import sign_draft
from tests.identity_logs import LAPTOP, PHONE, ROTATION_0, ROTATION_1, STRANGER, TABLET, Log
from tests.server.conftest import Harness


async def forked(server: Harness) -> tuple[Log, dict[str, Any], MurmurClient]:
    """The laptop (a member) added the phone and then removed it; the thief, holding the phone, removed the laptop
    at the same place: a fork disputing both. Answers the log, the place and the laptop's client."""
    log = Log()
    place = log.add(LAPTOP, PHONE, "phone")
    log.remove(LAPTOP, PHONE)
    await server.state.store.ingest(log.events, origin="peer")
    await server.state.store.ingest([log.remove(PHONE, LAPTOP, prior=place["id"])], origin="peer")
    laptop = await server.member(LAPTOP)
    return log, place, laptop


async def backdated(server: Harness) -> tuple[Log, dict[str, Any], MurmurClient]:
    """The thief, holding the phone, appends a removal of the laptop dated before a post of the laptop's this server
    had accepted from its member: held as a fork against the log as acknowledged (docs/protocol.md §13.4)."""
    log = Log()
    place = log.add(LAPTOP, PHONE, "phone")
    await server.state.store.ingest(log.events, origin="peer")
    laptop = await server.member(LAPTOP)
    owners = log.post(LAPTOP, "the owner's words, accepted here")
    assert (await server.state.store.ingest([owners]))[0].status == "stored"  # through the members' door
    theft = ke.remove_device(PHONE, log.identity, place["id"], LAPTOP.public_key, at=owners["created_at"] - 1)
    await server.state.store.ingest([theft], origin="peer")
    return log, place, laptop


async def refused(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await call
    return caught.value


@pytest.mark.parametrize("dispute", [forked, backdated], ids=["fork", "backdated removal"])
async def test_a_disputed_device_reads_its_identity_and_settles_the_fork_with_the_rotation_key(
    server: Harness, dispute: Any
) -> None:
    log, place, laptop = await dispute(server)
    view = await laptop.identity_of(log.identity)
    assert view["fork"] is not None and view["head"] == place["id"]
    assert {d["key"]: d["disputed_at"] is not None for d in view["devices"]} == {
        LAPTOP.public_key: True, PHONE.public_key: True,
    }  # fmt: skip
    rotation = ke.rotation(ROTATION_0, log.identity, view["head"], ROTATION_1.public_key)
    assert (await laptop.publish(rotation))["status"] == "stored"
    settled = await laptop.identity_of(log.identity)
    assert settled["fork"] is None
    assert all(d["disputed_at"] is None and d["removed_at"] is None for d in settled["devices"])
    # the laptop is a member again: it removes the stolen phone as any device does
    removal = ke.remove_device(LAPTOP, log.identity, settled["head"], PHONE.public_key)
    assert (await laptop.publish(removal))["status"] == "stored"


async def test_a_disputed_device_hands_in_nothing_else_and_reads_no_other_identity(server: Harness) -> None:
    log, place, laptop = await forked(server)
    other = Log(first=STRANGER)
    await server.state.store.ingest(other.events, origin="peer")
    post = sign_draft(LAPTOP, {"kind": "post", "body": {"text": "hi"}, "tags": [["identity", log.identity]]})
    not_rotation = ke.add_device(LAPTOP, log.identity, place["id"], _device(log.identity))
    others_rotation = ke.rotation(ROTATION_0, other.identity, other.head, ROTATION_1.public_key)
    for attempt in (laptop.publish(post), laptop.publish(not_rotation), laptop.publish(others_rotation),
                    laptop.identity_of(other.identity), laptop.timeline("home")):  # fmt: skip
        error = await refused(attempt)
        assert (error.status, error.code) == (403, "not_member")
        assert "disputed by a fork" in str(error) and "murmur key rotate" in str(error)


async def test_a_removed_device_is_told_to_recover_from_a_new_device(server: Harness) -> None:
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    log.remove(LAPTOP, PHONE)
    await server.state.store.ingest(log.events, origin="peer")
    await server.member(LAPTOP)
    phone = await server.member(PHONE)
    error = await refused(phone.identity_of(log.identity))
    assert (error.status, error.code) == (403, "not_member")
    assert "removed from its identity" in str(error) and "murmur recover FILE" in str(error)
    stranger = server.client(Identity.generate())
    error = await refused(stranger.identity_of(log.identity))
    assert "join with an invite" in str(error)


def _device(identity: str) -> dict[str, str]:
    return ke.device_body(
        TABLET.public_key, "tablet", ke.x25519_public(TABLET.sealing_key()), ke.device_proof(TABLET, identity)
    )
