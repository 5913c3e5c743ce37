"""RFC 8785 canonical form, restricted to integers: the examples of the RFC, the edges murmur adds, and properties."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from murmur.errors import Refused
from murmur.jcs import MAX_SAFE_INTEGER, canonicalize
from murmur.validate import parse_json


def canonical_text(value: Any) -> str:
    return canonicalize(value).decode("utf-8")


def refusal(value: Any) -> str:
    with pytest.raises(Refused) as info:
        canonicalize(value)
    return info.value.code


# RFC 8785 §3.2.3: property names sort by UTF-16 code units, which puts the emoji (a surrogate pair starting
# D83D) before U+FB33 although its code point is larger.
SORTING_INPUT = r"""{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"""


def test_rfc8785_sorting_example() -> None:
    value = json.loads(SORTING_INPUT)
    names = list(json.loads(canonical_text(value)))
    assert names == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert (
        canonicalize(value)
        == (
            '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",'
            '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
        ).encode()
    )


def test_rfc8785_string_and_literals_example() -> None:
    # The §3.2.2 example without its "numbers" member, which holds floats that murmur refuses by design.
    value = json.loads(
        r"""{"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"""
    )
    assert canonical_text(value) == '{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert canonicalize(value).hex().startswith("7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d")


def test_rfc8785_string_example_bytes() -> None:
    # The UTF-8 bytes the RFC gives for the string value: € is e2 82 ac, U+000F is \u000f in lowercase.
    value = json.loads(r'"\u20ac$\u000F\u000aA\u0027\u0042\u0022\u005c\\\"\/"')
    assert canonicalize(value) == bytes.fromhex("22e282ac245c75303030665c6e4127425c225c5c5c5c5c222f22")


@pytest.mark.parametrize(
    ("char", "written"),
    [("\b", "\\b"), ("\t", "\\t"), ("\n", "\\n"), ("\f", "\\f"), ("\r", "\\r"), ('"', '\\"'), ("\\", "\\\\")],
)
def test_short_escapes(char: str, written: str) -> None:
    assert canonical_text(char) == f'"{written}"'


@pytest.mark.parametrize("code", [c for c in range(0x20) if c not in (0x08, 0x09, 0x0A, 0x0C, 0x0D)])
def test_other_controls_escape_as_lowercase_u00xx(code: int) -> None:
    assert canonical_text(chr(code)) == f'"\\u{code:04x}"'


@pytest.mark.parametrize("char", ["/", "\x7f", "\x80", "\u2028", "\u2029", "\ufeff", "\uffff", "\U0001f600", "é"])
def test_everything_else_is_literal_utf8(char: str) -> None:
    assert canonicalize(char) == b'"' + char.encode("utf-8") + b'"'


def test_non_bmp_names_sort_before_high_bmp_names() -> None:
    # By code point U+10000 and U+1F600 would come last; by UTF-16 units (D800.., D83D..) they precede E000.
    value = {"\uffff": 1, "\ue000": 2, "\U0001f600": 3, "\U00010000": 4, "\ud7ff": 5, "z": 6}
    assert list(json.loads(canonical_text(value))) == ["z", "\ud7ff", "\U00010000", "\U0001f600", "\ue000", "\uffff"]


def test_prefix_sorts_first_and_nested_objects_are_sorted() -> None:
    value = {"ab": {"b": 1, "a": [{"y": 1, "x": 2}]}, "a": 0, "": None}
    assert canonical_text(value) == '{"":null,"a":0,"ab":{"a":[{"x":2,"y":1}],"b":1}}'


def test_arrays_keep_their_order_and_tuples_are_arrays() -> None:
    assert canonical_text([3, 1, 2]) == "[3,1,2]"
    assert canonical_text((["b", "a"], ())) == '[["b","a"],[]]'


def test_booleans_are_literals_not_integers() -> None:
    assert canonical_text([True, False, None, 1, 0]) == "[true,false,null,1,0]"


@pytest.mark.parametrize("n", [0, 1, -1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 10**15])
def test_safe_integers_are_plain_decimal(n: int) -> None:
    assert canonical_text(n) == str(n)
    assert canonical_text({"n": n}) == f'{{"n":{n}}}'


@pytest.mark.parametrize("n", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 2**64, -(10**30)])
def test_unsafe_integers_are_refused(n: int) -> None:
    assert refusal(n) == "out_of_range"
    assert refusal({"a": [n]}) == "out_of_range"


@pytest.mark.parametrize("x", [0.0, 1.0, -0.0, 1.5, 1e30, float("nan"), float("inf")])
def test_floats_are_refused(x: float) -> None:
    assert refusal(x) == "not_integer"
    assert refusal({"a": x}) == "not_integer"


@pytest.mark.parametrize("s", ["\ud800", "\udfff", "a\ud83d", "\ude00\ud83d"])
def test_lone_surrogates_are_refused_in_values_and_names(s: str) -> None:
    assert refusal(s) == "lone_surrogate"
    assert refusal({s: 1}) == "lone_surrogate"
    assert refusal([{"ok": [s]}]) == "lone_surrogate"


@pytest.mark.parametrize("value", [{1: "a"}, {None: "a"}, b"bytes", {"a": {1, 2}}, object()])
def test_values_without_a_json_form_are_refused(value: Any) -> None:
    assert refusal(value) == "wrong_type"


def test_structures_deeper_than_the_interpreter_are_refused_not_crashed() -> None:
    value: Any = "x"
    for _ in range(100_000):
        value = [value]
    assert refusal(value) == "too_deep"


# An independent statement of the RFC's rules, to check the implementation against rather than against itself.
def reference_string(s: str) -> str:
    short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    return '"' + "".join(short.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in s) + '"'


def utf16_units(s: str) -> list[int]:
    units: list[int] = []
    for c in s:
        cp = ord(c)
        if cp > 0xFFFF:
            cp -= 0x10000
            units += [0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)]
        else:
            units.append(cp)
    return units


def reference(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return reference_string(value)
    if isinstance(value, list):
        return "[" + ",".join(reference(v) for v in value) + "]"
    names = sorted(value, key=utf16_units)
    return "{" + ",".join(reference_string(n) + ":" + reference(value[n]) for n in names) + "}"


safe_ints = st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
scalars = st.none() | st.booleans() | safe_ints | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=25,
)
ascii_keyed = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(st.characters(max_codepoint=0x7F), max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)


@given(json_values)
def test_matches_an_independent_reference(value: Any) -> None:
    assert canonical_text(value) == reference(value)


@given(json_values)
def test_canonical_form_is_idempotent(value: Any) -> None:
    once = canonicalize(value)
    reparsed = parse_json(once, limit=None)
    assert reparsed == value
    assert canonicalize(reparsed) == once


@given(json_values)
def test_any_serialisation_canonicalises_to_the_same_bytes(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, indent=3, ensure_ascii=False)):
        assert canonicalize(parse_json(text, limit=None)) == canonicalize(value)


@given(ascii_keyed)
def test_equals_sorted_compact_json_for_ascii_names(value: Any) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    assert canonicalize(value) == expected.encode("utf-8")


@given(st.dictionaries(st.text(min_size=1, max_size=4), st.integers(0, 9), min_size=2, max_size=8))
def test_member_order_is_utf16_order(value: dict[str, int]) -> None:
    names = list(json.loads(canonical_text(value)))
    assert [utf16_units(n) for n in names] == sorted(utf16_units(n) for n in value)
