"""Delivery reads the ``peer_labels`` and ``peers`` tables, not the signed manifest. What was written there by
anything but a signed change (a hand edit, a restored backup, another tool) is shown by `doctor` as drift; a signed
change never signs it along unseen: it is refused, saying what differs and what to do, until the admin sets it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.store import Store, trust
from murmur.store.peers import add_peer, remove_peer
from tests.store_helpers import sign_now

SERVER = Identity.from_seed(b"\x5a" * 32)


async def _two_peers(store: Store) -> tuple[str, str]:
    outside, lab = Identity.generate().public_key, Identity.generate().public_key
    await add_peer(store, outside, "http://out.test", name="out")
    await add_peer(store, lab, "http://lab.test", name="lab")
    await trust.set_labels(store, SERVER, outside, ["outside"])
    return outside, lab


async def _drift(store: Store, sql: str, key: str) -> None:
    async with store.writer.transaction() as conn:  # not through a signed change
        await conn.execute(sql, (bytes.fromhex(key),))


async def test_the_next_signed_change_does_not_sign_a_label_nobody_signed(store: Store) -> None:
    outside, lab = await _two_peers(store)
    await _drift(store, "INSERT INTO peer_labels (peer, label) VALUES (?, 'inside')", outside)
    signed_before = await trust.latest(store)
    assert signed_before is not None
    with pytest.raises(Refused) as refused:
        await trust.set_labels(store, SERVER, lab, ["team"])
    assert refused.value.code == trust.DRIFT
    assert "~ peer out + label inside" in refused.value.message and "murmur peer label" in refused.value.message
    newest = await trust.latest(store)
    assert newest is not None and newest.version == signed_before.version  # nothing signed
    assert (await trust.labels_by_peer(store.conn)).get(lab, frozenset()) == frozenset()  # nor changed
    for change in (
        trust.set_admins(store, SERVER, [Identity.generate().public_key], []),
        remove_peer(store, lab, SERVER),
    ):
        with pytest.raises(Refused):
            await change
    assert {p.key for p in (await trust.live(store, SERVER.public_key)).peers.values()} == {outside, lab}
    # the admin says what the drifted peer's labels are: signed as said, and the next change goes through
    settled = await trust.set_labels(store, SERVER, outside, ["outside"])
    assert settled.peers[outside].labels == {"outside"}
    signed = await trust.set_labels(store, SERVER, lab, ["team"])
    assert signed.peers[outside].labels == {"outside"} and signed.peers[lab].labels == {"team"}


async def test_a_peer_changed_or_added_by_hand_is_not_signed_along(store: Store) -> None:
    outside, lab = await _two_peers(store)
    await _drift(store, "UPDATE peers SET url = 'http://elsewhere.test' WHERE key = ?", lab)
    with pytest.raises(Refused, match="url"):
        await trust.set_labels(store, SERVER, outside, ["outside", "team"])
    await add_peer(store, lab, "http://lab.test", name="lab")  # put right, as `peer add` does
    stranger = Identity.generate().public_key
    await _drift(store, "INSERT INTO peers (key, name, url, mode, proxy, added_at) VALUES (?, 'x', '', 'serve-only',"
                 " '', 0)", stranger)  # fmt: skip
    with pytest.raises(Refused, match=r"\+ peer x"):
        await trust.set_labels(store, SERVER, outside, ["outside", "team"])
    assert await remove_peer(store, stranger, SERVER)  # removing it is the admin's change: signed
    signed = await trust.set_labels(store, SERVER, outside, ["outside", "team"])
    assert set(signed.peers) == {outside, lab} and signed.peers[lab].url == "http://lab.test"


async def test_peers_added_at_once_by_two_processes_are_all_signed(
    store: Store, tmp_path: Path, database: str | None
) -> None:
    """Two `murmur peer add` on one server at the same moment (a script setting up a mesh): each adds its peer and
    signs it in one write transaction, so neither sees the other's peer added but not yet signed (drift)."""
    other = await Store.open(tmp_path / "murmur.db", database=database)  # a second process's store
    try:
        await sign_now(store, SERVER)
        keys = [Identity.generate().public_key for _ in range(6)]
        await asyncio.gather(
            *(
                add_peer(s, key, f"http://p{n}.test", name=f"p{n}", signer=SERVER, labels=["team"] if n % 2 else [])
                for n, (s, key) in enumerate(zip([store, other] * 3, keys, strict=True))
            )
        )
    finally:
        await other.close()
    newest = await trust.latest(store)
    assert newest is not None and set(newest.peers) == set(keys)
    assert {k for k, p in newest.peers.items() if p.labels == {"team"}} == set(keys[1::2])
    assert (await trust.live(store, SERVER.public_key)).peers == newest.peers  # the tables are what is signed


async def test_a_peer_add_refused_as_drift_adds_nothing(store: Store) -> None:
    outside, _lab = await _two_peers(store)
    await _drift(store, "INSERT INTO peer_labels (peer, label) VALUES (?, 'inside')", outside)
    newcomer = Identity.generate().public_key
    with pytest.raises(Refused) as refused:
        await add_peer(store, newcomer, "http://new.test", name="new", signer=SERVER)
    assert refused.value.code == trust.DRIFT
    assert newcomer not in (await trust.live(store, SERVER.public_key)).peers  # not added: nothing to sign later
