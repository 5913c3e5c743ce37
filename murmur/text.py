"""Short human forms of times and of where a message came from. Making other people's text safe to print
lives in ``murmur.terminal``."""

from __future__ import annotations

import time


def ago(created_at_ms: int, now_ms: int | None = None) -> str:
    """Relative time: 'now', '42s', '5m', '3h', '2d', then the date."""
    now = time.time() * 1000 if now_ms is None else now_ms
    seconds = max(0, int((now - created_at_ms) / 1000))
    if seconds < 5:
        return "now"
    if seconds >= 30 * 86400:
        return time.strftime("%Y-%m-%d", time.gmtime(created_at_ms / 1000))
    return _span(seconds)


def left(until_ms: int, now_ms: int | None = None) -> str:
    """Time until a moment, as ``ago`` says time since one: '42s', '5m', '3h', '12d'; 'now' once it has come."""
    now = time.time() * 1000 if now_ms is None else now_ms
    seconds = int((until_ms - now) / 1000)
    return "now" if seconds <= 0 else _span(seconds)


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


FOLD_LINES = 12
FOLD_CHARS = 800


def fold(text: str, *, lines: int = FOLD_LINES, chars: int = FOLD_CHARS) -> tuple[str, str]:
    """The head of a long text and what was left out, in words ('' when nothing was).

    Give it text already made inert, so what is counted is what a terminal would draw. A post of 500
    newlines, or of one 5,000-character line, shows as a few lines and a marker, never as a screenful.
    """
    head = "\n".join(text.split("\n", lines)[:lines])[:chars]
    if len(head) == len(text):
        return text, ""
    hidden_lines = text.count("\n") - head.count("\n")
    if hidden_lines:
        return head, f"{hidden_lines} more line{'' if hidden_lines == 1 else 's'}"
    return head, f"{len(text) - len(head):,} more characters"


def arrived_from(origin: object) -> str:
    """Where a message came from, as the reader is told: nothing for a member's post made here, else a phrase.

    ``origin`` is the server's ``origin`` (the shown post) or ``boost_origin`` (a boost) of a timeline item:
    ``local``, ``import`` (a bundle) or a peer's (``peer:<key>``)."""
    if origin in (None, "local"):
        return ""
    return "from a bundle" if origin == "import" else "from another server"
