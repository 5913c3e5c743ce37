"""A device's x25519 is its key's X25519 form (docs/protocol.md §13.2): the store refuses any other at ingest, and
a file that held such logs from before the rule resolves them again when it is opened by this version."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from murmur.keys import Identity
from murmur.kinds import key_log, key_store
from murmur.kinds.key_store import X25519_RULE
from murmur.store import Store
from tests.dm_people import Device, Speaker


async def devices_of(store: Store, identity: str) -> list[str]:
    sql = "SELECT device FROM identity_devices WHERE identity = ? ORDER BY device"
    async with store.conn.execute(sql, (bytes.fromhex(identity),)) as cursor:
        return [bytes(r[0]).hex() for r in await cursor.fetchall()]


async def test_an_event_listing_a_key_its_device_does_not_hold_is_refused(store: Store) -> None:
    ada, mallory = Speaker.new(), Speaker.new()
    claimant = mallory.add(Device(Identity.generate(), ada.devices[0].x25519))
    eve = Speaker.new(first=Device(Identity.generate(), ada.devices[0].x25519))
    results = await store.ingest([*ada.events, *mallory.events, *eve.events])
    assert [(r.status, r.code) for r in results] == [("stored", None), ("stored", None),
                                                     ("refused", "x25519_not_derived"),
                                                     ("refused", "x25519_not_derived")]  # fmt: skip
    assert claimant.key.public_key not in await devices_of(store, mallory.identity)
    assert await devices_of(store, eve.identity) == []


async def test_a_file_from_before_the_rule_drops_what_it_refuses_when_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.db"
    ada, mallory = Speaker.new(), Speaker.new()
    claimant = mallory.add(Device(Identity.generate(), ada.devices[0].x25519))
    eve = Speaker.new(first=Device(Identity.generate(), ada.devices[0].x25519))
    with monkeypatch.context() as before:  # the version before the rule stored them all
        before.setattr(key_log, "x25519_unheld", lambda key, x25519: None)
        async with await Store.open(path) as store:
            results = await store.ingest([*ada.events, *mallory.events, *eve.events])
            assert {r.status for r in results} == {"stored"}
            assert claimant.key.public_key in await devices_of(store, mallory.identity)
        key_store._RESOLVED.clear()  # what that process resolved goes with it
    async with aiosqlite.connect(path) as conn:  # as the version before left the file
        await conn.execute("DROP INDEX identity_devices_by_x25519")
        await conn.execute(f"UPDATE kind_schema SET version = {X25519_RULE} WHERE kind = 'key_inception'")
        await conn.commit()
    for _ in range(2):  # and a second open changes nothing
        async with await Store.open(path) as store:
            assert await devices_of(store, mallory.identity) == [mallory.devices[0].key.public_key]
            assert await devices_of(store, ada.identity) == [ada.devices[0].key.public_key]
            assert await devices_of(store, eve.identity) == []
            assert await store.get_raw(eve.identity) is None  # its refused inception is gone
