"""The one grammar for a whole number that arrives as text: query parameters, headers, a peer's answers.

A number on the wire is 1 to ``digits`` ASCII digits, where ``digits`` is the width of the largest value
allowed, and then the value must be in ``[low, high]``. Nothing else is a number here: no sign, no spaces, no
``_`` separators, no decimal point, no exponent, and no other script's digits (``str.isdigit`` accepts ``٣``
and ``²``, and ``int`` accepts ``" 7"``, ``"+7"`` and ``"1_0"``). The digit cap comes before ``int``, so a
10,000-digit value costs nothing and never reaches ``int``'s own 4,300-digit limit.

Whatever fails is ``Refused(code, ...)`` with a sentence that names the field and the range; each caller
picks the code its API documents (``bad_cursor``, ``bad_limit``, ...).
"""

from __future__ import annotations

import re

from murmur.errors import Refused

# re.ASCII is implied by the explicit class, but spelled out: \d would match every script's digits.
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
# The largest value anything in murmur counts or points at (a log position, a byte count): 2^53 - 1, which
# JSON readers everywhere hold exactly.
MAX_NUMBER = 2**53 - 1


def parse_number(text: str | None, *, name: str, low: int, high: int, code: str) -> int:
    """``text`` as a whole number in ``[low, high]``; ``Refused(code)`` naming ``name`` otherwise."""
    if not 0 <= low <= high <= MAX_NUMBER:
        raise ValueError("the range must lie within 0 to 2^53 - 1")
    if text is None or len(text) > len(str(high)) or not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise Refused(code, f"{name} must be a whole number from {low} to {high}, in ASCII digits.")
    return int(text)
