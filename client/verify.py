"""The one check a client makes of every message a server hands it: the same as any server's (id, signature,
structure), at any clock (a message is judged as signed, not as recent)."""

from __future__ import annotations

from typing import Any

from murmur.errors import Refused
from murmur.jcs import MAX_SAFE_INTEGER
from murmur.validate import check


def verified(message: Any) -> bool:
    """Check a message from the server exactly as any server would (id, signature, structure)."""
    try:
        check(message if isinstance(message, dict) else {}, now=MAX_SAFE_INTEGER)
    except Refused:
        return False
    return True
