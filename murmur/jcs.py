"""RFC 8785 JSON Canonicalization Scheme, restricted to the values murmur signs.

murmur signs canonical bytes, never whatever serialisation a library happened to produce. The restriction:
numbers must be integers in the I-JSON safe range (|n| <= 2**53 - 1); floats are refused, because their
ECMAScript formatting is a source of cross-implementation bugs and the protocol never needs them.

What RFC 8785 asks, and how it is met here:
- object members sorted by the UTF-16 code units of their names (not by code points: they differ for
  characters above U+FFFF against U+E000..U+FFFF);
- strings as UTF-8 with only ``"``, ``\\`` and U+0000..U+001F escaped, using ``\\b \\f \\n \\r \\t`` where
  they exist and lowercase ``\\u00xx`` otherwise; everything else (U+007F, U+2028, non-BMP) literal;
- no whitespace; ``true``/``false``/``null`` literal; integers in plain decimal.
"""

from __future__ import annotations

from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from murmur.errors import Refused

MAX_SAFE_INTEGER = 2**53 - 1

# CPython's non-ASCII string encoder escapes exactly the set RFC 8785 escapes, with the same spellings:
# `"`, `\`, the five short forms, and `\u00xx` (lowercase) for the other C0 controls.
_encode_string = encode_basestring


def _utf16_key(name: str) -> bytes:
    return name.encode("utf-16-be", "surrogatepass")


def _lone_surrogate() -> Refused:
    return Refused("lone_surrogate", "A string holds a lone UTF-16 surrogate, which is not valid Unicode.")


def _sorted_names(obj: dict[Any, Any]) -> list[str]:
    names = list(obj)
    for name in names:
        if type(name) is not str:
            raise Refused("wrong_type", "Object member names must be strings.")
    # UTF-16 order differs from code point order only between U+E000..U+FFFF and characters beyond U+FFFF;
    # names that are all ASCII (nearly every name) sort the same either way, and sorting plain str is faster.
    if all(name.isascii() for name in names):
        names.sort()
    else:
        names.sort(key=_utf16_key)
    return names


def _write(value: Any, out: list[str]) -> None:
    # Dispatch on the exact type, most frequent first: this runs for every value of every message. Lone
    # surrogates are not looked for here: the one UTF-8 encode of the whole text in canonicalize finds them.
    kind = type(value)
    if kind is str:
        out.append(_encode_string(value))
    elif kind is dict:
        out.append("{")
        first = True
        for name in _sorted_names(value):
            if first:
                first = False
            else:
                out.append(",")
            out.append(_encode_string(name))
            out.append(":")
            _write(value[name], out)
        out.append("}")
    elif kind is list or kind is tuple:
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise Refused("out_of_range", f"The integer {value} is outside the safe range ±(2^53-1).")
        out.append(str(value))
    else:
        _write_other(value, out)


def _write_other(value: Any, out: list[str]) -> None:
    """Subclasses of the JSON types (an int enum, an OrderedDict...) and everything that cannot be encoded."""
    if isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, float):
        raise Refused("not_integer", "Numbers must be integers; fractions and exponents are not allowed.")
    elif isinstance(value, int):
        _write(int(value), out)
    elif isinstance(value, str):
        _write(str(value), out)
    elif isinstance(value, dict):
        _write(dict(value), out)
    elif isinstance(value, list | tuple):
        _write(list(value), out)
    else:
        raise Refused("wrong_type", f"A value of type {type(value).__name__} cannot be part of a message.")


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value`` (integers only; floats are refused)."""
    # Validation canonicalizes each member of a message on its own, and most of them are one string or one
    # integer: those need no list to gather pieces in.
    kind = type(value)
    if kind is str:
        try:
            return _encode_string(value).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _lone_surrogate() from exc
    if kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return str(value).encode("ascii")
    out: list[str] = []
    try:
        _write(value, out)
    except RecursionError as exc:
        # Structures built in code (not parsed) can nest past the interpreter's limit; refuse, never crash.
        raise Refused("too_deep", "The value is nested too deeply.") from exc
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _lone_surrogate() from exc
