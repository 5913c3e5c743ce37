"""Polls in the store: ballots refused with a reason when their held poll shows they cannot count, waiting when
the poll is not held yet, and results that are the same whatever order the ballots arrived in."""

from __future__ import annotations

import itertools
from typing import Any

from store_people import T0, Person

from murmur.kinds import poll as polls
from murmur.store import Store

CLOSES = T0 + 10**7


def make_poll(who: Person, *, multiple: bool = False, group: str | None = None) -> dict[str, Any]:
    body = {"question": "Lunch?", "options": "noon\none\ntwo", "multiple": "yes" if multiple else "no",
            "closes": str(CLOSES)}  # fmt: skip
    return who.sign("poll", body, [["group", group]] if group else [], None)


def vote(who: Person, poll: dict[str, Any], choices: str, at: int | None = None) -> dict[str, Any]:
    return who.sign("ballot", {"choices": choices}, [["target", poll["id"]], ["subject", poll["author"]]], at)


async def figures(store: Store, poll: dict[str, Any]) -> tuple[tuple[tuple[str, int], ...], int]:
    found = await polls.results(store, poll["id"])
    assert found is not None
    return found.tally.options, found.tally.voters


async def test_ballots_that_cannot_count_are_refused_with_their_reason(store: Store, ann: Person, ben: Person) -> None:
    poll = make_poll(ann)
    post = ann.post("not a poll")
    await store.ingest([poll, post])
    results = await store.ingest([
        vote(ben, poll, "1", at=CLOSES),  # at the close
        vote(ben, poll, "4"),  # no such option
        vote(ben, poll, "1,2"),  # several, in a single-choice poll
        vote(ben, post, "1"),  # not a poll
        ben.sign("ballot", {"choices": "1"}, [["target", poll["id"]], ["subject", ben.key]], None),  # wrong author
    ])  # fmt: skip
    assert [(r.status, r.code) for r in results] == [
        ("refused", "poll_closed"), ("refused", "bad_option"), ("refused", "bad_option"),
        ("refused", "bad_target"), ("refused", "bad_target"),
    ]  # fmt: skip
    assert all(r.reason for r in results)
    assert await figures(store, poll) == ((("noon", 0), ("one", 0), ("two", 0)), 0)


async def test_a_ballot_on_a_deleted_poll_is_refused(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    poll = make_poll(ann)
    await store.ingest([poll])
    await store.ingest([ann.delete(poll)])
    [late] = await store.ingest([vote(ben, poll, "1")])
    assert (late.status, late.code) == ("refused", "poll_deleted")
    assert await polls.results(store, poll["id"]) is None


async def test_a_delete_by_someone_else_does_not_shut_a_poll(store: Store, ann: Person, ben: Person) -> None:
    poll = make_poll(ann)
    await store.ingest([ben.delete(poll)])  # before the poll: stored, waiting, and not the author's
    [ballot] = await store.ingest([vote(ben, poll, "1")])
    assert ballot.status == "stored"


async def test_a_ballot_before_its_poll_waits_and_is_judged_when_it_comes(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    poll = make_poll(ann)
    early = [vote(ben, poll, "2"), vote(cat, poll, "3", at=CLOSES + 1)]
    assert [r.status for r in await store.ingest(early)] == ["stored", "stored"]
    await store.ingest([poll])
    assert await figures(store, poll) == ((("noon", 0), ("one", 1), ("two", 0)), 1)  # Cat's was too late


async def test_results_are_the_same_in_every_arrival_order(
    tmp_path: Any, ann: Person, ben: Person, cat: Person
) -> None:
    poll = make_poll(ann, multiple=True)
    messages = [poll, vote(ben, poll, "1"), vote(ben, poll, "2,3"), vote(cat, poll, "1")]
    seen = set()
    for n, order in enumerate(itertools.permutations(messages)):
        store = await Store.open(tmp_path / f"{n}.db")
        try:
            for message in order:  # one at a time: every arrival order, the poll anywhere among its ballots
                await store.ingest([message])
            seen.add(await figures(store, poll))
        finally:
            await store.close()
    assert seen == {((("noon", 1), ("one", 1), ("two", 1)), 2)}  # Ben's second ballot, Cat's one


async def test_a_group_poll_counts_members_at_the_ballots_time(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    group = ann.sign("group", {"name": "Lunch club", "join": "open"}, [], None)
    ben_joins = ben.sign("group_join", {}, [["group", group["id"]]], None)
    poll = make_poll(ann, group=group["id"])
    early_cat = vote(cat, poll, "2")  # not a member yet: does not count
    cat_joins = cat.sign("group_join", {}, [["group", group["id"]]], None)
    later_cat = vote(cat, poll, "3", at=T0 + 10**6)
    await store.ingest([group, ben_joins, poll, early_cat, cat_joins, vote(ben, poll, "1"), vote(ann, poll, "1")])
    assert await figures(store, poll) == ((("noon", 2), ("one", 0), ("two", 0)), 2)
    await store.ingest([later_cat])
    assert await figures(store, poll) == ((("noon", 2), ("one", 0), ("two", 1)), 3)
    held = await polls.signed(store, poll["id"])
    assert held is not None and len(held.ballots) == 4 and len(held.group) == 3  # creation and both joins
