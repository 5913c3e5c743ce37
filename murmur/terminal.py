"""Putting text that came from elsewhere on a terminal, and the one printer that does it.

Posts, names, bios, a server's or a peer's error reasons, URLs and anything read from a file or the network
are untrusted. Control characters (C0, C1, DEL) would let them move the cursor, recolour the screen, set the
window title or write the clipboard (ANSI CSI, OSC 0/8/52), and bidi overrides would let them reorder what a
reader sees. ``inert`` replaces each with a visible stand-in; newlines and tabs survive.

Names are held to more: a name is how a person recognises someone, so every character that prints as
nothing, or as a space that is not a space, is shown as ``<U+XXXX>`` (``visible_name``); when two names
read as the same name is ``murmur.names.name_key``.

Every line the command-line programs print for people goes through ``say``, which applies ``inert`` to the
whole text, so a renderer that forgets cannot put a control sequence on the terminal. JSON goes through
``json_line``, whose escapes keep those characters out of the bytes while the values decode unchanged.

This module is plain Python: no terminal library, so the core, the server and the client can all use it.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from typing import Any

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

# Letters that print as blank space (Hangul fillers, the Braille blank); the Unicode categories below
# catch the rest of what prints as nothing.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")

# In running text these two join or separate letters and emoji as their writers mean them to (Persian,
# Indic scripts, family emoji), so a post keeps them; a name shows them.
_JOINERS = frozenset("\u200c\u200d")


def _stand_in(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ for ESC, ␀ for NUL
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def _acts_on_terminal(ch: str) -> bool:
    """Control characters, bidi controls and what a terminal cannot draw as itself."""
    return (
        ch < " "
        or "\x7f" <= ch <= "\x9f"
        or ch in BIDI_CONTROLS
        or unicodedata.category(ch) in ("Cs", "Co", "Zl", "Zp")
    )


def invisible(ch: str, *, in_name: bool = False) -> bool:
    """Whether ``ch`` prints as nothing (or, in a name, as a space that is not U+0020)."""
    if ch in _JOINERS:
        return in_name
    category = unicodedata.category(ch)
    if category == "Cf" or ch in _BLANK_LETTERS or "\ufe00" <= ch <= "\ufe0e" or "\U000e0100" <= ch <= "\U000e01ef":
        return True
    return in_name and category == "Zs" and ch != " "


def inert(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every character that could act on a terminal, or hide, replaced by a visible stand-in."""
    out: list[str] = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch == "\t":
            out.append("    ")
        elif _acts_on_terminal(ch) or invisible(ch):
            out.append(_stand_in(ch))
        else:
            out.append(ch)
    return "".join(out)


def one_line(text: str, width: int = 60) -> str:
    """``inert`` on one line (a newline becomes ␊), cut to ``width`` with an ellipsis."""
    flat = inert(text, keep_newlines=False)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def visible_name(name: str, width: int = 32) -> str:
    """A display name on one line with every invisible character shown, so look-alikes differ on screen."""
    # A code point this Python's Unicode does not know may be a newer emoji or a newer invisible: a name is too
    # short to take the chance, so it shows as its number. Text keeps it, so newer emoji still draw in posts.
    shown = "".join(
        _stand_in(ch) if invisible(ch, in_name=True) or unicodedata.category(ch) == "Cn" else ch for ch in name
    )
    return one_line(shown, width)


def say(text: str = "", *, err: bool = False) -> None:
    """Print ``text`` and a newline for a person, made inert: the one way the CLI writes human output."""
    out = sys.stderr if err else sys.stdout
    line = inert(text) + "\n"
    try:
        out.write(line)
    except UnicodeEncodeError:  # a terminal that cannot show everything still gets every line
        encoding = out.encoding or "ascii"
        out.write(line.encode(encoding, "backslashreplace").decode(encoding))
    out.flush()


_JSON_UNSAFE = {
    ord(ch): f"\\u{ord(ch):04x}" for ch in (*map(chr, range(0x7F, 0xA0)), *BIDI_CONTROLS, "\u2028", "\u2029")
}


def json_line(value: Any) -> str:
    """One JSON document on one line. ``json`` escapes C0; DEL, C1, bidi controls and the line and paragraph
    separators are escaped here, so the bytes are safe on a terminal and a script reads the server's values."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_JSON_UNSAFE)
