"""When two display names read as the same name: the one rule, used by the store to flag a name that
another key also uses (``Store.shared_names``), so that a reader is told, beside the fingerprints.

Two steps. ``folded`` is the name as a person types it to mean someone: compatibility forms (NFKC), case,
invisible characters and runs of spaces folded; a mention handle is this (``murmur.mentions.handle_of``), so
"@ada" finds "Ada" and never a look-alike. ``name_key`` goes further, for the warning only: it also maps each
letter to the letter it is drawn like, as Unicode's confusable skeleton does (UTS #39, section 4), so "Аdа" with
Cyrillic А and а reads as "Ada". Equal keys flag two names as one name ("name shared"): they never make two
people one, and a name whose letters only another script has ("Ада", with Cyrillic д) keeps its own key.

The confusables come from Unicode's ``confusables.txt`` as the ``confusable-homoglyphs`` package ships it (a
maintained, pure-Python wheel), read when a key is first computed, never at import.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping

from murmur.terminal import invisible

# Marks the package's data keeps around right-to-left characters, as Unicode's file shows them in its comments.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")


def folded(name: str) -> str:
    """The name as it is typed to mean someone: compatibility forms folded (NFKC), case folded, what prints
    as nothing dropped, runs of spaces made one. "Ada", "ADA", "Ａｄａ", "A\u200bda" and " Ada " fold alike."""
    return _plain(unicodedata.normalize("NFKC", name).casefold())


def name_key(name: str) -> str:
    """What names are compared by for "name shared": ``folded``, and then every letter drawn like a letter of
    another script taken as that letter (the UTS #39 skeleton), before and after case folding so that a
    capital I drawn like a small l counts as one. "Ada", "ADA", "Аdа" (Cyrillic) and "Αdа" (Greek) have one key;
    "Ада" (Cyrillic д, drawn like no Latin letter) has another."""
    plain = _plain(unicodedata.normalize("NFKC", name))
    return _plain(skeleton(skeleton(plain).casefold()))


def skeleton(text: str) -> str:
    """UTS #39's skeleton: ``text`` decomposed (NFD), each character replaced by the prototype it is confusable
    with, decomposed again. Two strings are confusable exactly when their skeletons are equal."""
    table = _prototypes()
    return unicodedata.normalize("NFD", "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFD", text)))


def _plain(text: str) -> str:
    kept = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or not invisible(ch, in_name=True))
    return " ".join(kept.split())


@functools.cache
def _prototypes() -> Mapping[str, str]:
    """Each confusable character's prototype, from the package's data.

    The package keeps Unicode's mapping (source character -> prototype) both ways, each pair under both of its
    ends, so the direction is read back from the shape Unicode gives it: every source maps to one prototype and
    a prototype is never a source, so each group of confusables is a star around its prototype. The prototype is
    the member confusable with all the others: the one sequence of several characters in its group, or the one
    character with more than one neighbour. A group of two single characters has no telling which is the
    prototype, and needs none: either one stands for both alike. ``tests/store/test_homoglyph_names.py`` checks
    that the package's data still has this shape.
    """
    from confusable_homoglyphs.confusables import confusables_data  # loads its data file: on first use only

    neighbours = _neighbours(confusables_data)
    table: dict[str, str] = {}
    for ch, near in neighbours.items():
        if len(ch) != 1 or len(near) != 1:
            continue  # a prototype (or a sequence, which is only ever one): it stands for itself
        (other,) = near
        if len(other) > 1 or len(neighbours[other]) > 1 or other < ch:
            table[ch] = other
    # A prototype of several characters may hold characters that have a prototype of their own only in the
    # pairs above: each is written as the character that stands for its group.
    return {ch: "".join(table.get(c, c) for c in proto) for ch, proto in table.items()}


def _neighbours(data: Mapping[str, list[dict[str, str]]]) -> dict[str, set[str]]:
    """The package's pairs as an undirected graph, direction marks dropped."""
    graph: dict[str, set[str]] = {}
    for key, entries in data.items():
        one = key.translate(_DIRECTION_MARKS)
        for entry in entries:
            other = entry["c"].translate(_DIRECTION_MARKS)
            graph.setdefault(one, set()).add(other)
            graph.setdefault(other, set()).add(one)
    return graph

