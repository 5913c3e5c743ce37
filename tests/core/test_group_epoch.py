"""murmur/group_epoch.py against docs/encryption.md §10: epoch keys reach every member device in chunks that fit
the message size limit, chain by digest, and are refused precisely when malformed or for another group."""

from __future__ import annotations

import json
import math

import pytest

from murmur.errors import Refused
from murmur.group_epoch import (
    EPOCH_LABEL,
    NO_EPOCH,
    OUTER_RESERVE,
    Device,
    Epoch,
    chunk_devices,
    members_digest,
    new_epoch,
    open_epoch,
)
from murmur.jcs import canonicalize
from murmur.sealing import b64url, open_sealed
from murmur.validate import MAX_MESSAGE_BYTES
from tests.groups import BOUND, GROUP, member, receive, sealed_chunks

K = chunk_devices()
CHANGER = member(1)


def devices(count: int) -> list[Device]:
    return [member(seed).device for seed in range(1, count + 1)]


def test_k_is_the_most_devices_whose_sealed_chunk_fits_beside_the_outer_message() -> None:
    epoch, _ = new_epoch(GROUP, devices(K + 1), None)
    fits = sealed_chunks(new_epoch(GROUP, devices(K), None, per_chunk=K)[1], CHANGER)
    over = sealed_chunks(new_epoch(GROUP, devices(K + 1), None, per_chunk=K + 1)[1], CHANGER)
    assert len(canonicalize(fits[0])) <= MAX_MESSAGE_BYTES - OUTER_RESERVE < len(canonicalize(over[0]))
    assert len(epoch.plaintext()) < 1024 - 36  # the epoch plaintext sits in sealing's second bucket, whatever n
    assert chunk_devices(reserve=OUTER_RESERVE + 10 * 238) == K - 10  # a larger outer message, fewer devices


@pytest.mark.parametrize("count", [*range(1, K + 2), 2 * K, 2 * K + 1])
def test_every_device_is_in_exactly_one_chunk_of_at_most_k_and_opens_its_epoch(count: int) -> None:
    members = [member(seed) for seed in range(1, count + 1)]
    epoch, chunks = new_epoch(GROUP, [m.device for m in members], None)
    assert len(chunks) == math.ceil(count / K)
    assert all(1 <= len(chunk.devices) <= K for chunk in chunks)
    listed = [device for chunk in chunks for device in chunk.devices]
    assert sorted(listed) == sorted(m.device.sealing for m in members) and len(set(listed)) == count
    assert {chunk.plaintext for chunk in chunks} == {epoch.plaintext()}  # the same plaintext in every chunk
    envelopes = sealed_chunks(chunks, CHANGER)
    assert all(len(canonicalize(e)) <= MAX_MESSAGE_BYTES - OUTER_RESERVE for e in envelopes)
    for m in (members[0], members[-1]):
        assert receive(envelopes, m)[0] == epoch


def test_a_200_member_group_of_400_devices_seals_in_chunks_every_device_opens() -> None:
    members = [member(seed) for seed in range(1, 401)]
    epoch, chunks = new_epoch(GROUP, [m.device for m in members], None)
    assert [len(c.devices) for c in chunks] == [K] * (400 // K) + [400 % K]
    envelopes = sealed_chunks(chunks, CHANGER)
    assert max(len(canonicalize(e)) for e in envelopes) <= MAX_MESSAGE_BYTES - OUTER_RESERVE
    assert all(receive(envelopes, m)[0] == epoch for m in members)


def test_a_removed_members_devices_cannot_open_the_next_epoch() -> None:
    members = [member(seed) for seed in range(1, 6)]
    first, _ = new_epoch(GROUP, [m.device for m in members], None)
    removed, staying = members[-1], members[:-1]
    second, chunks = new_epoch(GROUP, [m.device for m in staying], first)
    envelopes = sealed_chunks(chunks, CHANGER)
    for envelope in envelopes:
        with pytest.raises(Refused) as caught:
            open_sealed(envelope, removed.sealing_key, bound=BOUND)
        assert caught.value.code == "not_for_me"
    assert (second.number, second.prev) == (1, first.digest) and second.key != first.key
    assert all(receive(envelopes, m)[0] == second for m in staying)


def test_the_member_digest_names_the_set_of_device_key_pairs() -> None:
    listed = devices(5)
    assert members_digest(listed) == members_digest(listed[::-1] + listed[:2])
    changed = [Device(listed[0].signing, listed[1].sealing), *listed[1:]]
    assert members_digest(changed[:1] + listed[2:]) != members_digest(listed[:1] + listed[2:])
    assert members_digest(listed[:4]) != members_digest(listed)


@pytest.mark.parametrize(
    "listed",
    [
        [],
        [Device("AB" * 32, "cd" * 32)],
        [Device("ab" * 31, "cd" * 32)],
        [Device("ab" * 32, 5)],  # type: ignore[arg-type]
        [Device("ab" * 32, "cd" * 32), Device("ef" * 32, "cd" * 32)],
        [Device("ab" * 32, "cd" * 32), Device("ab" * 32, "ef" * 32)],
    ],
    ids=["none", "uppercase", "short", "not-text", "shared-sealing-key", "shared-signing-key"],
)
def test_malformed_device_lists_are_bad_recipient(listed: list[Device]) -> None:
    with pytest.raises(Refused) as caught:
        new_epoch(GROUP, listed, None)
    assert caught.value.code == "bad_recipient"


def test_a_group_id_must_be_hex_and_the_previous_epoch_of_the_same_group() -> None:
    with pytest.raises(Refused) as caught:
        new_epoch("group", devices(1), None)
    assert caught.value.code == "bad_recipient"
    other, _ = new_epoch("7b" * 32, devices(1), None)
    with pytest.raises(Refused) as caught:
        new_epoch(GROUP, devices(1), other)
    assert caught.value.code == "wrong_group"


def test_each_epoch_key_is_fresh() -> None:
    assert new_epoch(GROUP, devices(2), None)[0].key != new_epoch(GROUP, devices(2), None)[0].key


def _epoch_text(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "v": 1,
        "group": GROUP,
        "epoch": 3,
        "prev": "11" * 32,
        "members": "22" * 32,
        "key": b64url(bytes(range(32))),
    }
    fields.update(changes)
    kept = {k: v for k, v in fields.items() if v is not None}
    # json's compact sorted spelling is JCS for these values, and can also spell what JCS refuses (2^53)
    return EPOCH_LABEL + json.dumps(kept, sort_keys=True, separators=(",", ":")).encode()


def test_an_epoch_plaintext_reads_back_as_written() -> None:
    epoch = Epoch(GROUP, 3, "11" * 32, "22" * 32, bytes(range(32)))
    assert epoch.plaintext() == _epoch_text()
    assert open_epoch(_epoch_text(), group=GROUP) == epoch


def _malformed() -> list[tuple[str, bytes | str]]:
    good = _epoch_text()
    spaced = EPOCH_LABEL + json.dumps(json.loads(good[len(EPOCH_LABEL) :])).encode()
    return [
        ("no label", good[len(EPOCH_LABEL) :]),
        ("other label", b"murmur group epoch v2\n" + good[len(EPOCH_LABEL) :]),
        ("not json", EPOCH_LABEL + b"{"),
        ("not utf-8", EPOCH_LABEL + b"\xff"),
        ("not an object", EPOCH_LABEL + b"[1]"),
        ("text, not bytes", good.decode()),  # type: ignore[list-item]
        ("string version", _epoch_text(v="1")),
        ("not canonical", spaced),
        ("extra member", _epoch_text(chunk=0)),
        ("missing key", _epoch_text(key=None)),
        ("bool epoch", _epoch_text(epoch=True)),
        ("negative epoch", _epoch_text(epoch=-1)),
        ("huge epoch", _epoch_text(epoch=2**53)),
        ("uppercase prev", _epoch_text(prev="AB" * 32)),
        ("short members", _epoch_text(members="22" * 31)),
        ("short key", _epoch_text(key=b64url(bytes(31)))),
        ("key not base64url", _epoch_text(key="+" * 43)),
        ("epoch 0 with a prev", _epoch_text(epoch=0)),
        ("a later epoch without", _epoch_text(prev=NO_EPOCH)),
    ]


@pytest.mark.parametrize(("why", "plaintext"), _malformed(), ids=[why for why, _ in _malformed()])
def test_malformed_epoch_plaintexts_are_bad_envelope(why: str, plaintext: bytes) -> None:
    with pytest.raises(Refused) as caught:
        open_epoch(plaintext, group=GROUP)  # a plaintext from a chunk: only a member could send a bad one
    assert caught.value.code == "bad_envelope", why


def test_an_epoch_of_a_version_this_device_does_not_know() -> None:
    with pytest.raises(Refused) as caught:
        open_epoch(_epoch_text(v=2), group=GROUP)
    assert caught.value.code == "unknown_version"


def test_an_epoch_for_another_group_is_wrong_group() -> None:
    with pytest.raises(Refused) as caught:
        open_epoch(_epoch_text(), group="7b" * 32)
    assert caught.value.code == "wrong_group"


def test_a_chunk_size_below_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one device"):
        new_epoch(GROUP, devices(2), None, per_chunk=0)


def test_an_epoch_must_follow_the_head_held_so_no_number_can_be_used_up() -> None:
    """A moderator sealing epoch 2^53-1 would leave no number for the next removal: every device holding an
    epoch refuses one that does not follow its head, and the next removal's epoch still opens."""
    from murmur.group_chains import GroupKeys
    from murmur.group_epoch import MAX_EPOCH, Link

    devices = [member(i).device for i in (1, 2, 3)]
    first, _ = new_epoch(GROUP, devices, None)
    keys = GroupKeys(GROUP)
    keys.start_epoch(first, devices, sealed_by=devices[0].sealing)
    for number in (2, 17, MAX_EPOCH - 1):
        jump, _ = new_epoch(GROUP, devices, Link(GROUP, number, "01" * 32))
        with pytest.raises(Refused) as refused:
            keys.start_epoch(jump, devices, sealed_by=devices[2].sealing)
        assert refused.value.code == "epoch_jump"
    after, _ = new_epoch(GROUP, devices[:2], first)
    assert keys.start_epoch(after, devices[:2], sealed_by=devices[0].sealing) == "new"
    assert keys.current() is not None and keys.current().number == 1
    fresh = GroupKeys(GROUP)  # a device invited again (or holding nothing yet) starts where it is sealed in
    late, _ = new_epoch(GROUP, devices, Link(GROUP, 40, "02" * 32))
    assert keys.start_epoch(late, devices, sealed_by=devices[0].sealing, rejoined=True) == "new"
    assert fresh.start_epoch(late, devices, sealed_by=devices[0].sealing) == "new"


def test_devices_sharing_a_key_leave_out_the_one_not_holding_it_never_the_set() -> None:
    from murmur.group_epoch import distinct
    from murmur.keys import Identity, sealing_public

    bo, claimant, twin = Identity.generate(), Identity.generate(), Identity.generate()
    held = Device(bo.public_key, str(sealing_public(bo.public_key)))
    claim = Device(claimant.public_key, held.sealing)  # another's X25519 key
    kept, left_out = distinct([held, claim, held])
    assert kept == [held] and list(left_out) == [claim] and "sealing key" in left_out[claim]
    members_digest(kept)  # a set that never refuses
    neither = Device(twin.public_key, "ab" * 32)  # two claims, and nobody holds the key: both out
    kept, left_out = distinct([neither, Device(claimant.public_key, "ab" * 32)])
    assert kept == [] and len(left_out) == 2
    same_signing = Device(bo.public_key, "cd" * 32)  # one signing key, two sealing keys: the held one stays
    assert distinct([held, same_signing])[0] == [held]


def test_a_key_no_device_holds_has_no_x25519_form() -> None:
    from murmur.keys import SMALL_ORDER_KEYS, Identity, sealing_public

    me = Identity.generate()
    assert sealing_public(me.public_key) == me.sealing_key().public_key().public_bytes_raw().hex()
    for key in [*SMALL_ORDER_KEYS, "02" + "00" * 31, "zz" * 32, "ab"]:
        assert sealing_public(key) is None
