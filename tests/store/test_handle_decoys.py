"""``@ann`` finds the person named Ann however many others put the word in their names. Handles are looked up by
the handle itself (``profiles.handle``, an index of ``murmur.mentions.handle_key``), never by reading the full-text
index by rank and cutting it short before the exact rule: names that repeat the word ("ann ann ann ann") outrank
the one that is exactly it, and 50 such profiles (keys cost nothing; profiles come from every peer) would leave the
real Ann unmentionable by name, uncompletable and unsearchable. On both engines."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from store_people import T0, Person

from murmur.keys import Identity
from murmur.store import Store
from murmur.store.lookup import NAME_CANDIDATES, people_named, people_starting
from murmur.store.search import search_profiles
from tests.schema_at import HANDLES, back_before_handles


def decoys(name: str, count: int = NAME_CANDIDATES + 1) -> list[dict]:  # type: ignore[type-arg]
    clock = itertools.count(T0 + 10**6, 1000)
    return [Person(Identity.from_seed(bytes([100 + n]) * 32), clock).profile(name) for n in range(count)]


async def test_decoys_repeating_a_name_do_not_hide_the_person_it_is(store: Store, ann: Person) -> None:
    await store.ingest([ann.profile("Ann")])
    await store.ingest(decoys("ann ann ann ann"))
    assert [p.key for p in await people_named(store, "ann")] == [ann.key]
    assert [p.key for p in await people_starting(store, "ann")][:1] == [ann.key]
    assert [p.key for p in await people_starting(store, "an")][:1] == [ann.key]
    assert [h.author for h in await search_profiles(store, "Ann")][:1] == [ann.key]


async def test_decoys_sharing_a_prefix_do_not_hide_the_one_whose_handle_it_is(store: Store, ann: Person) -> None:
    """Completion reads a bounded number of handles starting with what was typed, in byte order: the handle that
    is exactly what was typed is the first of them, however many longer ones there are."""
    await store.ingest(decoys("Anna"))  # shorter than "ann_a...", and as many as are read
    await store.ingest([ann.profile("Ann Arbor")])
    assert [p.key for p in await people_starting(store, "ann_arbor")] == [ann.key]
    assert [p.key for p in await people_starting(store, "Ann Arbor")] == [ann.key]
    assert [p.name for p in await people_starting(store, "ann")] == ["Anna"] * 5  # the shortest handles first
    assert [p.key for p in await people_named(store, "ANN_ARBOR")] == [ann.key]


async def test_many_sharing_a_handle_are_a_bounded_answer(store: Store, ann: Person) -> None:
    await store.ingest([ann.profile("Ann"), *decoys("ANN", NAME_CANDIDATES + 5)])
    found = await people_named(store, "ann")
    assert len(found) == NAME_CANDIDATES  # enough to say it is several people's; a client asks which one
    assert all(p.name in {"Ann", "ANN"} for p in found)


async def test_a_handle_is_bytes_compared_as_bytes(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    """A collation would sort "zoë" among the z's and may take "Zoe" and "zoë" for one: bytes do neither."""
    await store.ingest([ann.profile("Zoë"), ben.profile("Zoe"), cat.profile("zoëy")])
    assert [p.key for p in await people_named(store, "ZOË")] == [ann.key]
    assert [p.name for p in await people_starting(store, "zoë")] == ["Zoë", "zoëy"]
    assert [p.name for p in await people_starting(store, "zo")] == ["Zoe", "Zoë", "zoëy"]
    assert await people_named(store, "\u200b") == [] and await people_starting(store, " ") == []


async def test_profiles_held_before_handles_get_them_when_the_store_opens(
    tmp_path: Path, database: str | None, migrated: Callable[[Path], None], ann: Person, ben: Person
) -> None:
    path = tmp_path / "murmur.db"
    if database is None:
        migrated(path)
    store = await Store.open(path, database=database)
    await store.ingest([ann.profile("Ann Arbor"), ben.profile("")])
    await store.close()
    back_before_handles(HANDLES, path, database)
    store = await Store.open(path, database=database)
    try:
        assert [p.key for p in await people_named(store, "ann_arbor")] == [ann.key]
        assert [p.key for p in await people_starting(store, "a")] == [ann.key]  # ben's empty name has no handle
    finally:
        await store.close()
