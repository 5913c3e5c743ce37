"""RFC 8941 structured field values: the subset HTTP message signatures need, parsed strictly.

Dictionaries of items and inner lists with parameters; integers, decimals, strings, tokens, byte sequences and
booleans. Input is bounded (MAX_FIELD_CHARS, ASCII only) before any work is done on it; anything else raises
ValueError, which murmur.httpsig turns into ``Refused("malformed_signature", ...)``.

One deliberate departure from RFC 8941: a key that appears twice, in a dictionary or in one item's parameters,
raises ``DuplicateKey`` instead of letting the last one win. These fields sign a request or bind its body, and
"last wins" means a verifier and a proxy (or logger) in front of it can disagree about which value counted.
"""

from __future__ import annotations

import base64
import binascii
import re

# Far beyond any honest header; bounds the parser's work on hostile input.
MAX_FIELD_CHARS = 8192
_TOKEN_REST = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~:/-]*")
_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_DECIMAL = re.compile(r"-?[0-9]{1,12}\.[0-9]{1,3}")
_STRING = re.compile(r'"((?:[ !#-\[\]-~]|\\["\\])*)"')
_ESCAPED = re.compile(r'\\(["\\])')
_SPACES = re.compile(" *")
_OWS = re.compile("[ \t]*")
# A parameter's ";", the spaces after it, its key and the "=" of a value, in one match (the hot path: a signature's
# five parameters on every signed request).
_PARAM = re.compile(r"; *([a-z*][a-z0-9_.*-]*)(=?)")


class DuplicateKey(ValueError):
    """A dictionary member or a parameter named twice; ``key`` is the name."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key!r} appears twice")
        self.key = key


class Token(str):
    """An RFC 8941 token, kept apart from a string so that ``keyid=abc`` and ``keyid="abc"`` differ."""


BareItem = int | float | str | bytes | bool
Params = dict[str, BareItem]
InnerList = list[tuple[BareItem, Params]]
Member = tuple[BareItem | InnerList, Params]


class _Parser:
    """Recursive-descent parser for an RFC 8941 Dictionary. Raises ValueError on anything invalid."""

    def __init__(self, text: str) -> None:
        if len(text) > MAX_FIELD_CHARS or not text.isascii():
            raise ValueError("field too long or not ASCII")
        self.s = text.strip(" ")
        self.i = 0

    # Positions are tested with ``str.startswith(x, self.i)`` rather than a ``peek()`` per character: this parser
    # runs on every signed request, and a method call per character was most of its time.
    def peek(self) -> str:
        return self.s[self.i : self.i + 1]

    def expect(self, char: str) -> None:
        if not self.s.startswith(char, self.i):
            raise ValueError(f"expected {char!r} at {self.i}")
        self.i += 1

    def match(self, pattern: re.Pattern[str]) -> str:
        m = pattern.match(self.s, self.i)
        if m is None:
            raise ValueError(f"unexpected input at {self.i}")
        self.i = m.end()
        return m.group()

    def skip(self, spaces: re.Pattern[str]) -> None:
        if found := spaces.match(self.s, self.i):  # always: the patterns match the empty string
            self.i = found.end()

    def dictionary(self) -> dict[str, Member]:
        members: dict[str, Member] = {}
        while self.i < len(self.s):
            key = self.match(_KEY)
            if key in members:
                raise DuplicateKey(key)
            if self.s.startswith("=", self.i):
                self.i += 1
                inner = self.s.startswith("(", self.i)
                members[key] = self.inner_list() if inner else (self.bare_item(), self.params())
            else:
                members[key] = (True, self.params())
            self.skip(_OWS)
            if self.i == len(self.s):
                return members
            self.expect(",")
            self.skip(_OWS)
            if self.i == len(self.s):
                raise ValueError("trailing comma")
        if not members:
            raise ValueError("empty dictionary")
        return members

    def inner_list(self) -> Member:
        self.expect("(")
        items: InnerList = []
        text = self.s
        while True:
            self.i = _SPACES.match(text, self.i).end()  # type: ignore[union-attr]  # matches the empty string
            if text.startswith(")", self.i):
                self.i += 1
                return items, self.params()
            items.append((self.bare_item(), self.params()))
            if not text.startswith((" ", ")"), self.i):
                raise ValueError(f"bad inner list at {self.i}")

    def params(self) -> Params:
        params: Params = {}
        text = self.s
        while text.startswith(";", self.i):
            found = _PARAM.match(text, self.i)
            if found is None:
                raise ValueError(f"bad parameter at {self.i}")
            key, valued = found.groups()
            if key in params:
                raise DuplicateKey(key)
            self.i = found.end()
            params[key] = self.bare_item() if valued else True
        return params

    def bare_item(self) -> BareItem:
        c = self.s[self.i : self.i + 1]
        if c == '"':
            return self.string()
        if c == "-" or c.isdigit():
            decimal = _DECIMAL.match(self.s, self.i)
            if decimal:
                self.i = decimal.end()
                return float(decimal.group())
            return int(self.match(_INTEGER))
        if c == ":":
            self.i += 1
            encoded = self.match(_BASE64)
            self.expect(":")
            try:
                return base64.b64decode(encoded, validate=True)
            except binascii.Error as exc:
                raise ValueError("bad base64") from exc
        if c == "?":
            self.i += 1
            flag = self.peek()
            if flag not in ("0", "1"):
                raise ValueError("bad boolean")
            self.i += 1
            return flag == "1"
        if c == "*" or c.isalpha():
            self.i += 1
            return Token(c + self.match(_TOKEN_REST))
        raise ValueError(f"unexpected {c!r} at {self.i}")

    def string(self) -> str:
        # One regular expression rather than a loop per character: a signature's keyid, recipient and nonce are
        # 150 characters of strings, parsed on every signed request. Between the quotes: printable ASCII but '"'
        # and '\\', or one of those two escaped; anything else (a control character, another escape, no closing
        # quote) does not match.
        found = _STRING.match(self.s, self.i)
        if found is None:
            raise ValueError(f"bad string at {self.i}")
        self.i = found.end()
        value = found.group(1)
        return _ESCAPED.sub(r"\1", value) if "\\" in value else value


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse an RFC 8941 Dictionary field value. Raises ValueError on anything it does not accept, and its
    subclass DuplicateKey when a member or a parameter is named twice."""
    return _Parser(text).dictionary()


def serialize_item(value: BareItem) -> str:
    if type(value) is str:  # most of a signature's items, and not a Token (a subclass): asked first
        return _string(value)
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, Token):
        return str(value)
    return _string(value)


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
