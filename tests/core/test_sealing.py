"""murmur/sealing.py against docs/encryption.md: every recipient device opens, nobody else does, and every
alteration a relay could make is refused with its precise code."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from murmur import sealing
from murmur.errors import Refused
from murmur.sealing import (
    BUCKETS,
    MAX_PLAINTEXT,
    TAG_BYTES,
    Opened,
    _unb64url,
    b64url,
    open_sealed,
    public_hex,
    seal,
)

BOUND = {"kind": "dm", "created_at": 1764460800000}


def key(n: int) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(bytes([n]) * 32)


SENDER, RECIPIENTS, STRANGER = key(1), [key(2), key(3), key(4)], key(9)


def sealed(text: bytes = b"meet at the east door", **kw: Any) -> dict[str, Any]:
    return seal(text, SENDER, [public_hex(r) for r in RECIPIENTS], bound=BOUND, **kw)


def refusal(envelope: object, device: X25519PrivateKey, bound: dict[str, Any] | None = BOUND) -> str:
    with pytest.raises(Refused) as caught:
        open_sealed(envelope, device, bound=bound)
    return caught.value.code


def test_every_recipient_device_opens_and_learns_the_sender() -> None:
    envelope = sealed()
    for device in RECIPIENTS:
        assert open_sealed(envelope, device, bound=BOUND) == Opened(b"meet at the east door", public_hex(SENDER))


def test_a_device_not_sealed_to_cannot_open() -> None:
    assert refusal(sealed(), STRANGER) == "not_for_me"
    assert refusal(sealed(), SENDER) == "not_for_me"  # the sender's device reads only if it seals to itself


def test_the_recipient_set_is_sorted_and_without_repeats() -> None:
    keys = [public_hex(r) for r in RECIPIENTS]
    envelope = seal(b"x", SENDER, keys[::-1] + keys, bound=BOUND)
    assert [entry["device"] for entry in envelope["to"]] == sorted(keys)


def test_other_bound_fields_are_tampering() -> None:
    envelope = sealed()
    assert refusal(envelope, RECIPIENTS[0], {**BOUND, "created_at": BOUND["created_at"] + 3_600_000}) == "tampered"
    assert refusal(envelope, RECIPIENTS[0], None) == "tampered"


def _flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_any_flipped_byte_of_the_body_or_of_any_wrap_is_tampering() -> None:
    envelope = sealed()
    body = _unb64url(envelope["body"], "body")
    for at in range(len(body)):
        changed = {**envelope, "body": b64url(_flipped(body, at))}
        assert {refusal(changed, device) for device in RECIPIENTS} == {"tampered"}, at
    for index, entry in enumerate(envelope["to"]):
        wrap = _unb64url(entry["wrap"], "wrap")
        for at in range(len(wrap)):
            changed = copy.deepcopy(envelope)
            changed["to"][index]["wrap"] = b64url(_flipped(wrap, at))
            owner = next(d for d in RECIPIENTS if public_hex(d) == entry["device"])
            assert refusal(changed, owner) == "tampered", (index, at)
            others = [d for d in RECIPIENTS if d is not owner]
            assert [open_sealed(changed, d, bound=BOUND).plaintext for d in others] == [b"meet at the east door"] * 2


def test_a_flipped_recipient_key_leaves_its_device_out_and_tampers_for_the_rest() -> None:
    envelope = sealed()
    for index, entry in enumerate(envelope["to"]):
        for at in range(32):
            changed = copy.deepcopy(envelope)
            changed["to"][index]["device"] = _flipped(bytes.fromhex(entry["device"]), at).hex()
            changed["to"].sort(key=lambda e: e["device"])
            for device in RECIPIENTS:
                expected = "not_for_me" if public_hex(device) == entry["device"] else "tampered"
                assert refusal(changed, device) == expected, (index, at)


def test_swapped_dropped_or_added_recipients_are_tampering() -> None:
    envelope = sealed()
    swapped = copy.deepcopy(envelope)
    swapped["to"][0]["wrap"], swapped["to"][1]["wrap"] = envelope["to"][1]["wrap"], envelope["to"][0]["wrap"]
    owners = [d for d in RECIPIENTS if public_hex(d) in {e["device"] for e in envelope["to"][:2]}]
    assert {refusal(swapped, d) for d in owners} == {"tampered"}
    dropped = {**envelope, "to": envelope["to"][1:]}
    survivors = [d for d in RECIPIENTS if public_hex(d) != envelope["to"][0]["device"]]
    assert {refusal(dropped, d) for d in survivors} == {"tampered"}
    extra = seal(b"other", SENDER, [public_hex(STRANGER)], bound=BOUND)["to"]
    added = {**envelope, "to": sorted(envelope["to"] + extra, key=lambda e: e["device"])}
    assert {refusal(added, d) for d in RECIPIENTS} == {"tampered"}


def test_a_body_or_wrap_moved_from_another_envelope_to_the_same_devices_is_tampering() -> None:
    one, two = sealed(b"first"), sealed(b"second")
    assert {refusal({**one, "body": two["body"]}, d) for d in RECIPIENTS} == {"tampered"}
    moved = copy.deepcopy(one)
    moved["to"][0] = two["to"][0]
    owner = next(d for d in RECIPIENTS if public_hex(d) == one["to"][0]["device"])
    assert refusal(moved, owner) == "tampered"


class _Posing:
    """A sealing key that claims another public key: what a recipient re-wrapping as someone else would do."""

    def __init__(self, real: X25519PrivateKey, claimed: bytes) -> None:
        self.real, self.claimed = real, claimed

    def public_key(self) -> X25519PublicKey:
        return cast(X25519PublicKey, type("Claimed", (), {"public_bytes_raw": lambda _self: self.claimed})())

    def exchange(self, peer: X25519PublicKey) -> bytes:
        return self.real.exchange(peer)


def test_a_recipient_cannot_seal_as_the_sender() -> None:
    # Bo (a recipient of Ada's messages) seals to Cy naming Ada's device as the sender.
    posing = cast(X25519PrivateKey, _Posing(RECIPIENTS[0], SENDER.public_key().public_bytes_raw()))
    forged = seal(b"from Ada, honest", posing, [public_hex(RECIPIENTS[1])], bound=BOUND)
    assert refusal(forged, RECIPIENTS[1]) == "forged_sender"


def test_a_sender_key_nobody_holds_is_forged() -> None:
    posing = cast(X25519PrivateKey, _Posing(RECIPIENTS[0], bytes(32)))
    assert refusal(seal(b"x", posing, [public_hex(RECIPIENTS[1])], bound=BOUND), RECIPIENTS[1]) == "forged_sender"


@pytest.mark.parametrize(
    ("length", "bucket"),
    [(0, 256), (220, 256), (221, 1024), (988, 1024), (989, 4096), (4060, 4096), (4061, 8192), (MAX_PLAINTEXT, 8192)],
)
def test_bodies_are_padded_to_the_smallest_bucket(length: int, bucket: int) -> None:
    envelope = sealed(b"m" * length)
    assert len(_unb64url(envelope["body"], "body")) == bucket + TAG_BYTES
    assert open_sealed(envelope, RECIPIENTS[2], bound=BOUND).plaintext == b"m" * length


PADDED = sealing._padded


@pytest.mark.parametrize(
    "inner",
    [
        lambda sender, text: PADDED(sender, text)[:-1] + b"\1",  # padding not zeros
        lambda sender, text: PADDED(sender, text) + bytes(BUCKETS[1] - BUCKETS[0]),  # a larger bucket than needed
        lambda sender, text: sender + (5000).to_bytes(4, "big") + bytes(220),  # a length past the body
    ],
    ids=["nonzero", "oversized", "overlong"],
)
def test_an_inner_plaintext_off_the_padding_rules_is_bad_envelope(
    monkeypatch: pytest.MonkeyPatch, inner: Callable[[bytes, bytes], bytes]
) -> None:
    monkeypatch.setattr(sealing, "_padded", inner)
    assert refusal(sealed(b"short"), RECIPIENTS[0]) == "bad_envelope"


def test_a_body_cut_to_a_smaller_bucket_is_tampering() -> None:
    envelope = sealed(b"m" * 500)
    cut = _unb64url(envelope["body"], "body")[: BUCKETS[0] + TAG_BYTES]
    assert refusal({**envelope, "body": b64url(cut)}, RECIPIENTS[0]) == "tampered"


def test_a_plaintext_past_the_largest_bucket_is_too_large() -> None:
    assert BUCKETS[-1] == MAX_PLAINTEXT + 36
    with pytest.raises(Refused) as caught:
        sealed(b"m" * (MAX_PLAINTEXT + 1))
    assert caught.value.code == "too_large"


@pytest.mark.parametrize(
    "recipients",
    [[], ["AB" * 32], ["ab" * 31], [bytes(32).hex()], [(bytes([1]) + bytes(31)).hex()]],
    ids=["none", "uppercase", "short", "zero-point", "order-1-point"],
)
def test_bad_recipient_keys_are_refused(recipients: list[str]) -> None:
    with pytest.raises(Refused) as caught:
        seal(b"x", SENDER, recipients)
    assert caught.value.code == "bad_recipient"


def test_a_version_this_device_does_not_know() -> None:
    assert refusal({**sealed(), "v": 2}, RECIPIENTS[0]) == "unknown_version"


def _malformed() -> list[tuple[str, object]]:
    good = sealed()
    entry = good["to"][0]
    wrap = entry["wrap"]
    return [
        ("not an object", [good]),
        ("string version", {**good, "v": "1"}),
        ("bool version", {**good, "v": True}),
        ("extra member", {**good, "from": "ada"}),
        ("missing body", {"v": 1, "to": good["to"]}),
        ("empty to", {**good, "to": []}),
        ("to not a list", {**good, "to": entry}),
        ("entry extra member", {**good, "to": [{**entry, "x": 1}, *good["to"][1:]]}),
        ("device uppercase", {**good, "to": [{**entry, "device": entry["device"].upper()}, *good["to"][1:]]}),
        ("unsorted", {**good, "to": good["to"][::-1]}),
        ("repeated", {**good, "to": [entry, *good["to"]]}),
        ("padded base64", {**good, "to": [{**entry, "wrap": wrap + "=="}, *good["to"][1:]]}),
        ("standard base64", {**good, "body": good["body"].replace("-", "+").replace("_", "/") + "+/"}),
        ("stray low bits", {**good, "to": [{**entry, "wrap": wrap[:-1] + chr(ord(wrap[-1]) ^ 1)}, *good["to"][1:]]}),
        ("short wrap", {**good, "to": [{**entry, "wrap": wrap[:-4]}, *good["to"][1:]]}),
        ("truncated body", {**good, "body": good["body"][:-4]}),
        ("body not text", {**good, "body": 5}),
    ]


@pytest.mark.parametrize(("why", "envelope"), _malformed(), ids=[why for why, _ in _malformed()])
def test_malformed_envelopes_are_bad_envelope(why: str, envelope: object) -> None:
    assert refusal(envelope, RECIPIENTS[0]) == "bad_envelope"


def test_the_content_key_is_fresh_for_every_message() -> None:
    assert sealed()["body"] != sealed()["body"]
