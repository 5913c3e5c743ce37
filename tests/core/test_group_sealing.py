"""murmur/group_sealing.py and murmur/group_chains.py against docs/encryption.md §11-12: every member device
reads, nobody else does, and every alteration, replay, forgery or wrong key is refused with its precise code
without moving any chain."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from murmur import group_sealing
from murmur.errors import Refused
from murmur.group_chains import MAX_AHEAD, MAX_SKIPPED, Chain, GroupKeys, epoch_id, first_chain_key, step
from murmur.group_epoch import new_epoch
from murmur.group_sealing import (
    HEADER_BYTES,
    MAX_PLAINTEXT,
    decrypt_group,
    encrypt_group,
    read_header,
)
from murmur.sealing import BUCKETS, TAG_BYTES, _unb64url, b64url
from tests.groups import GROUP, Member, member, receive, sealed_chunks, start_group

BOUND = {"kind": "group_sealed", "created_at": 1764460800000}
ADA_LAPTOP, ADA_PHONE, BO, CY = (member(seed) for seed in (1, 2, 3, 4))
STRANGER = member(9)


@pytest.fixture
def group() -> dict[Member, GroupKeys]:
    return start_group([ADA_LAPTOP, ADA_PHONE, BO, CY])[1]


def refusal(keys: GroupKeys, message: object, bound: dict[str, Any] | None = BOUND) -> str:
    before = json.dumps(keys.to_json())
    with pytest.raises(Refused) as caught:
        decrypt_group(keys, message, bound=bound)
    assert json.dumps(keys.to_json()) == before, "a refused message moved a chain"
    return caught.value.code


def write(group: dict[Member, GroupKeys], who: Member, text: bytes = b"the draft is in the shared folder") -> Any:
    return encrypt_group(group[who], who.signing_key, text, bound=BOUND)


def test_every_other_member_device_reads_and_learns_the_sender_device(group: dict[Member, GroupKeys]) -> None:
    message = write(group, ADA_LAPTOP)
    for reader in (ADA_PHONE, BO, CY):
        opened = decrypt_group(group[reader], message, bound=BOUND)
        assert opened.plaintext == b"the draft is in the shared folder"
        assert (opened.header.sender, opened.header.index, opened.header.epoch) == (ADA_LAPTOP.device.signing, 0, 0)


def test_the_writer_already_holds_its_own_message(group: dict[Member, GroupKeys]) -> None:
    assert refusal(group[ADA_LAPTOP], write(group, ADA_LAPTOP)) == "replayed"


def test_a_message_read_twice_is_replayed(group: dict[Member, GroupKeys]) -> None:
    message = write(group, BO)
    decrypt_group(group[CY], message, bound=BOUND)
    assert refusal(group[CY], message) == "replayed"


def test_messages_read_out_of_order_within_the_window_each_read_once(group: dict[Member, GroupKeys]) -> None:
    messages = [write(group, BO, f"note {i}".encode()) for i in range(6)]
    for i in (4, 0, 5, 2, 1, 3):
        assert decrypt_group(group[CY], messages[i], bound=BOUND).plaintext == f"note {i}".encode()
    assert {refusal(group[CY], m) for m in messages} == {"replayed"}
    assert group[CY].current().chains[BO.device.signing].skipped == {}  # type: ignore[union-attr]


@given(st.permutations(range(8)), st.lists(st.integers(0, 7), max_size=4))
def test_any_order_with_any_repeats_reads_each_message_exactly_once(order: list[int], again: list[int]) -> None:
    group = start_group([BO, CY])[1]
    messages = [encrypt_group(group[BO], BO.signing_key, bytes([i]), bound=BOUND) for i in range(8)]
    read: list[int] = []
    for i in order[:4] + again + order[4:]:
        try:
            read.append(decrypt_group(group[CY], messages[i], bound=BOUND).plaintext[0])
        except Refused as refused:
            assert refused.code == "replayed" and i in read
    assert sorted(read) == list(range(8))


def test_past_the_skip_window_the_oldest_keys_go_first(group: dict[Member, GroupKeys]) -> None:
    messages = [write(group, BO, str(i).encode()) for i in range(MAX_SKIPPED + 2)]
    decrypt_group(group[CY], messages[-1], bound=BOUND)  # skips 0 .. MAX_SKIPPED: one key too many
    assert refusal(group[CY], messages[0]) == "too_old"
    assert decrypt_group(group[CY], messages[1], bound=BOUND).plaintext == b"1"
    assert decrypt_group(group[CY], messages[MAX_SKIPPED], bound=BOUND).plaintext == str(MAX_SKIPPED).encode()
    assert refusal(group[CY], messages[-1]) == "replayed"


def _jumped(keys: GroupKeys, who: Member, to: int) -> None:
    """Move ``who``'s own chain straight to index ``to``, as if it had written that many messages."""
    epoch = keys.current()
    assert epoch is not None
    key = epoch.chains[who.device.signing].key
    for _ in range(to):
        key = step(key)[1]
    keys.advance(epoch.digest, who.device.signing, Chain(to, key))


def test_an_index_too_far_past_the_chain_is_too_far_and_one_within_reads(group: dict[Member, GroupKeys]) -> None:
    _jumped(group[BO], BO, MAX_AHEAD + 1)
    assert refusal(group[CY], write(group, BO)) == "too_far"
    within = start_group([BO, CY])[1]
    _jumped(within[BO], BO, MAX_AHEAD - 1)
    before, last = write(within, BO, b"before"), write(within, BO, b"last")
    assert decrypt_group(within[CY], last, bound=BOUND).plaintext == b"last"
    chain = within[CY].current().chains[BO.device.signing]  # type: ignore[union-attr]
    # Of the MAX_AHEAD keys skipped, only the newest MAX_SKIPPED were ever kept.
    assert (chain.next, chain.dropped, len(chain.skipped)) == (MAX_AHEAD + 1, MAX_AHEAD - MAX_SKIPPED, MAX_SKIPPED)
    assert decrypt_group(within[CY], before, bound=BOUND).plaintext == b"before"


def _flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.mark.parametrize("field", ["nonce", "header", "body"])
def test_any_flipped_byte_is_tampering_and_moves_nothing(group: dict[Member, GroupKeys], field: str) -> None:
    message = write(group, ADA_LAPTOP)
    raw = _unb64url(message[field], field)
    for at in range(len(raw)):
        assert refusal(group[BO], {**message, field: b64url(_flipped(raw, at))}) == "tampered", at
    assert decrypt_group(group[BO], message, bound=BOUND).header.index == 0


def test_other_outer_fields_group_or_epoch_are_refused(group: dict[Member, GroupKeys]) -> None:
    message = write(group, ADA_LAPTOP)
    assert refusal(group[BO], message, {**BOUND, "created_at": 1}) == "tampered"
    assert refusal(group[BO], message, None) == "tampered"
    assert refusal(group[BO], {**message, "group": "7b" * 32}) == "wrong_group"
    assert refusal(group[BO], {**message, "epoch": 1}) == "wrong_epoch"
    assert refusal(group[BO], {**message, "epoch_id": "0" * 32}) == "unproven_epoch"  # another key under epoch 0


def test_a_body_or_header_moved_from_another_message_is_tampering(group: dict[Member, GroupKeys]) -> None:
    one, two = write(group, ADA_LAPTOP, b"first"), write(group, ADA_LAPTOP, b"second")
    assert refusal(group[BO], {**one, "body": two["body"]}) == "tampered"
    assert refusal(group[BO], {**one, "header": two["header"]}) == "tampered"
    assert refusal(group[BO], {**one, "nonce": two["nonce"]}) == "tampered"


def test_a_truncated_or_padded_body_is_refused(group: dict[Member, GroupKeys]) -> None:
    message = write(group, ADA_LAPTOP, b"m" * 500)
    body = _unb64url(message["body"], "body")
    assert refusal(group[BO], {**message, "body": b64url(body[: BUCKETS[0] + TAG_BYTES])}) == "tampered"
    assert refusal(group[BO], {**message, "body": b64url(body[:-1])}) == "bad_envelope"
    assert refusal(group[BO], {**message, "body": b64url(body + bytes(1))}) == "bad_envelope"


class _Posing:
    """A signing key that claims another device's public key: a member writing as someone else."""

    def __init__(self, real: Ed25519PrivateKey, claimed: Ed25519PublicKey) -> None:
        self.real, self.claimed = real, claimed

    def public_key(self) -> Ed25519PublicKey:
        return self.claimed

    def sign(self, data: bytes) -> bytes:
        return self.real.sign(data)


def test_a_member_cannot_write_as_another_member_device(group: dict[Member, GroupKeys]) -> None:
    # Bo holds the epoch's keys, so Bo can seal a header naming Ada's laptop; only the signature gives Bo away.
    posing = cast(Ed25519PrivateKey, _Posing(BO.signing_key, ADA_LAPTOP.signing_key.public_key()))
    forged = encrypt_group(group[BO], posing, b"from Ada, honest", bound=BOUND)
    assert {refusal(group[m], forged) for m in (ADA_PHONE, CY)} == {"forged_sender"}


def test_a_device_outside_the_epoch_cannot_write_or_be_read(group: dict[Member, GroupKeys]) -> None:
    with pytest.raises(Refused) as caught:
        encrypt_group(group[BO], STRANGER.signing_key, b"hi", bound=BOUND)
    assert caught.value.code == "not_member"
    # Bo gives the stranger a chain of its own in Bo's copy: Bo's readers still refuse what it writes.
    epoch = group[BO].current()
    assert epoch is not None
    group[BO].advance(epoch.digest, STRANGER.device.signing, Chain(0, bytes(32)))
    smuggled = encrypt_group(group[BO], STRANGER.signing_key, b"hi", bound=BOUND)
    assert refusal(group[CY], smuggled) == "not_member"


def test_a_removed_member_cannot_read_the_next_epoch_nor_a_new_member_the_last() -> None:
    first, held = start_group([ADA_LAPTOP, BO, CY])
    staying = [ADA_LAPTOP, BO, STRANGER]  # Cy removed, the stranger invited
    devices = [m.device for m in staying]
    second, chunks = new_epoch(GROUP, devices, first)
    envelopes = sealed_chunks(chunks, ADA_LAPTOP)
    assert held[ADA_LAPTOP].start_epoch(second, devices, sealed_by=ADA_LAPTOP.device.sealing) == "new"
    epoch, sealer = receive(envelopes, BO)
    assert held[BO].start_epoch(epoch, devices, sealed_by=sealer) == "new"
    newcomer = GroupKeys(GROUP)
    newcomer.start_epoch(receive(envelopes, STRANGER)[0], devices, sealed_by=sealer)
    after = encrypt_group(held[ADA_LAPTOP], ADA_LAPTOP.signing_key, b"after Cy left", bound=BOUND)
    assert after["epoch"] == 1
    assert refusal(held[CY], after) == "wrong_epoch"
    assert decrypt_group(held[BO], after, bound=BOUND).plaintext == b"after Cy left"
    assert decrypt_group(newcomer, after, bound=BOUND).plaintext == b"after Cy left"
    before = start_group([ADA_LAPTOP, BO, CY])[1]  # an earlier epoch-0 message, from the same members
    older = encrypt_group(before[BO], BO.signing_key, b"before", bound=BOUND)
    assert refusal(newcomer, older) == "wrong_epoch"


def test_an_epoch_sealed_by_a_device_outside_its_set_is_not_member() -> None:
    # Cy leaves and starts the next epoch itself: Cy would then know the key of the epoch meant to shut it out.
    first, held = start_group([BO, CY])
    chunks = new_epoch(GROUP, [BO.device], first)[1]
    epoch, sealer = receive(sealed_chunks(chunks, CY), BO)
    assert sealer == CY.device.sealing
    with pytest.raises(Refused) as caught:
        held[BO].start_epoch(epoch, [BO.device], sealed_by=sealer)
    assert caught.value.code == "not_member" and held[BO].current().number == 0  # type: ignore[union-attr]


def test_an_epoch_for_other_devices_than_this_device_knows_is_members_differ() -> None:
    epoch, _ = new_epoch(GROUP, [m.device for m in (BO, CY)], None)
    keys = GroupKeys(GROUP)
    with pytest.raises(Refused) as caught:
        keys.start_epoch(epoch, [m.device for m in (BO, CY, STRANGER)], sealed_by=BO.device.sealing)
    assert caught.value.code == "members_differ" and keys.to_json()["epochs"] == []
    with pytest.raises(Refused) as caught:
        GroupKeys("7b" * 32).start_epoch(epoch, [m.device for m in (BO, CY)], sealed_by=BO.device.sealing)
    assert caught.value.code == "wrong_group"


def test_an_epoch_seen_twice_is_known_and_two_of_one_number_are_a_fork() -> None:
    first, held = start_group([BO, CY])
    devices = [m.device for m in (BO, CY)]
    by = BO.device.sealing
    assert held[CY].start_epoch(first, devices, sealed_by=by) == "known"
    one, _ = new_epoch(GROUP, devices, first)
    two, _ = new_epoch(GROUP, devices, first)
    assert held[CY].start_epoch(one, devices, sealed_by=by) == "new" and held[CY].forks() == []
    # A message in another epoch of a number this device holds waits as unproven_epoch, not tampered (it
    # reads once that epoch's key comes, if it ever does).
    other = GroupKeys(GROUP)
    other.start_epoch(two, devices, sealed_by=by)
    late = encrypt_group(other, BO.signing_key, b"on the other branch", bound=BOUND)
    assert refusal(held[CY], late) == "unproven_epoch"
    assert held[CY].start_epoch(two, devices, sealed_by=by) == "fork" and held[CY].forks() == [1]
    assert held[CY].current().digest == min(one.digest, two.digest)  # type: ignore[union-attr]
    # Messages written under either epoch of the fork read; the epoch id in the clear says which.
    assert decrypt_group(held[CY], late, bound=BOUND).header.digest == two.digest
    assert late["epoch_id"] == epoch_id(two) != epoch_id(one)
    assert refusal(held[CY], {**late, "epoch_id": epoch_id(one)}) == "tampered"


def test_an_epoch_that_does_not_chain_from_the_one_held_before_is_a_fork() -> None:
    held = start_group([BO, CY])[1]
    devices = [m.device for m in (BO, CY)]
    stray, _ = new_epoch(GROUP, devices, new_epoch(GROUP, devices, None)[0])  # epoch 1 after another epoch 0
    assert held[CY].start_epoch(stray, devices, sealed_by=BO.device.sealing) == "fork" and held[CY].forks() == [1]


def test_the_epoch_key_is_not_kept_and_read_message_keys_are_gone() -> None:
    epoch, held = start_group([BO, CY])
    message = encrypt_group(held[BO], BO.signing_key, b"x", bound=BOUND)
    decrypt_group(held[CY], message, bound=BOUND)
    stored = json.dumps(held[CY].to_json())
    first = first_chain_key(epoch, BO.device.signing)
    assert b64url(epoch.key) not in stored and b64url(first) not in stored
    assert b64url(step(first)[0]) not in stored  # message key 0, used and deleted


def test_state_survives_json_and_reads_on(group: dict[Member, GroupKeys]) -> None:
    messages = [write(group, BO, bytes([i])) for i in range(3)]
    decrypt_group(group[CY], messages[2], bound=BOUND)
    stored = GroupKeys.from_json(json.loads(json.dumps(group[CY].to_json())))
    assert stored.to_json() == group[CY].to_json()
    assert [decrypt_group(stored, m, bound=BOUND).plaintext for m in messages[:2]] == [b"\0", b"\1"]


def _corrupt() -> list[tuple[str, Callable[[dict[str, Any]], None]]]:
    def chain(state: dict[str, Any]) -> dict[str, Any]:
        return next(iter(state["epochs"][0]["chains"].values()))  # type: ignore[no-any-return]

    return [
        ("version", lambda s: s.update(v=2)),
        ("bool version", lambda s: s.update(v=True)),
        ("not an object", lambda s: s.clear()),
        ("extra", lambda s: s.update(x=1)),
        ("group", lambda s: s.update(group="x")),
        ("epochs", lambda s: s.update(epochs={})),
        ("epoch number", lambda s: s["epochs"][0].update(epoch=-1)),
        ("header key", lambda s: s["epochs"][0].update(header_key="AAAA")),
        ("chain next", lambda s: chain(s).update(next="1")),
        ("chain key", lambda s: chain(s).update(key=5)),
        ("skipped outside", lambda s: chain(s).update(skipped={"7": b64url(bytes(32))})),
        ("skipped index", lambda s: chain(s).update(skipped={"x": b64url(bytes(32))})),
    ]


@pytest.mark.parametrize(("why", "corrupt"), _corrupt(), ids=[why for why, _ in _corrupt()])
def test_a_corrupt_stored_state_is_bad_state(
    group: dict[Member, GroupKeys], why: str, corrupt: Callable[[dict[str, Any]], None]
) -> None:
    state = copy.deepcopy(group[CY].to_json())
    corrupt(state)
    with pytest.raises(Refused) as caught:
        GroupKeys.from_json(state)
    assert caught.value.code == "bad_state", why


def test_a_batch_sorted_by_its_headers_reads_without_skipping(group: dict[Member, GroupKeys]) -> None:
    batch = [write(group, w, b"x") for w in (BO, ADA_LAPTOP, BO, CY, BO)][::-1]
    before = json.dumps(group[ADA_PHONE].to_json())
    headers = [read_header(group[ADA_PHONE], m, bound=BOUND) for m in batch]
    assert json.dumps(group[ADA_PHONE].to_json()) == before  # reading headers moves no chain
    ordered = [m for _, m in sorted(zip(headers, batch, strict=True), key=lambda p: (p[0].sender, p[0].index))]
    for message in ordered:
        decrypt_group(group[ADA_PHONE], message, bound=BOUND)
    assert all(not c.skipped for c in group[ADA_PHONE].current().chains.values())  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("length", "bucket"),
    [(0, 256), (252, 256), (253, 1024), (1020, 1024), (1021, 4096), (MAX_PLAINTEXT, 8192)],
)
def test_bodies_pad_to_sealings_buckets(group: dict[Member, GroupKeys], length: int, bucket: int) -> None:
    message = write(group, BO, b"m" * length)
    assert len(_unb64url(message["body"], "body")) == bucket + TAG_BYTES
    assert len(_unb64url(message["header"], "header")) == HEADER_BYTES
    assert decrypt_group(group[CY], message, bound=BOUND).plaintext == b"m" * length


def test_a_plaintext_past_the_largest_bucket_is_too_large_and_moves_nothing(group: dict[Member, GroupKeys]) -> None:
    before = json.dumps(group[BO].to_json())
    with pytest.raises(Refused) as caught:
        write(group, BO, b"m" * (MAX_PLAINTEXT + 1))
    assert caught.value.code == "too_large" and json.dumps(group[BO].to_json()) == before


PADDED = group_sealing._padded


@pytest.mark.parametrize(
    "inner",
    [
        lambda text: PADDED(text)[:-1] + b"\1",
        lambda text: PADDED(text) + bytes(BUCKETS[1] - BUCKETS[0]),
        lambda text: (5000).to_bytes(4, "big") + bytes(252),
    ],
    ids=["nonzero", "oversized", "overlong"],
)
def test_an_inner_plaintext_off_the_padding_rules_is_bad_envelope(
    monkeypatch: pytest.MonkeyPatch, group: dict[Member, GroupKeys], inner: Callable[[bytes], bytes]
) -> None:
    monkeypatch.setattr(group_sealing, "_padded", inner)
    assert refusal(group[CY], write(group, BO, b"short")) == "bad_envelope"


def test_no_epoch_held_is_wrong_epoch() -> None:
    with pytest.raises(Refused) as caught:
        encrypt_group(GroupKeys(GROUP), BO.signing_key, b"x", bound=BOUND)
    assert caught.value.code == "wrong_epoch"


def test_a_version_this_device_does_not_know(group: dict[Member, GroupKeys]) -> None:
    assert refusal(group[CY], {**write(group, BO), "v": 2}) == "unknown_version"


def _malformed() -> list[tuple[str, object]]:
    good = write(start_group([BO, CY])[1], BO)
    return [
        ("not an object", [good]),
        ("string version", {**good, "v": "1"}),
        ("bool version", {**good, "v": True}),
        ("extra member", {**good, "sender": "bo"}),
        ("missing body", {k: v for k, v in good.items() if k != "body"}),
        ("group uppercase", {**good, "group": good["group"].upper()}),
        ("bool epoch", {**good, "epoch": False}),
        ("negative epoch", {**good, "epoch": -1}),
        ("missing epoch id", {k: v for k, v in good.items() if k != "epoch_id"}),
        ("short epoch id", {**good, "epoch_id": good["epoch_id"][:-2]}),
        ("uppercase epoch id", {**good, "epoch_id": good["epoch_id"].upper()}),
        ("short nonce", {**good, "nonce": b64url(bytes(11))}),
        ("short header", {**good, "header": good["header"][:-4]}),
        ("padded base64", {**good, "header": good["header"] + "=="}),
        ("stray low bits", {**good, "header": good["header"][:-1] + chr(ord(good["header"][-1]) ^ 1)}),
        ("body not text", {**good, "body": 5}),
    ]


@pytest.mark.parametrize(("why", "message"), _malformed(), ids=[why for why, _ in _malformed()])
def test_malformed_group_messages_are_bad_envelope(group: dict[Member, GroupKeys], why: str, message: object) -> None:
    assert refusal(group[CY], message) == "bad_envelope", why


def test_every_message_has_a_fresh_nonce(group: dict[Member, GroupKeys]) -> None:
    assert write(group, BO)["nonce"] != write(group, BO)["nonce"]


def test_forgetting_older_epochs_leaves_their_messages_unreadable() -> None:
    first, held = start_group([BO, CY])
    devices = [BO.device, CY.device]
    old = encrypt_group(held[BO], BO.signing_key, b"old", bound=BOUND)
    second, _ = new_epoch(GROUP, devices, first)
    for who in (BO, CY):
        held[who].start_epoch(second, devices, sealed_by=BO.device.sealing)
    held[CY].forget_before(1)
    assert [e["epoch"] for e in held[CY].to_json()["epochs"]] == [1]
    assert refusal(held[CY], old) == "wrong_epoch"
    assert decrypt_group(held[CY], write(held, BO, b"new"), bound=BOUND).plaintext == b"new"


POOL = [member(seed) for seed in range(20, 26)]


@settings(max_examples=25)
@given(st.lists(st.sets(st.integers(0, len(POOL) - 1), min_size=1), min_size=1, max_size=5), st.data())
def test_through_any_membership_changes_exactly_the_current_devices_read(
    sets: list[set[int]], data: st.DataObject
) -> None:
    """Each set is the group's devices for one epoch; a random device of each writes; every device of that
    epoch reads it and every other device is refused wrong_epoch, whatever it held before."""
    held = {m: GroupKeys(GROUP) for m in POOL}
    previous, last = None, set(POOL)
    for members in ([POOL[i] for i in sorted(s)] for s in sets):
        devices = [m.device for m in members]
        changer = data.draw(st.sampled_from(members))
        epoch, chunks = new_epoch(GROUP, devices, previous)
        envelopes = sealed_chunks(chunks, changer)
        for m in members:
            opened, sealer = receive(envelopes, m)
            rejoined = m not in last  # removed, then invited again: it missed the epochs made while out
            assert held[m].start_epoch(opened, devices, sealed_by=sealer, rejoined=rejoined) == "new"
        last = set(members)
        writer = data.draw(st.sampled_from(members))
        message = encrypt_group(held[writer], writer.signing_key, b"now", bound=BOUND)
        for m in POOL:
            if m is writer:
                continue
            if m in members:
                assert decrypt_group(held[m], message, bound=BOUND).plaintext == b"now"
            else:
                assert refusal(held[m], message) == "wrong_epoch"
        previous = epoch


def test_one_message_asks_at_most_two_thousand_chain_steps() -> None:
    """A member naming an index far ahead makes every reader step its chain that far: 2,000 steps at most."""
    chain = Chain(0, bytes(32))
    assert chain.message_key(2_000)[1].next == 2_001
    with pytest.raises(Refused) as refused:
        chain.message_key(2_001)
    assert refused.value.code == "too_far"
