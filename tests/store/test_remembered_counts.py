"""A letter's count and a poll's results are counted once and remembered until what they are counted from changes:
a new signature, a withdrawal, a signature or a delete dated past the deadline (which changes nothing), a ballot,
a change in a group poll's membership. The figure is always the one the counting rule gives from what is held,
also after a restart, a delete and messages arriving out of order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from store_people import T0, Person
from test_letters import DEADLINE, make_letter, sign
from test_polls import make_poll, vote

from murmur.kinds import letter as letters
from murmur.kinds import letter_count, poll_tally
from murmur.kinds import poll as polls
from murmur.kinds.group_drafts import create_draft, membership_draft
from murmur.store import Store


class Calls:
    """Counts the calls of a counting rule, still running it."""

    def __init__(self, rule: Callable[..., Any]) -> None:
        self.rule, self.n = rule, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.n += 1
        return self.rule(*args, **kwargs)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Calls:
    calls = Calls(letter_count.count)
    monkeypatch.setattr(letters, "count", calls)
    return calls


@pytest.fixture
def tallied(monkeypatch: pytest.MonkeyPatch) -> Calls:
    calls = Calls(poll_tally.tally)
    monkeypatch.setattr(polls, "tally", calls)
    return calls


async def keys(store: Store, letter: dict[str, Any]) -> list[str]:
    found = await letters.standing(store, letter["id"])
    assert found is not None
    return [s.key for s in found.count.signers]


async def test_a_letter_is_counted_once_until_a_signature_or_withdrawal_comes(
    store: Store, counted: Calls, ann: Person, ben: Person, cat: Person, dan: Person
) -> None:
    letter = make_letter(ann)
    ben_signs = sign(ben, letter)
    await store.ingest([letter, ben_signs])
    assert await keys(store, letter) == [ben.key]
    assert await keys(store, letter) == [ben.key] and counted.n == 1  # asked again: remembered
    await store.ingest([sign(cat, letter)])
    assert sorted(await keys(store, letter)) == sorted([ben.key, cat.key]) and counted.n == 2
    await store.ingest([ben.delete(ben_signs)])  # a withdrawal before the deadline
    assert await keys(store, letter) == [cat.key] and counted.n == 3
    dan_signs = sign(dan, letter, at=DEADLINE - 2)
    await store.ingest([dan_signs])
    assert sorted(await keys(store, letter)) == sorted([cat.key, dan.key]) and counted.n == 4
    await store.ingest([dan.delete(dan_signs, at=DEADLINE + 1)])  # past the deadline: withdraws nothing
    assert sorted(await keys(store, letter)) == sorted([cat.key, dan.key]) and counted.n == 5
    assert len(await keys(store, letter)) == 2 and counted.n == 5


async def test_signatures_arriving_before_their_letter_and_past_its_deadline(
    store: Store, counted: Calls, ann: Person, ben: Person, cat: Person
) -> None:
    letter = make_letter(ann)
    await store.ingest([sign(ben, letter, at=DEADLINE + 5), sign(cat, letter)])  # the letter is not held yet
    assert await letters.standing(store, letter["id"]) is None
    await store.ingest([letter])
    assert await keys(store, letter) == [cat.key]  # Ben's, dated past the deadline, never stands


async def test_a_restart_and_a_deleted_letter_give_what_is_held(tmp_path: Path, ann: Person, ben: Person) -> None:
    path = tmp_path / "murmur.db"
    letter = make_letter(ann)
    async with await Store.open(path) as store:
        await store.ingest([letter, sign(ben, letter)])
        assert await keys(store, letter) == [ben.key]
    async with await Store.open(path) as store:
        assert await keys(store, letter) == [ben.key]
        await store.ingest([ann.delete(letter)])
        assert await letters.standing(store, letter["id"]) is None


async def test_two_stores_never_share_a_figure(tmp_path: Path, ann: Person, ben: Person) -> None:
    letter = make_letter(ann)
    async with await Store.open(tmp_path / "a.db") as one, await Store.open(tmp_path / "b.db") as two:
        await one.ingest([letter, sign(ben, letter)])
        await two.ingest([letter])
        assert await keys(one, letter) == [ben.key]
        assert await keys(two, letter) == []


async def test_a_poll_is_tallied_once_until_a_ballot_comes(
    store: Store, tallied: Calls, ann: Person, ben: Person, cat: Person
) -> None:
    poll = make_poll(ann)
    await store.ingest([poll, vote(ben, poll, "1")])
    for _ in range(2):
        found = await polls.results(store, poll["id"])
        assert found is not None and found.tally.voters == 1
    assert tallied.n == 1
    await store.ingest([vote(ben, poll, "2"), vote(cat, poll, "2")])  # a change of mind, and another voter
    found = await polls.results(store, poll["id"])
    assert found is not None and dict(found.tally.options) == {"noon": 0, "one": 2, "two": 0} and tallied.n == 2


async def test_a_group_poll_is_tallied_again_when_its_membership_changes(
    store: Store, tallied: Calls, ann: Person, ben: Person
) -> None:
    """A ballot cast by someone whose join arrives later counts once the join is held: no new ballot, but the
    group's messages moved."""
    create = ann.sign("group", create_draft("Club")["body"], [], T0)
    poll = make_poll(ann, group=create["id"])
    join = ben.sign("group_join", {}, membership_draft("group_join", create["id"])["tags"], T0 + 1)
    await store.ingest([create, poll, vote(ben, poll, "1")])
    found = await polls.results(store, poll["id"])
    assert found is not None and found.tally.voters == 0
    await store.ingest([join])
    found = await polls.results(store, poll["id"])
    assert found is not None and found.tally.voters == 1 and tallied.n == 2
