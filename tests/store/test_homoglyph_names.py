"""Names that read alike across scripts: a display name spelled with look-alike letters of another script (UTS #39
confusables) reads as the name it imitates, so the store must flag the two as one name ("name shared"), as it
does for case, width and invisible characters (``murmur.names.name_key``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from confusable_homoglyphs.confusables import confusables_data

from murmur.keys import Identity
from murmur.mentions import handle_of
from murmur.message import sign_draft
from murmur.names import _neighbours, folded, name_key, skeleton
from murmur.store import Store
from murmur.store.schema import MIGRATIONS, REKEY_NAMES
from tests.schema_at import HANDLES, back_before_handles


@pytest.mark.parametrize(
    "one,other",
    [
        ("Ada", "\u0410d\u0430"),  # Cyrillic capital A and small a around a Latin d
        ("Ada", "\u0410\u0501\u0430"),  # every letter Cyrillic: А, ԁ (Komi de), а
        ("paypal", "p\u0430yp\u0430l"),  # Cyrillic а twice
        ("Eve", "\u0395v\u0435"),  # Greek capital Epsilon, Cyrillic small ie
        ("root", "r\u043e\u03bft"),  # Cyrillic o, Greek omicron
    ],
)
def test_a_name_spelled_with_another_scripts_look_alikes_reads_as_the_name_it_imitates(one: str, other: str) -> None:
    assert one != other
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize("one,other", [("Ada", "\u0410d\u0430"), ("paypal", "p\u0430yp\u0430l")])
def test_a_look_alike_name_flags_but_never_takes_the_handle_of_the_name_it_imitates(one: str, other: str) -> None:
    # UTS #39: equal skeletons say two strings may be taken for each other, not that they are one. "@ada" finds
    # the person named "Ada" only; a mention of the look-alike is typed (or pasted) with its own letters.
    assert handle_of(one) != handle_of(other)
    assert handle_of(other) == handle_of(other.upper())


def test_the_confusables_data_has_the_shape_the_skeleton_is_read_from() -> None:
    # murmur.names reads each prototype from the package's pairs: a newer package that broke this shape would
    # make the skeleton wrong without a word.
    assert _is_a_set_of_stars(_neighbours(confusables_data))
    assert skeleton("\u0440\u0430\u0443\u0440\u0430l") == skeleton("paypal") != skeleton("\u0434")


def _is_a_set_of_stars(graph: dict[str, set[str]]) -> bool:
    """Whether every group of confusables has one member confusable with all the others (what
    ``murmur.names._prototypes`` reads the direction from)."""
    seen: set[str] = set()
    for start in graph:
        if start in seen:
            continue
        group, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node not in group:
                group.add(node)
                todo.extend(graph[node])
        seen |= group
        if not any(len(graph[node]) == len(group) - 1 for node in group):
            return False
    return True


def test_a_group_without_a_member_near_all_others_is_not_a_star() -> None:
    assert _is_a_set_of_stars({"a": {"b", "c"}, "b": {"a"}, "c": {"a"}})
    assert not _is_a_set_of_stars({"a": {"b"}, "b": {"a", "c"}, "c": {"b", "d"}, "d": {"c"}})


async def test_names_stored_before_the_skeleton_are_keyed_again_when_the_store_opens(
    tmp_path: Path, database: str | None, migrated: Callable[[Path], None]
) -> None:
    path = tmp_path / "murmur.db"
    if database is None:
        migrated(path)
    store = await Store.open(path, database=database)
    ada, twin = Identity.from_seed(b"\x01" * 32), Identity.from_seed(b"\x02" * 32)
    names = {ada.public_key: "Ada", twin.public_key: "\u0410d\u0430"}
    await store.ingest([_profile(ada, "Ada"), _profile(twin, names[twin.public_key])], origin="local", now=2**53 - 1)
    await store.close()
    # As the murmur before migration 20 left it: keys without the skeleton, the schema back to before it.
    before = [(folded(name), bytes.fromhex(key)) for key, name in names.items()]
    version = MIGRATIONS.index(REKEY_NAMES)
    assert version == HANDLES - 1  # what came after it undone here
    back_before_handles(version, path, database, "UPDATE profiles SET name_key = ? WHERE author = ?", before)
    store = await Store.open(path, database=database)
    try:
        assert await store.shared_names(list(names)) == set(names)
    finally:
        await store.close()


def _profile(who: Identity, name: str) -> dict:  # type: ignore[type-arg]
    return sign_draft(who, {"kind": "profile", "body": {"name": name}}, created_at=1_700_000_000_000)
