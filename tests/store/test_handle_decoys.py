"""``@ann`` finds the person named Ann however many others put the word in their names: the full-text index only
narrows, and the exact rule (``murmur.mentions.handle_of``) decides. Read by rank and cut at ``NAME_CANDIDATES``
before that rule, names that repeat the word ("ann ann ann ann") outrank the one that is exactly it, and 50 such
profiles (keys cost nothing; profiles come from every peer) leave the real Ann unmentionable by name: no one is
found, on both engines."""

from __future__ import annotations

import itertools

import pytest
from store_people import T0, Person

from murmur.keys import Identity
from murmur.store import Store
from murmur.store.lookup import NAME_CANDIDATES, people_named, people_starting


@pytest.mark.xfail(strict=True, reason="_by_name_words reads NAME_CANDIDATES rows by rank before the exact handle rule")
async def test_decoys_repeating_a_name_do_not_hide_the_person_it_is(store: Store, ann: Person) -> None:
    clock = itertools.count(T0 + 10**6, 1000)
    decoys = [
        Person(Identity.from_seed(bytes([100 + n]) * 32), clock).profile("ann ann ann ann")
        for n in range(NAME_CANDIDATES + 1)
    ]
    await store.ingest([ann.profile("Ann")])
    await store.ingest(decoys)
    assert [p.key for p in await people_named(store, "ann")] == [ann.key]
    assert ann.key in [p.key for p in await people_starting(store, "ann")]
