"""Hypothesis strategies for hostile input: signed messages broken in every way murmur must refuse, and the
harmless re-encodings it accepts by design.

Refused, always:
    a changed value in any field (the id or the signature no longer matches), a flipped byte, duplicate JSON keys,
    invalid UTF-8 (stray continuation bytes, overlong forms, truncated sequences), lone surrogates, floats,
    integers out of range, NaN and Infinity, deep nesting, huge strings, uppercase hex (ids, keys and signatures
    are lowercase hex: one spelling per value), keys of the wrong length, small-order keys, a BOM, trailing data,
    empty and blank lines, line separators other than \\n inside a line, and a \\n that splits one in two.

Accepted by design (``fine_encodings``): whitespace between tokens, another member order, ``\\u`` escapes and
``\\/`` for characters that need none. The id and signature cover the canonical form (RFC 8785), which the
server recomputes from the parsed value, so these spell the same message; the server stores the canonical bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from murmur.jcs import canonicalize
from murmur.keys import SMALL_ORDER_KEYS, Identity
from murmur.message import sign_draft

FIELDS = ("v", "kind", "author", "created_at", "body", "tags", "id", "sig")
SMALL_ORDER = sorted(SMALL_ORDER_KEYS)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=30),
    st.sampled_from(["post", "delete", "public", "local", "", "0" * 64, "f" * 128]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def fresh_post(identity: Identity, text: str = "hostile input test", created_at: int | None = None) -> dict[str, Any]:
    draft = {"kind": "post", "body": {"text": text}, "tags": [["hashtag", "fuzz"]]}
    return sign_draft(identity, draft, created_at=created_at)


# Hypothesis replays a test by its choices, so everything a strategy builds must follow from them: the time is
# drawn, and keys come from drawn seeds (Ed25519 signing is deterministic).
times = st.integers(1_600_000_000_000, 1_700_000_000_000)
identities = st.binary(min_size=32, max_size=32).map(Identity.from_seed)


def dumps(obj: Any) -> bytes:
    # ensure_ascii keeps lone surrogates as \\udxxx escapes, which is how they arrive from a hostile sender.
    return json.dumps(obj).encode("ascii")


def _splice(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert old in raw, (old, raw[:80])
    return raw.replace(old, new, 1)


def _specials(message: dict[str, Any]) -> dict[str, Callable[[bytes], bytes]]:
    """Named breakages of a canonical message's bytes."""
    author, msg_id, sig = message["author"].encode(), message["id"].encode(), message["sig"].encode()
    created = str(message["created_at"]).encode()
    return {
        "duplicate_key": lambda r: _splice(r, b'"kind":"post"', b'"kind":"post","kind":"post"'),
        "duplicate_key_other_value": lambda r: _splice(r, b'"kind":"post"', b'"kind":"post","kind":"delete"'),
        "invalid_utf8_ff": lambda r: _splice(r, b"hostile", b"host\xffile"),
        "invalid_utf8_overlong": lambda r: _splice(r, b"hostile", b"host\xc0\xafile"),
        "invalid_utf8_truncated": lambda r: _splice(r, b"hostile", b"host\xe2\x82ile"),
        "invalid_utf8_surrogate_bytes": lambda r: _splice(r, b"hostile", b"host\xed\xa0\x80ile"),
        "lone_surrogate": lambda r: _splice(r, b"hostile", b"host\\ud800ile"),
        "lone_low_surrogate": lambda r: _splice(r, b"hostile", b"host\\udc00ile"),
        "float_time": lambda r: _splice(r, created, created + b".0"),
        "exponent_time": lambda r: _splice(r, created, b"1e12"),
        "time_2_53": lambda r: _splice(r, created, str(2**53).encode()),
        "time_huge": lambda r: _splice(r, created, b"9" * 400),
        "time_negative": lambda r: _splice(r, created, b"-1"),
        "leading_zero": lambda r: _splice(r, created, b"0" + created),
        "nan": lambda r: _splice(r, created, b"NaN"),
        "infinity": lambda r: _splice(r, created, b"-Infinity"),
        "version_float": lambda r: _splice(r, b'"v":1', b'"v":1.0'),
        "version_huge": lambda r: _splice(r, b'"v":1', b'"v":' + b"1" * 30),
        "deep_nesting": lambda r: _splice(r, b'"tags":', b'"tags":' + b"[" * 3000 + b"]" * 3000 + b',"x":'),
        "deep_objects": lambda r: _splice(r, b'"body":', b'"body":' + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b',"x":'),
        "huge_text": lambda r: _splice(r, b"hostile", b"x" * 20_000),
        "huge_member_name": lambda r: _splice(r, b'{"author"', b'{"' + b"k" * 17_000 + b'":1,"author"'),
        "uppercase_id": lambda r: _splice(r, msg_id, msg_id.upper()),
        "uppercase_author": lambda r: _splice(r, author, author.upper()),
        "uppercase_sig": lambda r: _splice(r, sig, sig.upper()),
        "short_author": lambda r: _splice(r, author, author[:62]),
        "long_author": lambda r: _splice(r, author, author + b"00"),
        "empty_author": lambda r: _splice(r, author, b""),
        "short_sig": lambda r: _splice(r, sig, sig[:126]),
        "long_id": lambda r: _splice(r, msg_id, msg_id + b"ab"),
        "bom": lambda r: b"\xef\xbb\xbf" + r,
        "trailing_data": lambda r: r + b"{}",
        "not_object": lambda r: b"[" + r + b"]",
        "string": lambda r: b'"' + r.replace(b'"', b'\\"') + b'"',
        "empty": lambda r: b"",
        "blank": lambda r: b" \t\r\x0b\x0c",
        "null": lambda r: b"null",
        # Characters that end a line for some readers but not for JSON Lines, which splits at \n only: raw in a
        # string, the first three are still JSON (the id no longer matches), the others are control characters.
        "line_separator": lambda r: _splice(r, b"hostile", "host\u2028ile".encode()),
        "paragraph_separator": lambda r: _splice(r, b"hostile", "host\u2029ile".encode()),
        "next_line": lambda r: _splice(r, b"hostile", "host\u0085ile".encode()),
        "carriage_return": lambda r: _splice(r, b"hostile", b"host\rile"),
        "vertical_tab": lambda r: _splice(r, b"hostile", b"host\x0bile"),
        "newline": lambda r: _splice(r, b"hostile", b"host\nile"),  # two lines, each refused
    }


SPECIAL_NAMES = tuple(_specials({"author": "a", "id": "b", "sig": "c", "created_at": 1}))


def special(name: str, identity: Identity, created_at: int = 1_650_000_000_000) -> tuple[str, bytes]:
    """One named breakage of a fresh message by ``identity``, as ``bad_messages`` draws it: for ``@example``."""
    message = fresh_post(identity, created_at=created_at)
    return name, _specials(message)[name](canonicalize(message))


@st.composite
def bad_messages(draw: st.DrawFn, identity: Identity) -> tuple[str, bytes]:
    """A (label, bytes) pair that no server may accept, built around a fresh message signed by ``identity``."""
    message = fresh_post(identity, created_at=draw(times))
    raw = canonicalize(message)
    how = draw(st.sampled_from(["field", "flip", "special", "small_order", "resigned"]))
    if how == "special":
        return special(draw(st.sampled_from(SPECIAL_NAMES)), identity, message["created_at"])
    if how == "flip":
        index = draw(st.integers(0, len(raw) - 1))
        byte = draw(st.integers(0, 255))
        assume(byte != raw[index])
        return f"flip byte {index}", raw[:index] + bytes([byte]) + raw[index + 1 :]
    if how == "small_order":
        # A small-order "key" signs nothing usable: refused as an author and as a mentioned key.
        key = draw(st.sampled_from(SMALL_ORDER))
        where = draw(st.sampled_from(["author", "mention"]))
        if where == "author":
            return "small_order_author", dumps({**message, "author": key})
        return "small_order_mention", dumps({**message, "tags": [["mention", key]]})
    if how == "resigned":
        # Validly signed by the sender, but wrong in substance: these must fail on their own rules.
        broken = draw(
            st.sampled_from(
                [
                    {"kind": "post", "body": {"text": ""}},
                    {"kind": "post", "body": {"text": "x" * 5001}},
                    {"kind": "post", "body": {"text": "x", "visibility": "everyone"}},
                    {"kind": "post", "body": {"text": "x", "extra": "y"}},
                    {"kind": "survey", "body": {"visibility": "local"}},  # carried only as public
                    {"kind": "reaction", "body": {"emoji": "+"}},
                    {"kind": "delete", "body": {}, "tags": [["target", "A" * 64]]},
                    {"kind": "post", "body": {"text": "x"}, "tags": [["hashtag", "Upper"]]},
                    {"kind": "post", "body": {"text": "x"}, "tags": [["reply", "0" * 64]]},
                    {"kind": "post", "body": {"text": "x"}, "created_at": 2**52},
                    {"kind": "follow", "body": {}, "tags": [["subject", "ab"]]},
                ]
            )
        )
        return f"resigned {broken['kind']}", dumps(sign_draft(identity, broken, created_at=draw(times)))
    name = draw(st.sampled_from([*FIELDS, "body.text", "body.visibility", "extra", "missing"]))
    tampered = json.loads(json.dumps(message))
    if name == "missing":
        del tampered[draw(st.sampled_from(FIELDS))]
    elif name == "extra":
        tampered[draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in FIELDS))] = draw(json_values)
    elif name.startswith("body."):
        member = name.split(".")[1]
        value = draw(json_values)
        assume(value != tampered["body"][member])
        tampered["body"][member] = value
    else:
        value = draw(json_values | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
        assume(value != tampered[name])
        tampered[name] = value
    return f"field {name}", dumps(tampered)


@st.composite
def fine_encodings(draw: st.DrawFn, identity: Identity) -> tuple[dict[str, Any], bytes]:
    """A fresh message written in a non-canonical but equivalent way; the server must accept it."""
    message = fresh_post(identity, draw(st.sampled_from(["héllo wörld", "tab\there", "slash/es", "plain"])))
    keys = draw(st.permutations(list(message)))
    reordered = {k: message[k] for k in keys}
    indent = draw(st.sampled_from([None, 0, 1, 4]))
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,\t", " :\n ")]))
    ensure_ascii = draw(st.booleans())
    text = json.dumps(reordered, indent=indent, separators=separators, ensure_ascii=ensure_ascii)
    if draw(st.booleans()):
        text = text.replace("/", "\\/")
    if draw(st.booleans()):
        text = " \n\t" + text + "\r\n "
    return message, text.encode("utf-8")
