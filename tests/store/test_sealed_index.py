"""The index of sealed messages by recipient device, on both engines: what ingest writes, what a member is
answered (by every device of their identity, none of a bare key or a removed device) and what the live stream
leaves out (murmur.kinds.sealed)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur import direct
from murmur.group_chains import GroupKeys
from murmur.kinds.group_drafts import about_person_draft, create_draft
from murmur.kinds.sealed import KIND, in_group, member_devices, members_between, sealed_for, sealed_in
from murmur.message import sign_draft
from murmur.private_group import epoch_messages, group_inner, seal_group
from murmur.sealing import public_hex
from murmur.store import Store
from murmur.store.ingest import catch_up
from tests.core.test_private_group import Member
from tests.dm_people import Speaker

T = 1_767_225_600_000


def sealed(speaker: Speaker, *devices: str, text: str = "hi") -> dict[str, object]:
    inner = direct.inner_message([speaker.identity], speaker.identity, speaker.devices[0].key.public_key, text, T)
    return direct.seal_direct(inner, speaker.devices[0].x25519, list(devices), "public")


async def test_a_member_is_answered_what_is_sealed_to_any_device_of_their_identity(store: Store) -> None:
    ada, bo = Speaker.new(at=T - 10_000), Speaker.new(at=T - 10_000)
    phone = bo.add(at=T - 5000)
    stranger = public_hex(X25519PrivateKey.generate())
    to_laptop = sealed(ada, bo.devices[0].public)
    to_both = sealed(ada, bo.devices[0].public, phone.public, text="both")
    elsewhere = sealed(ada, stranger)
    results = await store.ingest([*ada.events, *bo.events, to_laptop, to_both, elsewhere, to_both])
    assert [r.status for r in results][-4:] == ["stored", "stored", "stored", "duplicate"]
    seqs = {r.id: r.seq for r in results}

    devices = await member_devices(store, phone.key.public_key)
    assert devices == sorted(bytes.fromhex(d.public) for d in bo.devices)
    answered = await sealed_for(store, devices, 0, 10)
    assert [seq for seq, *_ in answered] == [seqs[to_laptop["id"]], seqs[to_both["id"]]]  # once each, in log order
    assert await sealed_for(store, devices, seqs[to_laptop["id"]], 10) == answered[1:]
    assert len(await sealed_for(store, devices, 0, 1)) == 1
    assert await member_devices(store, "ee" * 32) == []  # a bare key, or nobody: nothing is sealed to it

    # The stream's view, turned around: each sealed message with the members' keys it is told to, every current
    # device of bo's; none for the one sealed to a stranger.
    bos = frozenset(d.key.public_key for d in bo.devices)
    told = await members_between(store, 0, await store.last_seq())
    assert told == {seqs[to_laptop["id"]]: bos, seqs[to_both["id"]]: bos}
    assert await members_between(store, seqs[to_laptop["id"]], seqs[to_both["id"]]) == {seqs[to_both["id"]]: bos}


async def test_a_removed_device_is_answered_nothing(store: Store) -> None:
    ada, bo = Speaker.new(at=T - 10_000), Speaker.new(at=T - 10_000)
    phone = bo.add(at=T - 5000)
    bo.remove(phone, at=T - 1000)
    await store.ingest([*ada.events, *bo.events, sealed(ada, phone.public, bo.devices[0].public)])
    assert await member_devices(store, phone.key.public_key) == []
    assert len(await sealed_for(store, await member_devices(store, bo.devices[0].key.public_key), 0, 10)) == 1
    assert set((await members_between(store, 0, await store.last_seq())).values()) == {
        frozenset({bo.devices[0].key.public_key})
    }


async def test_the_index_is_made_again_from_the_messages(store: Store) -> None:
    """What an upgraded server does with the sealed messages it carried before it knew the kind."""
    ada, bo = Speaker.new(at=T - 10_000), Speaker.new(at=T - 10_000)
    await store.ingest([*ada.events, *bo.events, sealed(ada, bo.devices[0].public)])
    devices = await member_devices(store, bo.devices[0].key.public_key)
    before = await sealed_for(store, devices, 0, 10)
    async with store.writer.transaction() as conn:
        await conn.execute("DELETE FROM sealed_to")
        await catch_up(conn, [KIND])
    assert await sealed_for(store, devices, 0, 10) == before != []


async def test_a_private_group_s_messages_are_answered_to_its_members_only(store: Store) -> None:
    """The index by group (``sealed_groups``): a group's sealed messages in log order, to the identities that have
    a place in the group (member or removed), through any of their devices."""
    ada, bo, cy = Speaker.new(at=T - 10_000), Speaker.new(at=T - 10_000), Speaker.new(at=T - 10_000)
    phone = bo.add(at=T - 5000)
    made = sign_draft(ada.devices[0].key, {**create_draft("organisers", join="invite"), "created_at": T - 4000})
    invite = sign_draft(ada.devices[0].key, {**about_person_draft("group_approve", made["id"], bo.identity),
                                             "created_at": T - 3000})  # fmt: skip
    writer = Member()
    writer.keys = GroupKeys(made["id"])
    epoch, chunks = epoch_messages(made["id"], [writer.device], None, writer.x25519, "public", T)
    writer.keys.start_epoch(epoch, [writer.device], sealed_by=writer.device.sealing)
    posts = [seal_group(writer.keys, writer.key, group_inner("post", writer.identity, writer.key.public_key, t, T),
                        "public") for t in ("one", "two")]  # fmt: skip
    results = await store.ingest([*ada.events, *bo.events, *cy.events, made, invite, *chunks, *posts])
    assert {r.status for r in results} == {"stored"}
    seqs = [r.seq for r in results[-2:]]
    group = made["id"]
    assert [seq for seq, *_ in await sealed_in(store, group, 0, 10)] == seqs
    assert [seq for seq, *_ in await sealed_in(store, group, seqs[0], 10)] == seqs[1:]
    assert await sealed_in(store, "ab" * 32, 0, 10) == []
    assert await in_group(store, phone.key.public_key, group)  # Bo's identity was invited: any of his devices
    assert await in_group(store, ada.devices[0].key.public_key, group)  # the owner, by her key
    assert not await in_group(store, cy.devices[0].key.public_key, group)
    assert not set(seqs) & set(await members_between(store, 0, await store.last_seq()))  # never announced
    assert await sealed_for(store, [bytes.fromhex(writer.device.sealing)], 0, 10) != []  # the chunk, by device
