"""Strings that would act on a terminal if printed raw, and the check that none of their power survived."""

from __future__ import annotations

# Written out here rather than taken from the code under test.
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

# Strings that would act on a terminal if printed raw, one of each kind.
HOSTILE: dict[str, str] = {
    "osc0_title": "\x1b]0;owned\x07",
    "osc8_link": "\x1b]8;;http://evil.test/\x1b\\click me\x1b]8;;\x1b\\",
    "osc52_clipboard": "\x1b]52;c;cm0gLXJmIH4K\x07",
    "csi_cursor": "\x1b[2J\x1b[H\x1b[5A\x1b[31m",
    "c1_csi": "\x9b2J\x9b31m",
    "c1_osc": "\x9d0;title\x9c",
    "del": "ab\x7fc",
    "bidi_override": "\u202eevil\u202c",
    "bidi_isolate": "\u2066\u2067x\u2069",
    "nul": "a\x00b",
    "backspace": "paid\x08\x08\x08\x08free",
    "carriage_return": "approved\rdeclined",
    "line_separator": "one\u2028two",
}


def acting_characters(text: str) -> list[str]:
    """Characters in ``text`` that act on a terminal or reorder it: what must never be printed."""
    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if (ch < " " and ch != "\n") or "\x7f" <= ch <= "\x9f" or ch in BIDI or ch in "\u2028\u2029"
    ]
