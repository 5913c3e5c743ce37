"""Private group messages on the wire (murmur.private_group, docs/encryption.md §16), with real keys and
ciphertexts: what a member reads, in any order, and each way a server or a member could alter, replay, truncate,
move or misdate one, refused with its reason and changing no key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.direct import bound_fields, sign_outer
from murmur.errors import Refused
from murmur.group_chains import GroupKeys
from murmur.group_epoch import Device, Link
from murmur.group_sealing import encrypt_group
from murmur.jcs import canonicalize
from murmur.keys import Identity
from murmur.kinds.sealed import COARSE_MS, envelope_text
from murmur.message import sign_envelope
from murmur.private_group import epoch_messages, group_inner, open_chunk, open_group, read_group_inner, seal_group
from murmur.sealing import public_hex
from murmur.validate import check

GROUP = "6d" * 32
T0 = 1_767_225_600_000


class Member:
    def __init__(self) -> None:
        self.key = Identity.generate()
        self.x25519 = X25519PrivateKey.generate()
        self.identity = Identity.generate().public_key  # stands for the identity id
        self.keys = GroupKeys(GROUP)

    @property
    def device(self) -> Device:
        return Device(self.key.public_key, public_hex(self.x25519))


def start(changer: Member, members: list[Member], previous: Link | None = None) -> list[dict[str, Any]]:
    """The changer starts an epoch for ``members``; every member opens its own chunk and starts it."""
    devices = [m.device for m in members]
    epoch, chunks = epoch_messages(GROUP, devices, previous, changer.x25519, "public", T0)
    for member in members:
        opened = [c for raw in chunks if (c := _try_chunk(raw, member)) is not None]
        assert [c.epoch.digest for c in opened] == [epoch.digest]
        member.keys.start_epoch(opened[0].epoch, devices, sealed_by=opened[0].sealed_by)
    return chunks


def _try_chunk(raw: dict[str, Any], member: Member) -> Any:
    try:
        return open_chunk(check(raw), member.x25519)
    except Refused as refusal:
        assert refusal.code == "not_for_me"
        return None


def write(member: Member, text: str, at: int = T0 + 1000) -> dict[str, Any]:
    inner = group_inner("post", member.identity, member.key.public_key, text, at)
    message = seal_group(member.keys, member.key, inner, "public")
    check(message)  # servers' one validation path takes it
    return message


def refusal_of(reader: Member, message: dict[str, Any]) -> str:
    before = reader.keys.to_json()
    with pytest.raises(Refused) as refused:
        open_group(reader.keys, check(message))
    assert reader.keys.to_json() == before  # a refusal changes no key
    return refused.value.code


@pytest.fixture
def ada_bo() -> tuple[Member, Member]:
    ada, bo = Member(), Member()
    start(ada, [ada, bo])
    return ada, bo


def test_members_read_in_any_order_and_each_message_once(ada_bo: tuple[Member, Member]) -> None:
    ada, bo = ada_bo
    sent = [write(ada, f"message {i}") for i in range(3)]
    read = [open_group(bo.keys, check(m)) for m in reversed(sent)]  # reordered: still each read once
    assert [r.inner.text for r in read] == ["message 2", "message 1", "message 0"]
    assert [r.header.index for r in read] == [2, 1, 0] and {r.inner.sender for r in read} == {ada.identity}
    assert refusal_of(bo, sent[1]) == "replayed"


def test_altered_truncated_and_moved_messages_are_refused(ada_bo: tuple[Member, Member]) -> None:
    ada, bo = ada_bo
    message = write(ada, "the plan")
    one_time = Identity.generate()
    gm = message["body"]["group_message"]

    def resigned(member: str, value: str, at: int = message["created_at"]) -> dict[str, Any]:
        return sign_outer(one_time, at, "public", member, value)

    truncated = json.loads(gm)
    truncated["body"] = truncated["body"][:-8]
    with pytest.raises(Refused) as refused:  # a server's one validation path sees no bucket
        check(resigned("group_message", envelope_text(truncated)))
    assert refused.value.code == "bad_value"
    flipped = json.loads(gm)
    flipped["header"] = ("B" if flipped["header"][0] == "A" else "A") + flipped["header"][1:]
    assert refusal_of(bo, resigned("group_message", envelope_text(flipped))) == "tampered"
    assert refusal_of(bo, resigned("group_message", gm)) == "tampered"  # moved under another outer message
    later = json.loads(gm)
    later["epoch"] = 1
    assert refusal_of(bo, resigned("group_message", envelope_text(later))) == "wrong_epoch"
    other = json.loads(gm)
    other["group"] = "ab" * 32
    assert refusal_of(bo, resigned("group_message", envelope_text(other))) == "wrong_group"
    outer = {k: v for k, v in resigned("group_message", gm).items() if k not in ("id", "sig")}
    for body, code in (({"group_message": gm, "envelope": "{}"}, "bad_value"), ({}, "missing_field")):
        with pytest.raises(Refused) as refused:  # exactly one thing sealed
            check(sign_envelope(one_time, {**outer, "body": {**body, "visibility": "public"}}))
        assert refused.value.code == code
    assert open_group(bo.keys, check(message)).inner.text == "the plan"  # the genuine one still reads


def test_a_forged_or_misdated_inner_message_is_refused(ada_bo: tuple[Member, Member]) -> None:
    ada, bo = ada_bo
    inner = group_inner("post", ada.identity, bo.key.public_key, "signed by Ada, naming Bo's device", T0)
    assert refusal_of(bo, seal_group(ada.keys, ada.key, inner, "public")) == "forged_sender"
    late = group_inner("post", ada.identity, ada.key.public_key, "dated later than its outer time", T0 + COARSE_MS)
    one_time = Identity.generate()
    bound = bound_fields(one_time.public_key, T0, "public")
    written = encrypt_group(ada.keys, ada.key.private_key, canonicalize(late), bound=bound)
    assert refusal_of(bo, sign_outer(one_time, T0, "public", "group_message", envelope_text(written))) == "bad_time"
    with pytest.raises(Refused) as refused:
        read_group_inner(b'{"kind":"post"}')
    assert refused.value.code == "bad_inner"
    with pytest.raises(Refused):
        group_inner("reaction", ada.identity, ada.key.public_key, "+1", T0)  # a reaction names its target


def test_a_removed_member_and_a_late_one_read_only_their_epochs() -> None:
    ada, bo, cy = Member(), Member(), Member()
    start(ada, [ada, bo])
    before = write(ada, "before Cy")
    held = ada.keys.current()
    assert held is not None
    chunks = start(ada, [ada, cy], Link(GROUP, held.number, held.digest))  # Bo removed, Cy invited
    assert all(_try_chunk(c, bo) is None for c in chunks)  # no chunk opens on Bo's device: not_for_me
    after = write(ada, "after Bo left")
    assert refusal_of(bo, after) == "wrong_epoch"
    assert refusal_of(cy, before) == "wrong_epoch"
    assert open_group(cy.keys, check(after)).inner.text == "after Bo left"
    assert open_group(bo.keys, check(before)).inner.text == "before Cy"
    # Bo still holds epoch 0 and can write in it: the chains cannot tell; the wiring refuses it by the group's
    # spans of membership (`not_member`, tests/server/test_private_groups.py)
    assert open_group(ada.keys, check(write(bo, "still here?"))).header.epoch == 0
