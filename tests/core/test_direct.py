"""Direct messages on a device (murmur.direct) and the sealed kind servers validate (murmur.kinds.sealed): real
keys, real ciphertexts; every refusal with its code."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur import direct
from murmur.errors import Refused
from murmur.jcs import canonicalize
from murmur.keys import Identity
from murmur.kinds.base import HANDED_IN_WITHIN_MS
from murmur.kinds.sealed import COARSE_MS, envelope_text
from murmur.message import now_ms, sign_envelope
from murmur.sealing import public_hex, seal
from murmur.store.audience import signed_by
from murmur.validate import MAX_FUTURE_SKEW_MS, MAX_MESSAGE_BYTES, check

ADA, BO, CY = "ad" * 32, "b0" * 32, "c0" * 32
LAPTOP = Identity.from_seed(bytes([0x41]) * 32)
T = 1_767_225_600_000 + 123_456  # not on a coarse boundary


def x() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def sealed_to(*devices: X25519PrivateKey, text: str = "hi", sender: X25519PrivateKey | None = None,
              visibility: str = "public") -> tuple[dict[str, Any], X25519PrivateKey]:  # fmt: skip
    sender = sender or x()
    inner = direct.inner_message([ADA, BO], ADA, LAPTOP.public_key, text, T)
    return direct.seal_direct(inner, sender, [public_hex(d) for d in devices], visibility), sender


def reseal(plaintext: bytes, sender: X25519PrivateKey, to: X25519PrivateKey, *, created_at: int = T) -> dict[str, Any]:
    """An outer message around any plaintext, sealed properly: what a hostile sender can make."""
    one_time = Identity.generate()
    coarse = created_at // COARSE_MS * COARSE_MS
    bound = direct.bound_fields(one_time.public_key, coarse, "public")
    envelope = seal(plaintext, sender, [public_hex(to)], bound=bound)
    draft = {"v": 1, "kind": "sealed", "author": one_time.public_key, "created_at": coarse,
             "body": {"envelope": envelope_text(envelope), "visibility": "public"}, "tags": []}  # fmt: skip
    return sign_envelope(one_time, draft)


def test_it_opens_on_each_recipient_device_with_its_sender_proven() -> None:
    bo_phone, bo_laptop = x(), x()
    message, sender = sealed_to(bo_phone, bo_laptop, text="lunch?")
    outer = check(message)
    assert outer.created_at % COARSE_MS == 0 and outer.created_at <= T < outer.created_at + COARSE_MS
    assert outer.tags == () and "lunch" not in outer.raw.decode()
    for device in (bo_phone, bo_laptop):
        got = direct.open_direct(outer, device)
        assert got.inner.text == "lunch?" and got.inner.sender == ADA and got.inner.created_at == T
        assert got.sealed_by == public_hex(sender) and got.outer == outer.id
        assert got.inner.conversation == direct.conversation_id([BO, ADA, BO])
    with pytest.raises(Refused) as refused:
        direct.open_direct(outer, x())
    assert refused.value.code == "not_for_me"


def test_the_one_time_author_is_fresh_and_a_members_door_takes_it() -> None:
    bo = x()
    one, _ = sealed_to(bo)
    two, _ = sealed_to(bo)
    assert one["author"] != two["author"] and LAPTOP.public_key not in json.dumps(one)
    fresh = direct.seal_direct(direct.inner_message([ADA, BO], ADA, LAPTOP.public_key, "hi", now_ms()), x(),
                               [public_hex(bo)], "public")  # fmt: skip
    signed_by(LAPTOP.public_key)(check(fresh))  # not the caller's key, and still taken: it is sealed


def test_the_window_covers_a_sealed_messages_coarse_time_and_the_clock_skew() -> None:
    """Rounded down to its coarse window and sent from a clock as far behind as validation allows ahead, a sealed
    message sealed just now is still within the window a member's door takes."""
    assert HANDED_IN_WITHIN_MS >= COARSE_MS + MAX_FUTURE_SKEW_MS


@pytest.mark.parametrize("age", [0, HANDED_IN_WITHIN_MS - 1000, HANDED_IN_WITHIN_MS + 1000, 86_400_000])
def test_a_members_door_refuses_a_sealed_message_dated_before_the_window(age: int) -> None:
    at = now_ms() - age
    inner = direct.inner_message([ADA, BO], ADA, LAPTOP.public_key, "backdated", at)
    message = check(direct.seal_direct(inner, x(), [public_hex(x())], "public"))
    door = signed_by(LAPTOP.public_key)
    if at // COARSE_MS * COARSE_MS >= now_ms() - HANDED_IN_WITHIN_MS:
        door(message)
        return
    with pytest.raises(Refused) as refused:
        door(message)
    assert refused.value.code == "too_old"


@pytest.mark.parametrize("where", ["body", "wrap", "device"])
def test_a_tampered_envelope_is_refused(where: str) -> None:
    bo, signer = x(), Identity.generate()
    inner = direct.inner_message([ADA, BO], ADA, LAPTOP.public_key, "hi", T)
    message = direct.seal_direct(inner, x(), [public_hex(bo)], "public", signer=signer)
    envelope = json.loads(message["body"]["envelope"])
    if where == "body":
        text = envelope["body"]
        envelope["body"] = ("B" if text[0] != "B" else "C") + text[1:]
    elif where == "wrap":
        wrap = envelope["to"][0]["wrap"]
        envelope["to"][0]["wrap"] = ("B" if wrap[0] != "B" else "C") + wrap[1:]
    else:
        envelope["to"][0]["device"] = public_hex(x())
    # Signed again by the same one-time key, so the outer message is valid and only the envelope is wrong.
    draft = {k: message[k] for k in ("v", "kind", "author", "created_at", "tags")}
    outer = check(sign_envelope(signer, {**draft, "body": {**message["body"], "envelope": envelope_text(envelope)}}))
    with pytest.raises(Refused) as refused:
        direct.open_direct(outer, bo)
    assert refused.value.code == ("not_for_me" if where == "device" else "tampered")


def test_an_envelope_moved_under_another_outer_message_is_refused() -> None:
    bo = x()
    message, _ = sealed_to(bo)
    thief = Identity.generate()
    moved = {k: message[k] for k in ("v", "kind", "created_at", "body", "tags")} | {"author": thief.public_key}
    outer = check(sign_envelope(thief, moved))  # a valid message: servers cannot tell
    with pytest.raises(Refused) as refused:
        direct.open_direct(outer, bo)
    assert refused.value.code == "tampered"


@pytest.mark.parametrize(
    ("inner", "why"),
    [
        (b"not json", "bad_inner"),
        (b"[]", "bad_inner"),
        (canonicalize({"text": "hi"}), "bad_inner"),
        (b'{"created_at": 1}', "bad_inner"),
    ],
)
def test_a_plaintext_that_is_no_direct_message_is_refused(inner: bytes, why: str) -> None:
    bo, sender = x(), x()
    with pytest.raises(Refused) as refused:
        direct.open_direct(check(reseal(inner, sender, bo)), bo)
    assert refused.value.code == why


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "00" * 32},  # not the digest of the rest
        {"participants": [BO, ADA]},  # not sorted
        {"participants": [BO, CY]},  # the sender is no participant
        {"text": ""},
        {"text": "x" * 5001},
        {"device": "XY"},
        {"created_at": -1},
        {"reply_to": "nothex"},
    ],
)
def test_each_fault_of_the_inner_message_is_refused(changes: dict[str, Any]) -> None:
    bo, sender = x(), x()
    inner = {**direct.inner_message([ADA, BO], ADA, LAPTOP.public_key, "hi", T), **changes}
    with pytest.raises(Refused) as refused:
        direct.open_direct(check(reseal(canonicalize(inner), sender, bo)), bo)
    assert refused.value.code == "bad_inner"


def test_an_exact_time_outside_the_coarse_one_is_refused() -> None:
    bo, sender = x(), x()
    inner = direct.inner_message([ADA, BO], ADA, LAPTOP.public_key, "hi", T + 2 * COARSE_MS)
    with pytest.raises(Refused) as refused:
        direct.open_direct(check(reseal(canonicalize(inner), sender, bo, created_at=T)), bo)
    assert refused.value.code == "bad_time"


def _log(sealer: X25519PrivateKey, **device: Any) -> dict[str, Any]:
    entry = {"key": LAPTOP.public_key, "x25519": public_hex(sealer), "added_at": 0, "removed_at": None,
             "disputed_at": None, **device}  # fmt: skip
    return {"identity": ADA, "bare": False, "devices": [entry]}


@pytest.mark.parametrize(
    ("log", "code"),
    [
        (lambda s: None, "forged_sender"),  # the sender's log is not known
        (lambda s: {**_log(s), "identity": CY}, "forged_sender"),  # another identity's log
        (lambda s: _log(s, key="ee" * 32), "forged_sender"),  # names a device not in the log
        (lambda s: _log(x()), "forged_sender"),  # sealed by another key than the device's
        (lambda s: _log(s, removed_at=T - 1), "device_removed"),
        (lambda s: _log(s, added_at=T + 1), "device_not_yet"),
        (lambda s: _log(s, disputed_at=T), "device_disputed"),
        (lambda s: _log(s, removed_at=T + 1), None),
    ],
)
def test_the_sender_is_checked_against_their_log(log: Any, code: str | None) -> None:
    bo = x()
    message, sender = sealed_to(bo)
    got = direct.open_direct(check(message), bo)
    if code is None:
        direct.check_sender(got, log(sender))
        return
    with pytest.raises(Refused) as refused:
        direct.check_sender(got, log(sender))
    assert refused.value.code == code


def test_the_size_of_a_sealed_message_is_known_before_sealing() -> None:
    devices = [x() for _ in range(25)]
    message, _ = sealed_to(*devices, text="y" * 3000)
    # Exact but for the time's digits: counted as the largest time's 16, where today's have 13.
    assert len(canonicalize(message)) + 3 == direct.outer_size(25, 4096, "public") <= MAX_MESSAGE_BYTES
    assert direct.largest_bucket(20, "public") == 8192 and direct.largest_bucket(21, "public") == 4096


def test_a_text_too_long_for_that_many_devices_says_the_limit() -> None:
    devices = [x() for _ in range(25)]
    with pytest.raises(Refused) as refused:
        sealed_to(*devices, text="y" * 4000)
    assert refused.value.code == "too_large" and "25 devices" in refused.value.message
    assert "at most 3" in refused.value.message  # the room a 4096 bucket leaves beside the inner members
    with pytest.raises(Refused) as refused:
        sealed_to(*[x() for _ in range(70)])
    assert refused.value.code == "too_large" and "at most 59 devices" in refused.value.message


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda m: {**m, "tags": [["identity", "ad" * 32]]}, "bad_tag"),
        (lambda m: {**m, "tags": [["counter", "1"]]}, "bad_tag"),
        (lambda m: {**m, "tags": [["mention", LAPTOP.public_key]]}, "bad_tag"),
        (lambda m: {**m, "created_at": m["created_at"] + 1}, "bad_value"),
        (lambda m: {**m, "body": {**m["body"], "visibility": "nowhere"}}, "bad_value"),
        (lambda m: {**m, "body": {**m["body"], "envelope": m["body"]["envelope"] + " "}}, "bad_value"),
        (lambda m: {**m, "body": {**m["body"], "envelope": "[]"}}, "bad_value"),
        (lambda m: {**m, "body": {**m["body"], "envelope": '{"body":"","to":[],"v":1}'}}, "bad_value"),
        (lambda m: {**m, "body": {**m["body"], "envelope": '{"body":"","to":[],"v":2}'}}, "bad_value"),
        (lambda m: {**m, "body": {"visibility": "public"}}, "missing_field"),
    ],
)
def test_servers_refuse_a_sealed_message_of_the_wrong_shape(change: Any, code: str) -> None:
    one_time = Identity.generate()
    message, _ = sealed_to(x())
    draft = change({k: v for k, v in message.items() if k not in ("id", "sig")} | {"author": one_time.public_key})
    with pytest.raises(Refused) as refused:
        check(sign_envelope(one_time, draft))
    assert refused.value.code == code
