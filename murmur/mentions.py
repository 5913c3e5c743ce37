"""Mentions as people type them (``@ada``, ``@Ada_Lovelace``, ``@403bd7e4``) and as posts carry them.

A signed post names a person by key: ``@<64 hex>`` in its text and a ``mention`` tag (``message.tags_from_text``),
so every reader on every server knows exactly who is meant. People type names: a client resolves each typed
``@handle`` to a key at compose time, through the people its home server knows, and refuses a handle that is
nobody's or more than one person's, rather than guess. Readers show the key as the person's current name beside
their fingerprint, never the bare key.

A person's handle is their display name as it is typed (case-folded, invisibles dropped: ``names.folded``), with
each run of whitespace written ``_``: "Ada Lovelace" is ``@ada_lovelace`` (or ``@Ada_Lovelace``). Eight or more hex
digits are read as a key prefix instead.
"""

from __future__ import annotations

import re

from murmur.keys import KEY_HEX
from murmur.names import folded

# After anything but a word character or "@" (so e-mail addresses are not mentions); ends on a word character,
# so "@ada." and "(@ada)" mention "ada".
TYPED_MENTION = re.compile(r"(?<![\w@])@(\w(?:[\w.-]*\w)?)")
KEY_PREFIX = re.compile(r"[0-9a-fA-F]{8,64}")
MAX_HANDLE = 64


def handle_of(name: str) -> str:
    """The handle a display name (or a typed handle) is compared by: the name as it is typed to mean someone
    (``murmur.names.folded``: case and compatibility forms folded, invisibles dropped), spaces as ``_``. Not the
    look-alike skeleton that flags a shared name (``murmur.names.name_key``): "@paypal" finds the person named
    "paypal", never one whose name only looks like it."""
    return "_".join(folded(name).split())


def handle_key(name: str) -> bytes | None:
    """The handle of ``name`` as the store indexes it (``profiles.handle``): its UTF-8 bytes, which both engines
    compare byte by byte, so a handle's prefix is a range of the index (text would be compared by PostgreSQL's
    collation, where it is not). None for a name that folds to nothing: it has no handle. A lone surrogate (which
    some JSON spells) is kept as its three bytes, so that no name and no typed text makes this raise."""
    return handle_of(name).encode("utf-8", "surrogatepass") or None


def typed_mentions(text: str) -> list[str]:
    """The handles and key prefixes typed as ``@...`` in ``text``, each once, in order; full keys are left out
    (they are already what a post carries)."""
    seen: dict[str, None] = {}
    for match in TYPED_MENTION.finditer(text):
        token = match.group(1)
        if not KEY_HEX.fullmatch(token):
            seen.setdefault(token, None)
    return list(seen)


def with_keys(text: str, keys: dict[str, str]) -> str:
    """``text`` with each typed ``@token`` found in ``keys`` written as ``@<its key>``."""
    return TYPED_MENTION.sub(lambda m: f"@{keys[m.group(1)]}" if m.group(1) in keys else m.group(0), text)
