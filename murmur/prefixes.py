"""The form of an id or key as people may type it: all 64 hex digits, or a prefix of 8 or more.

Checked where it is typed (the command line, as a usage error) and where it is resolved (the home server,
``murmur.store.lookup``), by this one rule.
"""

from __future__ import annotations

import re

from murmur.errors import Refused

MIN_PREFIX = 8  # 32 bits: a chance collision needs tens of thousands of messages, and then it is refused
HEX = re.compile(r"[0-9a-fA-F]+")


def checked_prefix(text: str, what: str) -> str:
    """``text`` as lowercase hex of 8 to 64 digits (surrounding spaces dropped), or refused with the reason."""
    text = text.strip()
    if not text or not HEX.fullmatch(text) or len(text) > 64:
        raise Refused(
            "bad_request", f"A {what} is hex digits (0-9, a-f): all 64, or a unique prefix of {MIN_PREFIX} or more."
        )
    if len(text) < MIN_PREFIX:
        raise Refused(
            "id_too_short",
            f"{text!r} is {len(text)} hex digits; give at least {MIN_PREFIX} (or all 64), so it cannot be mistaken.",
        )
    return text.lower()
