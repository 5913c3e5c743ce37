"""The one validation path: every reason code, every field tampered with, hostile bytes, and round trips."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from murmur.errors import Refused
from murmur.jcs import MAX_SAFE_INTEGER, canonicalize
from murmur.keys import SMALL_ORDER_KEYS, Identity
from murmur.message import SIGNED_FIELDS, canonical_bytes, message_id, sign_envelope
from murmur.validate import MAX_FUTURE_SKEW_MS, MAX_MESSAGE_BYTES, check

ALICE = Identity.from_seed(bytes(range(32)))
BOB = Identity.from_seed(bytes(range(1, 33)))
NOW = 1_750_000_000_000  # the receiver's clock in every test, so results never depend on when they run
THREAD = "5f" * 32  # the id of a post this one answers
VALIDATE_SOURCE = Path(__file__).resolve().parents[2] / "murmur" / "validate.py"


def envelope(**changes: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "v": 1,
        "kind": "post",
        "author": ALICE.public_key,
        "created_at": NOW - 60_000,
        "body": {"text": f"@{BOB.public_key} see #Murmur", "cw": "shop talk", "visibility": "public"},
        "tags": [["reply", THREAD], ["root", THREAD], ["mention", BOB.public_key], ["hashtag", "murmur"]],
    }
    env.update(changes)
    return env


def signed(identity: Identity = ALICE, **changes: Any) -> dict[str, Any]:
    """A message signed by ``identity`` (not validated: tests use this to sign faulty envelopes too)."""
    return sign_envelope(identity, envelope(author=identity.public_key, **changes))


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def refusal(data: bytes | str | dict[str, Any], now: int = NOW) -> str:
    with pytest.raises(Refused) as info:
        check(data, now=now)
    return info.value.code


def rehashed(message: dict[str, Any]) -> dict[str, Any]:
    """Recompute the id after a change, as a forger would; the signature stays the old one."""
    return {**message, "id": message_id(canonical_bytes(message))}


def test_a_valid_message_is_accepted_with_all_its_parts() -> None:
    message = signed()
    accepted = check(encode(message), now=NOW)
    assert (accepted.id, accepted.sig, accepted.kind, accepted.author) == (
        message["id"],
        message["sig"],
        "post",
        ALICE.public_key,
    )
    assert accepted.created_at == message["created_at"] and accepted.body == message["body"]
    assert accepted.tags == tuple(tuple(t) for t in message["tags"])
    assert accepted.raw == canonicalize(message)
    assert accepted.to_dict() == message


# One input per reason code that validation can give, built so that exactly that rule is broken.
def _with(text: str, old: str, new: str) -> bytes:
    assert old in text
    return text.replace(old, new, 1).encode("utf-8", "surrogatepass")


def _base() -> str:
    return encode(signed()).decode()


REASONS: dict[str, Callable[[], bytes | dict[str, Any]]] = {
    "too_large": lambda: encode(signed(body={"text": "😀" * 5000, "visibility": "public"})),
    "invalid_utf8": lambda: _base().encode().replace(b"shop", b"sh\xffp"),
    "invalid_json": lambda: _base()[:-1].encode() + b",}",
    "duplicate_key": lambda: _with(_base(), '"v":1', '"v":1,"v":1'),
    "too_deep": lambda: b"[" * 5000 + b"]" * 5000,
    "lone_surrogate": lambda: _with(_base(), "shop", "sh\\ud800p"),
    "not_object": lambda: b'"a message"',
    "missing_field": lambda: encode({k: v for k, v in signed().items() if k != "tags"}),
    "extra_field": lambda: encode({**signed(), "lang": "en"}),
    "wrong_type": lambda: encode({**signed(), "body": "hello"}),
    "not_integer": lambda: _with(_base(), f'"created_at":{NOW - 60_000}', '"created_at":1e12'),
    "out_of_range": lambda: encode(signed(created_at=-1)),
    "unknown_version": lambda: encode(signed(v=2)),
    "unknown_kind": lambda: encode(signed(kind="Poll")),  # not a kind name; an unknown name is carried
    "bad_key": lambda: encode({**signed(), "author": ALICE.public_key[:-2]}),
    "weak_key": lambda: encode({**signed(), "author": "00" * 32}),
    "bad_id": lambda: encode({**signed(), "id": "not an id"}),
    "bad_sig": lambda: encode({**signed(), "sig": "00" * 63}),
    "bad_value": lambda: encode(signed(body={"text": "hi", "visibility": "friends"})),
    "too_long": lambda: encode(signed(body={"text": "x" * 5001, "visibility": "public"})),
    "bad_tag": lambda: encode(signed(tags=[["target", THREAD]])),
    "from_future": lambda: encode(signed(created_at=NOW + MAX_FUTURE_SKEW_MS + 1)),
    "id_mismatch": lambda: encode({**signed(), "id": "00" * 32}),
    "bad_signature": lambda: encode({**signed(), "sig": BOB.sign(b"something else")}),
}


@pytest.mark.parametrize("code", sorted(REASONS))
def test_each_reason_code(code: str) -> None:
    assert refusal(REASONS[code]()) == code


def test_every_code_validation_raises_has_a_case() -> None:
    raised = set(re.findall(r'_refuse\(\s*"(\w+)"', VALIDATE_SOURCE.read_text()))
    raised |= {"lone_surrogate"}  # raised inside the canonical form, on the way through validation
    assert raised == set(REASONS)


def test_an_oversized_parsed_object_is_refused_before_its_id_is_looked_at() -> None:
    # Bytes over the cap never reach the parser; an object handed over already parsed is measured canonically.
    message = signed(body={"text": "😀" * 5000, "visibility": "public"})
    assert refusal(message) == "too_large"
    assert refusal({**message, "id": "00" * 32}) == "too_large"


def test_the_input_cap_counts_utf8_bytes_for_text_as_for_bytes() -> None:
    # Padding makes the input too large while its canonical form stays small: text and bytes must agree.
    message = signed(body={"text": "😀" * 3000, "visibility": "public"})
    text = encode(message).decode().replace('"v":1', '"v":' + " " * 4000 + "1")
    assert len(text) < MAX_MESSAGE_BYTES < len(text.encode()) and len(canonicalize(message)) < MAX_MESSAGE_BYTES
    assert refusal(text) == refusal(text.encode()) == "too_large"


# Every envelope member changed. Without a new id the hash gives it away; a forger who recomputes the id is
# caught by the signature. Changes that break a structural rule are caught by that rule either way.
TAMPERING: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("v", lambda m: m.update(v=2), "unknown_version", "unknown_version"),
    ("v", lambda m: m.update(v="1"), "wrong_type", "wrong_type"),
    # A kind this version does not know is carried (docs/protocol.md §7.3): the id and signature still bind it.
    ("kind", lambda m: m.update(kind="survey"), "id_mismatch", "bad_signature"),
    ("kind", lambda m: m.update(kind="survey "), "unknown_kind", "unknown_kind"),
    ("kind", lambda m: m.update(kind="reaction"), "extra_field", "extra_field"),
    ("author", lambda m: m.update(author=BOB.public_key), "id_mismatch", "bad_signature"),
    ("author", lambda m: m.update(author=m["author"].upper()), "bad_key", "bad_key"),
    ("created_at", lambda m: m.update(created_at=m["created_at"] + 1), "id_mismatch", "bad_signature"),
    ("created_at", lambda m: m.update(created_at=0), "id_mismatch", "bad_signature"),
    ("created_at", lambda m: m.update(created_at=-1), "out_of_range", "out_of_range"),
    ("body", lambda m: m["body"].update(text="see #Murmur"), "id_mismatch", "bad_signature"),
    ("body", lambda m: m["body"].pop("cw"), "id_mismatch", "bad_signature"),
    ("body", lambda m: m["body"].update(visibility="local"), "id_mismatch", "bad_signature"),
    ("body", lambda m: m["body"].update(extra="x"), "extra_field", "extra_field"),
    ("tags", lambda m: m["tags"].reverse(), "id_mismatch", "bad_signature"),
    ("tags", lambda m: m["tags"].pop(), "id_mismatch", "bad_signature"),
    ("tags", lambda m: m["tags"].append(["hashtag", "more"]), "id_mismatch", "bad_signature"),
    ("tags", lambda m: m["tags"].append(["target", THREAD]), "bad_tag", "bad_tag"),
    ("id", lambda m: m.update(id=signed(created_at=1)["id"]), "id_mismatch", "id_mismatch"),
    ("sig", lambda m: m.update(sig=signed(created_at=1)["sig"]), "bad_signature", "bad_signature"),
]


@pytest.mark.parametrize(
    ("member", "change", "plain", "forged"), TAMPERING, ids=[f"{t[0]}-{i}" for i, t in enumerate(TAMPERING)]
)
def test_tampered_member_is_refused(
    member: str, change: Callable[[dict[str, Any]], None], plain: str, forged: str
) -> None:
    message = json.loads(encode(signed()))
    change(message)
    assert refusal(encode(message)) == plain
    if member not in ("id", "sig"):
        assert refusal(encode(rehashed(message))) == forged


def test_tampering_covers_every_member() -> None:
    assert {t[0] for t in TAMPERING} == set(SIGNED_FIELDS)


def test_every_signature_byte_flipped_is_refused() -> None:
    message = signed()
    sig = bytes.fromhex(message["sig"])
    for i in range(64):
        for mask in (0x01, 0x80):
            flipped = bytearray(sig)
            flipped[i] ^= mask
            assert refusal(encode({**message, "sig": flipped.hex()})) == "bad_signature", (i, mask)


def test_a_malleated_signature_is_refused() -> None:
    # S + L satisfies the verification equation too; RFC 8032 refuses any S that is not below L.
    order = 2**252 + 27742317777372353535851937790883648493
    message = signed()
    sig = bytes.fromhex(message["sig"])
    s = int.from_bytes(sig[32:], "little")
    assert refusal(encode({**message, "sig": (sig[:32] + (s + order).to_bytes(32, "little")).hex()})) == "bad_signature"


def test_every_id_byte_changed_is_refused() -> None:
    message = signed()
    digest = bytes.fromhex(message["id"])
    for i in range(32):
        changed = bytearray(digest)
        changed[i] = (changed[i] + 1) % 256
        assert refusal(encode({**message, "id": changed.hex()})) == "id_mismatch", i


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"kind":"post"', '"kind":"post","kind":"post"'),
        ('"kind":"post"', '"kind":"survey","kind":"post"'),
        ('"visibility":"public"', '"visibility":"public","visibility":"local"'),
        ('"cw":', '"\\u0063w":"x","cw":'),
        ('"v":1', '"v":1,"\\u0076":1'),
    ],
)
def test_duplicate_members_at_any_depth_are_refused(old: str, new: str) -> None:
    assert refusal(_with(_base(), old, new)) == "duplicate_key"


def test_duplicate_members_deep_inside_anything_are_refused() -> None:
    assert refusal(b'{"body":{"text":[{"a":{"b":1,"b":1}}]}}') == "duplicate_key"


NOT_UTF8 = {
    "ff": b"\xff",
    "lone-continuation": b"\x80",
    "overlong-2": b"\xc0\xaf",
    "overlong-3": b"\xe0\x80\xaf",
    "surrogate-d800": b"\xed\xa0\x80",
    "surrogate-dfff": b"\xed\xbf\xbf",
    "above-10ffff": b"\xf4\x90\x80\x80",
    "cut-short": b"\xe2\x82",
}


@pytest.mark.parametrize("name", NOT_UTF8)
def test_invalid_utf8_is_refused(name: str) -> None:
    assert refusal(_base().encode().replace(b"shop", b"sh" + NOT_UTF8[name] + b"p")) == "invalid_utf8"


def test_a_byte_order_mark_is_not_json() -> None:
    assert refusal(b"\xef\xbb\xbf" + _base().encode()) == "invalid_json"


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\udc00\\ud800", "\\ud83d"])
@pytest.mark.parametrize("where", ["shop", "Murmur"])
def test_lone_surrogate_escapes_are_refused(escape: str, where: str) -> None:
    assert refusal(_with(_base(), where, escape)) == "lone_surrogate"


def test_lone_surrogate_in_a_profile_name_is_refused() -> None:
    profile = signed(kind="profile", body={"name": "ok"}, tags=[])
    assert refusal(_with(encode(profile).decode(), '"ok"', '"o\\udbffk"')) == "lone_surrogate"


def test_a_paired_surrogate_escape_is_just_the_character() -> None:
    message = signed(body={"text": "😀 \U0010ffff", "visibility": "public"})
    ascii_only = json.dumps(message).encode()
    assert b"\\ud83d\\ude00" in ascii_only
    assert check(ascii_only, now=NOW).id == message["id"]


def test_escapes_and_layout_do_not_change_the_message() -> None:
    # Signing covers the canonical form, not the serialisation: another library's output is the same message.
    message = signed()
    for variant in (
        json.dumps(message),
        json.dumps(message, indent=4, sort_keys=True),
        _base().replace("#", "\\u0023"),
    ):
        assert check(variant.encode(), now=NOW).raw == canonicalize(message)


def test_minus_zero_is_zero() -> None:
    message = signed(created_at=0)
    assert check(_with(encode(message).decode(), '"created_at":0', '"created_at":-0'), now=NOW).id == message["id"]


@pytest.mark.parametrize("number", ["1e3", "1E3", "1e+3", "1.0", "0.0", "-1.5", "1.7356896e12", "1" + "0" * 400 + ".5"])
def test_numbers_with_fractions_or_exponents_are_refused(number: str) -> None:
    assert refusal(_with(_base(), f'"created_at":{NOW - 60_000}', f'"created_at":{number}')) == "not_integer"


@pytest.mark.parametrize(
    "number",
    [
        "-1",
        str(MAX_SAFE_INTEGER + 1),
        "99999999999999999999",  # 20 digits: parsed, then out of the safe range
        "100000000000000000000",  # 21 digits: refused while parsing
        "-" + "9" * 21,
        "1" + "0" * 4400,  # past CPython's own limit on converting digit strings
        "7" * 15000,
    ],
    ids=lambda n: f"{n[:12]}..{len(n)}",
)
def test_integers_out_of_range_are_refused(number: str) -> None:
    assert refusal(_with(_base(), f'"created_at":{NOW - 60_000}', f'"created_at":{number}')) == "out_of_range"


def test_a_huge_version_is_an_unknown_version() -> None:
    assert refusal(_with(_base(), '"v":1', '"v":99999999999999999999')) == "unknown_version"


def test_a_version_other_than_one_is_reported_before_the_shape() -> None:
    # A later version may change the envelope; saying "unknown version" is more useful than "missing field".
    assert refusal(b'{"v":2,"kind":"something new"}') == "unknown_version"


def test_the_future_limit_is_ten_minutes_and_the_past_has_none() -> None:
    assert MAX_FUTURE_SKEW_MS == 10 * 60 * 1000
    edge = signed(created_at=NOW + MAX_FUTURE_SKEW_MS)
    assert check(encode(edge), now=NOW).created_at == NOW + MAX_FUTURE_SKEW_MS
    assert refusal(encode(edge), now=NOW - 1) == "from_future"
    assert check(encode(signed(created_at=0)), now=NOW).created_at == 0
    assert refusal(encode(signed(created_at=MAX_SAFE_INTEGER)), now=NOW) == "from_future"
    beyond = encode(signed(created_at=MAX_SAFE_INTEGER)).replace(b"740991", b"740992")  # cannot be signed
    assert refusal(beyond, now=NOW) == "out_of_range"


def test_text_limits_count_code_points() -> None:
    emoji = "👍🏽" * 16  # 32 code points, 64 UTF-16 units, 128 bytes
    reaction = signed(kind="reaction", body={"emoji": emoji}, tags=[["target", THREAD]])
    assert check(encode(reaction), now=NOW).body["emoji"] == emoji
    longer = signed(kind="reaction", body={"emoji": emoji + "!"}, tags=[["target", THREAD]])
    assert refusal(encode(longer)) == "too_long"
    assert check(encode(signed(body={"text": "x" * 5000, "visibility": "public"})), now=NOW)


@pytest.mark.parametrize("depth", [4, 50, 500, 990, 1000, 1100, 5000, 8000])
@pytest.mark.parametrize("shape", ["array", "object", "in-body", "in-tags"])
def test_deep_nesting_is_refused_never_crashes(depth: int, shape: str) -> None:
    nested = {
        "array": "[" * depth + "]" * depth,
        "object": '{"a":' * depth + "1" + "}" * depth,
        "in-body": _base().replace('"cw":"shop talk"', '"cw":' + "[" * depth + "]" * depth),
        "in-tags": _base().replace('"tags":[', '"tags":[' + "[" * depth + "]" * depth + ","),
    }[shape]
    with pytest.raises(Refused):
        check(nested.encode(), now=NOW)


def test_deep_nesting_in_an_already_parsed_object_is_refused() -> None:
    deep: Any = "x"
    for _ in range(50_000):
        deep = [deep]
    with pytest.raises(Refused):
        check({**signed(), "body": {"text": deep, "visibility": "public"}}, now=NOW)
    with pytest.raises(Refused):
        check({**signed(), "tags": [deep]}, now=NOW)


@pytest.mark.parametrize(
    "key",
    ["", "a", "ab" * 16, "a" * 63, "a" * 65, "ab" * 64, "g" * 64, " " + "a" * 63, "0x" + "a" * 62, "A" * 64],
    ids=lambda k: f"len{len(k)}-{k[:2]!r}",
)
def test_malformed_author_keys_are_refused(key: str) -> None:
    assert refusal(encode({**signed(), "author": key})) == "bad_key"


@pytest.mark.parametrize("key", ["a" * 63, "A" * 64, "00" * 32, "ecff" + "ff" * 29 + "7f"])
def test_malformed_or_weak_keys_in_tags_are_refused(key: str) -> None:
    follow = signed(kind="follow", body={}, tags=[["subject", key]])
    assert refusal(encode(follow)) == "bad_tag"
    post = signed(tags=[["mention", key]])
    assert refusal(encode(post)) == "bad_tag"


@pytest.mark.parametrize("key", sorted(SMALL_ORDER_KEYS))
def test_small_order_authors_are_refused(key: str) -> None:
    forged = envelope(author=key)
    message = {**forged, "id": message_id(canonical_bytes(forged)), "sig": "00" * 64}
    assert refusal(encode(message)) == "weak_key"


# Edwards25519 arithmetic, enough to show that the refused encodings are exactly the small-order points.
P = 2**255 - 19
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def decode_point(encoded: bytes) -> tuple[int, int]:
    """Decode loosely (y reduced modulo p, the sign of x = 0 ignored), the way lax verifiers do."""
    n = int.from_bytes(encoded, "little")
    y, sign = (n & ((1 << 255) - 1)) % P, n >> 255
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P != u:
        x = x * SQRT_M1 % P
    assert v * x * x % P == u, "not a point"
    return (P - x if x and (x & 1) != sign else x), y


def add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return (x1 * y2 + x2 * y1) * pow(1 + t, -1, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P


def times8(point: tuple[int, int]) -> tuple[int, int]:
    for _ in range(3):
        point = add(point, point)
    return point


def test_the_refused_keys_are_all_the_small_order_points() -> None:
    points = {decode_point(bytes.fromhex(k)) for k in SMALL_ORDER_KEYS}
    assert len(SMALL_ORDER_KEYS) == 14
    assert all(times8(p) == (0, 1) for p in points)
    assert len(points) == 8  # the whole torsion subgroup, each point under every spelling listed
    assert times8(decode_point(bytes.fromhex(ALICE.public_key))) != (0, 1)


# Round trips: anything a person can write signs and validates, whatever the serialisation.
ids = st.binary(min_size=32, max_size=32).map(bytes.hex)
keys = ids.filter(lambda k: k not in SMALL_ORDER_KEYS)
hashtags = st.from_regex(r"[a-z0-9_]{1,64}", fullmatch=True)


@st.composite
def posts(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {
        "text": draw(st.text(min_size=1, max_size=300)),
        "visibility": draw(st.sampled_from(["public", "local"])),
    }
    cw = draw(st.none() | st.text(max_size=500))
    if cw is not None:
        body["cw"] = cw
    tags = [["hashtag", h] for h in draw(st.lists(hashtags, max_size=20, unique=True))]
    tags += [["mention", k] for k in draw(st.lists(keys, max_size=5, unique=True))]
    if draw(st.booleans()):
        tags += [["reply", draw(ids)], ["root", draw(ids)]]
    return envelope(body=body, tags=draw(st.permutations(tags)), created_at=draw(st.integers(0, NOW)))


def serialisations(message: dict[str, Any]) -> list[bytes]:
    reordered = dict(reversed(message.items()))
    return [encode(message), json.dumps(reordered, indent=1).encode(), json.dumps(message, ensure_ascii=False).encode()]


@given(posts())
def test_signed_posts_round_trip(env: dict[str, Any]) -> None:
    message = sign_envelope(ALICE, env)
    for data in serialisations(message):
        accepted = check(data, now=NOW)
        assert accepted.to_dict() == message
        assert accepted.raw == canonicalize(message)


@given(
    st.fixed_dictionaries({}, optional={"name": st.text(max_size=64), "bio": st.text(max_size=2000)}),
    st.text(min_size=1, max_size=32),
    keys,
)
def test_signed_profiles_reactions_and_follows_round_trip(profile: dict[str, str], emoji: str, subject: str) -> None:
    for kind, body, tags in [
        ("profile", profile, []),
        ("reaction", {"emoji": emoji}, [["target", THREAD], ["mention", subject]]),
        ("boost", {}, [["target", THREAD]]),
        ("delete", {}, [["target", THREAD]]),
        ("follow", {}, [["subject", subject]]),
        ("unfollow", {}, [["subject", subject]]),
    ]:
        message = signed(BOB, kind=kind, body=body, tags=tags)
        assert check(encode(message), now=NOW).to_dict() == message


@given(st.binary(max_size=3000))
def test_arbitrary_bytes_are_only_ever_refused(data: bytes) -> None:
    with pytest.raises(Refused):
        check(data, now=NOW)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@given(st.fixed_dictionaries({name: json_values for name in SIGNED_FIELDS}))
def test_arbitrary_members_are_only_ever_refused(message: dict[str, Any]) -> None:
    for data in (message, json.dumps(message).encode()):
        with pytest.raises(Refused):
            check(data, now=NOW)


@given(st.data())
def test_corrupted_bytes_are_only_ever_refused(data: st.DataObject) -> None:
    raw = bytearray(encode(signed()))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        accepted = check(bytes(raw), now=NOW)
    except Refused:
        return
    # A change can only survive if it left the parsed value alone (e.g. a hex digit swapped for itself).
    assert accepted.raw == canonicalize(signed())


def test_a_tag_a_later_version_added_to_a_known_kind_is_carried_as_signed() -> None:
    """§7.3: a newer server's post may carry a tag this version does not define (a poll's, say); an older server
    that refused it would stop it from reaching every server behind it."""
    later = [["reply", THREAD], ["root", THREAD], ["poll", "ab" * 32], ["x_2", "any text at all"]]
    message = check(encode(signed(tags=later)), now=NOW)
    assert message.tag("poll") == "ab" * 32
    assert message.raw == canonicalize(signed(tags=later))


@pytest.mark.parametrize(
    "tag",
    [
        ["Group", "x"],  # not the kind-name grammar
        ["9lives", "x"],
        ["g" * 33, "x"],
        ["subject", BOB.public_key],  # a name this version defines, not given to posts
        ["target", THREAD],
    ],
)
def test_tag_names_outside_the_grammar_or_defined_for_other_kinds_stay_refused(tag: list[str]) -> None:
    assert refusal(encode(signed(tags=[tag]))) == "bad_tag"


def test_a_later_tag_counts_toward_the_cap_and_may_not_repeat() -> None:
    assert refusal(encode(signed(tags=[["poll", "a"], ["poll", "a"]]))) == "bad_tag"
    assert refusal(encode(signed(tags=[[f"t{i}", "v"] for i in range(65)]))) == "bad_tag"
