"""A removal found backdated is shown to readers as a fork, and a device resolving the signed events itself sees the
log as the server holds it (docs/api.md, GET /api/v1/identities/{id}/events; docs/protocol.md §13.4)."""

from __future__ import annotations

from murmur import key_events as ke
from murmur.client.identity_check import checked_identity
from murmur.client.render import render_profile
from tests.identity_logs import LAPTOP, PHONE, Log
from tests.server.conftest import Harness


async def test_a_backdated_removal_is_shown_and_a_device_resolving_the_events_sees_it_too(server: Harness) -> None:
    made = Log()
    place = made.add(LAPTOP, PHONE, "phone")
    store = server.state.store
    await store.ingest(made.events, origin="peer")
    owners = made.post(LAPTOP, "the owner's words, accepted here")
    assert (await store.ingest([owners]))[0].status == "stored"  # through the members' door
    theft = ke.remove_device(PHONE, made.identity, place["id"], LAPTOP.public_key, at=owners["created_at"] - 1)
    assert (await store.ingest([theft], origin="peer"))[0].status == "stored"
    reader = await server.member()

    profile = await reader.profile(made.identity)
    assert profile["identity"]["fork"] == {"place": place["id"], "branches": [theft["id"]], "backdated": True}
    assert "FORK: a device's removal after" in render_profile(profile)
    answer = await reader.identity_events(made.identity)
    assert answer["backdated"] == [theft["id"]]
    served = await reader.identity_of(made.identity)
    assert await checked_identity(reader, made.identity, at=0) == served
    laptop = next(d for d in served["devices"] if d["key"] == LAPTOP.public_key)
    assert (laptop["removed_at"], laptop["disputed_at"]) == (None, theft["created_at"])
