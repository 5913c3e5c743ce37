"""When two display names read as the same name: the one rule, used by the store to flag a name that
another key also uses (``Store.shared_names``), so that a reader is told, beside the fingerprints."""

from __future__ import annotations

import unicodedata

from murmur.terminal import invisible


def name_key(name: str) -> str:
    """What names are compared by: compatibility forms folded (NFKC), case folded, what prints as nothing
    dropped, runs of spaces made one. "Ada", "ADA", "Ａｄａ", "A\u200bda" and " Ada " have one key."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(" " if ch.isspace() else ch for ch in folded if ch.isspace() or not invisible(ch, in_name=True))
    return " ".join(kept.split())
