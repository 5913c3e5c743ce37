"""The canonical fast path: orjson's bytes equal RFC 8785's for every message, and taking the fast path never
changes an answer (the same Message, or the same reason code) against the strict parser alone."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from murmur import validate
from murmur.errors import Refused
from murmur.jcs import canonicalize
from murmur.keys import Identity
from murmur.message import Message, sign_envelope
from murmur.validate import check, parse_json

ALICE = Identity.from_seed(bytes(range(32)))
NOW = 1_750_000_000_000
text = st.text(max_size=200)  # every code point but lone surrogates, control characters included


def post(body_text: str, cw: str | None = None, created_at: int = NOW - 1) -> dict[str, Any]:
    body = {"text": body_text or "x", "visibility": "public"}
    if cw is not None:
        body["cw"] = cw
    envelope = {"v": 1, "kind": "post", "author": ALICE.public_key, "created_at": created_at, "body": body, "tags": []}
    return sign_envelope(ALICE, envelope)


def strict(data: bytes) -> Message | str:
    """The answer of the strict parser alone (what check gave before the fast path existed)."""
    try:
        return validate._check_object(parse_json(data), NOW, True)
    except Refused as refusal:
        return refusal.code


def fast(data: bytes) -> Message | str:
    try:
        return check(data, now=NOW)
    except Refused as refusal:
        return refusal.code


@given(text, st.one_of(st.none(), text), st.integers(0, 2**53 - 1))
def test_orjson_bytes_are_rfc8785_bytes_for_messages(body_text: str, cw: str | None, created_at: int) -> None:
    message = post(body_text, cw, created_at)
    assert orjson.dumps(message, option=orjson.OPT_SORT_KEYS) == canonicalize(message)


@given(text, st.one_of(st.none(), text))
def test_canonical_input_takes_the_fast_path_and_gets_the_strict_answer(body_text: str, cw: str | None) -> None:
    data = canonicalize(post(body_text, cw))
    assert validate._canonical_fast_path(data, NOW) is not None
    assert fast(data) == strict(data)


def _variants(data: bytes) -> list[bytes]:
    """Inputs the fast path must hand to the strict parser: the same message written another way, or broken."""
    obj = json.loads(data)
    return [
        json.dumps(obj).encode(),  # spaces after separators: valid, not canonical
        json.dumps(obj, ensure_ascii=True).encode(),  # escapes for non-ASCII text
        data.replace(b'"v":1', b'"v":1.0'),  # a float that equals the integer
        data.replace(b'"v":1', b'"v":1e0'),
        data.replace(b'"v":1}', b'"v":1,"v":1}'),  # a duplicate member with the same value
        data.replace(b'"kind":"post"', b'"kind":"boost","kind":"post"'),  # ...and with another value first
        data.replace(b'"tags":[]', b'"tags":[],"tags":[]'),
        data.replace(b'"created_at":', b'"created_at":0000'),
        data.replace(b'"created_at":', b'"created_at":99999999999999999999999'),
        data[:-1],
        data + b" ",
        b"\xef\xbb\xbf" + data,
        data.replace(b'"text":"', b'"text":"\\ud800'),
    ]


@given(text)
def test_non_canonical_or_broken_input_gets_exactly_the_strict_answer(body_text: str) -> None:
    for variant in _variants(canonicalize(post(body_text))):
        assert fast(variant) == strict(variant), variant


def test_duplicate_members_are_still_refused_as_duplicates() -> None:
    data = canonicalize(post("hello"))
    assert fast(data.replace(b'"kind":"post"', b'"kind":"boost","kind":"post"')) == "duplicate_key"
    assert fast(data.replace(b'"v":1}', b'"v":1,"v":1}')) == "duplicate_key"


def test_a_non_canonical_but_valid_message_is_accepted_with_its_canonical_form() -> None:
    message = post("héllo\n\u2028 #tag")
    data = json.dumps(message, indent=2).encode()
    checked = check(data, now=NOW)
    assert checked.raw == canonicalize(message) and checked.raw != data


@pytest.mark.parametrize("text_value", ["\x00\x1f\x7f", '"\\/', "\u2028\u2029", "\U0001f600\ue000", "é" * 10])
def test_escaping_matches_rfc8785_at_the_edges(text_value: str) -> None:
    message = post(text_value)
    assert orjson.dumps(message, option=orjson.OPT_SORT_KEYS) == canonicalize(message)
    assert fast(canonicalize(message)) == strict(canonicalize(message))
