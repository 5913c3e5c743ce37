"""Making other people's text safe to put on a terminal, and short human forms of keys and times.

Posts, names and bios are untrusted. Control characters (C0, C1, DEL) would let a post move the cursor,
recolour the screen or set the window title (ANSI/OSC escapes), and bidi overrides would let it reorder
what a reader sees. They are replaced by visible stand-ins; newlines and tabs survive.
"""

from __future__ import annotations

import time
import unicodedata

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _stand_in(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ for ESC, ␀ for NUL
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def inert(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every character that could act on a terminal replaced by a visible stand-in."""
    out: list[str] = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch == "\t":
            out.append("    ")
        elif (
            ch < " "
            or ch == "\x7f"
            or "\x80" <= ch <= "\x9f"
            or ch in _BIDI_CONTROLS
            or unicodedata.category(ch) in ("Cs", "Co")
        ):
            out.append(_stand_in(ch))
        else:
            out.append(ch)
    return "".join(out)


def one_line(text: str, width: int = 60) -> str:
    flat = inert(text, keep_newlines=False)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def ago(created_at_ms: int, now_ms: int | None = None) -> str:
    """Relative time: 'now', '42s', '5m', '3h', '2d', then the date."""
    now = time.time() * 1000 if now_ms is None else now_ms
    seconds = max(0, int((now - created_at_ms) / 1000))
    if seconds < 5:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            if unit == "d" and seconds >= 30 * 86400:
                return time.strftime("%Y-%m-%d", time.gmtime(created_at_ms / 1000))
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
