"""Issue 15: an identity outlives a device, and readers see one person: a delete signed by any device of the
identity (speaking for it at the delete's time) takes back what another of its devices wrote (speaking for it at
that message's time), held or still to come, and what a stranger's key or an unproven claim signs does not."""

from __future__ import annotations

from typing import Any

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store
from tests.identity_logs import LAPTOP, PHONE, STRANGER, Log


def lost_laptop() -> tuple[Log, dict[str, Any]]:
    """A laptop's post, then the laptop removed from the identity by the phone (stolen: backdated posts stay)."""
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    laptops = made.post(LAPTOP, "written on the laptop (or by its thief, backdated)")
    made.remove(PHONE, LAPTOP)
    return made, laptops


def delete(made: Log, signer: Identity, target: dict[str, Any], identity: str | None = None) -> dict[str, Any]:
    draft = {"kind": "delete", "body": {}, "tags": [["identity", identity or made.identity], ["target", target["id"]]]}
    return sign_draft(signer, draft, created_at=made.at + 1000)


async def test_an_identity_can_delete_from_one_device_what_its_lost_device_wrote(store: Store) -> None:
    made, laptops = lost_laptop()
    await store.ingest(made.events[:2])
    await store.ingest([laptops])
    await store.ingest(made.events[2:])
    [result] = await store.ingest([delete(made, PHONE, laptops)])
    assert result.status == "stored", result
    assert not await store.get_raw(laptops["id"])
    assert await store.is_deleted(laptops["id"])
    [again] = await store.ingest([laptops])  # a peer offers it again: it stays deleted
    assert again.status == "deleted", again


async def test_a_delete_from_another_device_arriving_before_the_post_keeps_it_out(store: Store) -> None:
    made, laptops = lost_laptop()
    await store.ingest(made.events)
    await store.ingest([delete(made, PHONE, laptops)])
    [result] = await store.ingest([laptops])
    assert result.status == "deleted", result
    assert not await store.get_raw(laptops["id"])


async def test_a_delete_from_another_device_in_the_same_batch_takes_the_post_back(store: Store) -> None:
    made, laptops = lost_laptop()
    await store.ingest(made.events)
    post_result, delete_result = await store.ingest([laptops, delete(made, PHONE, laptops)])
    assert (post_result.status, delete_result.status) == ("deleted", "stored")
    assert not await store.get_raw(laptops["id"])


async def test_a_key_that_does_not_speak_for_the_identity_still_cannot_delete(store: Store) -> None:
    made, laptops = lost_laptop()
    await store.ingest(made.events[:2])
    await store.ingest([laptops])
    await store.ingest(made.events[2:])
    # a stranger naming the identity, and the removed laptop after its removal: neither speaks for it
    for signer in (STRANGER, LAPTOP):
        [result] = await store.ingest([delete(made, signer, laptops)])
        assert result.status == "refused", (signer.public_key, result)
    other = Log(first=STRANGER)
    await store.ingest(other.events)
    [result] = await store.ingest([delete(other, STRANGER, laptops)])
    assert (result.status, result.code) == ("refused", "not_author"), result
    assert await store.get_raw(laptops["id"])
