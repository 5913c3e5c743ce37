"""A device's removal appended at the end of the log (no fork) but dated before messages of the removed device this
server had already accepted is contested as a fork's branch is, not obeyed: a thief holding a current device cannot
take back the owner's acknowledged words, nor be trusted over the owner, until the rotation key settles it
(murmur.kinds.key_store; docs/protocol.md §13.4)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from murmur import key_events as ke
from murmur.kinds.key_store import identity_view, member_by_identity
from murmur.store import Store, timelines
from murmur.store.members import add_member
from tests.identity_logs import LAPTOP, PHONE, ROTATION_0, ROTATION_1, TABLET, Log, device, holdings


async def status(store: Store, message: dict[str, Any]) -> tuple[str, str | None]:
    result = (await store.ingest([message], origin="peer"))[0]
    return result.status, result.code


async def claims(store: Store, *messages: dict[str, Any]) -> list[str | None]:
    """Each message's standing here: its claim's status, "aside" when the log refused it, None when not held."""
    out: list[str | None] = []
    for m in messages:
        key = bytes.fromhex(m["id"])
        sql = "SELECT status FROM identity_claims c JOIN messages m USING (seq) WHERE m.id = ?"
        async with store.conn.execute(sql, (key,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            async with store.conn.execute("SELECT 1 FROM identity_refused WHERE id = ?", (key,)) as cursor:
                row = ("aside",) if await cursor.fetchone() else (None,)
        out.append(row[0])
    return out


async def shown(store: Store, identity: str) -> set[str]:
    page = await timelines.author(store, identity, limit=50)
    return {item.id for item in page.items}


async def stolen_phone(store: Store) -> tuple[Log, dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The owner's laptop added a phone and went on posting; the thief, holding the phone, appends a removal of the
    laptop dated just before the owner's posts the server already accepted."""
    made = Log()
    add_phone = made.add(LAPTOP, PHONE, "phone")
    await add_member(store, LAPTOP.public_key)
    await store.ingest(made.events)
    owners = [made.post(LAPTOP, "the owner's first words"), made.post(LAPTOP, "the owner's second words")]
    await store.ingest(owners)
    assert await claims(store, *owners) == ["valid", "valid"]
    theft = ke.remove_device(PHONE, made.identity, made.head, LAPTOP.public_key, at=owners[0]["created_at"] - 1)
    assert await status(store, theft) == ("stored", None)
    return made, add_phone, owners, theft


async def test_a_backdated_removal_does_not_refuse_what_was_accepted_nor_trust_the_thief(store: Store) -> None:
    made, add_phone, owners, theft = await stolen_phone(store)
    # the owner's acknowledged words are held, flagged and hidden, never set aside or deleted
    assert await claims(store, *owners) == ["disputed", "disputed"]
    assert await shown(store, made.identity) == set()
    view = await identity_view(store.conn, made.identity)
    assert view is not None
    assert view["fork"] == {"place": add_phone["id"], "branches": [theft["id"]], "backdated": True}
    devices = {d["key"]: d for d in view["devices"]}
    for key in (LAPTOP.public_key, PHONE.public_key):  # both disputed from the removal, neither removed
        assert (devices[key]["removed_at"], devices[key]["disputed_at"]) == (None, theft["created_at"])
    # the thief's device is not trusted over the owner's: what it signs waits, and it speaks as no member
    thief = made.post(PHONE, "the thief's words")
    assert await status(store, thief) == ("stored", None) and await claims(store, thief) == ["disputed"]
    assert await member_by_identity(store.conn, PHONE.public_key) == ""
    assert await member_by_identity(store.conn, LAPTOP.public_key) == ""
    # nor does a device it adds behind its removal speak for the identity
    tablet = ke.add_device(PHONE, made.identity, theft["id"], device(TABLET, made.identity, "tablet"), at=made.at)
    assert await status(store, tablet) == ("stored", None)
    added = made.post(TABLET, "the thief's new device")
    assert await status(store, added) == ("stored", None) and await claims(store, added) == ["waiting"]


async def test_a_rotation_at_the_removals_place_supersedes_it_and_gives_the_owner_back_their_words(
    store: Store,
) -> None:
    made, add_phone, owners, theft = await stolen_phone(store)
    thief = made.post(PHONE, "the thief's words")
    await store.ingest([thief])
    rotation = made.rotate(ROTATION_0, ROTATION_1, prior=add_phone["id"])
    assert await status(store, rotation) == ("stored", None)
    view = await identity_view(store.conn, made.identity)
    assert view is not None and view["fork"] is None and view["superseded"] == [theft["id"]]
    assert await claims(store, *owners) == ["valid", "valid"]
    assert await shown(store, made.identity) == {owners[0]["id"], owners[1]["id"], thief["id"]}
    assert await member_by_identity(store.conn, LAPTOP.public_key) == "member"
    # the owner then removes the phone, and the thief's later words are refused as any removed device's are
    await store.ingest([made.remove(LAPTOP, PHONE)])
    assert await status(store, made.post(PHONE, "the thief, after")) == ("refused", "device_removed")


async def test_a_rotation_below_the_removal_confirms_it(store: Store) -> None:
    made, _, owners, theft = await stolen_phone(store)
    rotation = made.rotate(ROTATION_0, ROTATION_1, prior=theft["id"])
    assert await status(store, rotation) == ("stored", None)
    view = await identity_view(store.conn, made.identity)
    assert view is not None and view["fork"] is None and view["head"] == rotation["id"]
    laptop = next(d for d in view["devices"] if d["key"] == LAPTOP.public_key)
    assert (laptop["removed_at"], laptop["disputed_at"]) == (theft["created_at"], None)
    assert await claims(store, *owners) == ["aside", "aside"]  # the rotation key's word: refused, kept aside


async def test_a_removal_dated_after_what_was_accepted_stands_at_once(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    await store.ingest(made.events)
    before = made.post(PHONE, "the phone, before its removal")
    await store.ingest([before])
    removal = made.remove(LAPTOP, PHONE)
    await store.ingest([removal])
    view = await identity_view(store.conn, made.identity)
    assert view is not None and view["fork"] is None and view["head"] == removal["id"]
    assert await claims(store, before) == ["valid"]
    assert await status(store, made.post(PHONE, "the phone, after")) == ("refused", "device_removed")


async def _settled(order: list[tuple[dict[str, Any], str]]) -> tuple[Any, ...]:
    """What a fresh store holds of the identity once each message came in ``order``, each through its door."""
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "m.db") as store:
            await add_member(store, LAPTOP.public_key)
            for message, origin in order:
                await store.ingest([message], origin=origin)
            return await holdings(store)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_once_the_rotation_key_settles_a_backdated_removal_every_order_ends_the_same(data: st.DataObject) -> None:
    made = Log()
    place = made.add(LAPTOP, PHONE, "phone")
    owners = [made.post(LAPTOP, "the owner's first words"), made.post(LAPTOP, "the owner's second words")]
    theft = ke.remove_device(PHONE, made.identity, place["id"], LAPTOP.public_key, at=owners[0]["created_at"] - 1)
    at_place = data.draw(st.booleans())  # the rotation supersedes the removal, or (below it) confirms it
    rotation = made.rotate(ROTATION_0, ROTATION_1, prior=place["id"] if at_place else theft["id"])
    later = [*((m, "local") for m in owners), (theft, "peer"), (rotation, "peer")]
    order = data.draw(st.permutations(later))
    first = [(m, "peer") for m in made.events[:2]]
    assert asyncio.run(_settled([*first, *order])) == asyncio.run(_settled([*first, *later]))
