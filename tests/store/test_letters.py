"""Open letters in the store: signatures refused with a reason when their held letter shows they cannot stand,
waiting when it is not held yet, withdrawals kept beside the signatures they name, and a count that is the same
whatever order everything arrived in; a new version starts a count of its own."""

from __future__ import annotations

import itertools
from typing import Any

from store_people import T0, Person

from murmur.kinds import letter as letters
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.store import Store
from murmur.validate import check

DEADLINE = T0 + 10**7


def make_letter(who: Person, *, text: str = "Please.", previous: dict[str, Any] | None = None) -> dict[str, Any]:
    draft = letter_draft("Four-day week", "the board", text, deadline=DEADLINE, previous=previous and previous["id"])
    return who.sign("letter", draft["body"], draft["tags"], None)


def sign(who: Person, letter: dict[str, Any], at: int | None = None, note: str | None = None) -> dict[str, Any]:
    draft = signature_draft(check(letter, now=None), note)
    return who.sign("signature", draft["body"], draft["tags"], at)


async def signers(store: Store, letter: dict[str, Any]) -> list[tuple[str, str]]:
    found = await letters.standing(store, letter["id"])
    assert found is not None
    return [(s.key, s.note) for s in found.count.signers]


async def test_signatures_that_cannot_stand_are_refused_with_their_reason(
    store: Store, ann: Person, ben: Person
) -> None:
    letter, post = make_letter(ann), ann.post("not a letter")
    await store.ingest([letter, post])
    wrong_author = ben.sign("signature", {}, [["target", letter["id"]], ["subject", ben.key]], None)
    results = await store.ingest([
        sign(ben, letter, at=DEADLINE),  # at the deadline
        ben.sign("signature", {}, [["target", post["id"]], ["subject", ann.key]], None),  # not a letter
        wrong_author,
    ])  # fmt: skip
    assert [(r.status, r.code) for r in results] == [
        ("refused", "letter_closed"), ("refused", "bad_target"), ("refused", "bad_target"),
    ]  # fmt: skip
    assert all(r.reason for r in results)
    assert await signers(store, letter) == []


async def test_a_signature_on_a_deleted_letter_is_refused(store: Store, ann: Person, ben: Person) -> None:
    letter = make_letter(ann)
    await store.ingest([letter])
    await store.ingest([ann.delete(letter)])
    [late] = await store.ingest([sign(ben, letter)])
    assert (late.status, late.code) == ("refused", "letter_deleted")
    assert await letters.standing(store, letter["id"]) is None


async def test_a_signature_before_its_letter_waits_and_is_judged_when_it_comes(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    letter = make_letter(ann)
    early, late = sign(ben, letter), sign(cat, letter, at=DEADLINE + 1)
    assert [r.status for r in await store.ingest([early, late])] == ["stored", "stored"]
    await store.ingest([letter])
    assert await signers(store, letter) == [(ben.key, "")]


async def test_the_count_is_the_same_in_every_arrival_order(
    tmp_path: Any, ann: Person, ben: Person, cat: Person
) -> None:
    letter = make_letter(ann)
    ben_sig, cat_sig = sign(ben, letter, note="still"), sign(cat, letter)
    everything = [
        letter, ben_sig, cat_sig,
        cat.delete(cat_sig),  # withdrawn before the deadline
        ben.delete(ben_sig, at=DEADLINE),  # at the deadline: withdraws nothing
    ]  # fmt: skip
    seen = set()
    for n, order in enumerate(itertools.permutations(everything)):
        store = await Store.open(tmp_path / f"{n}.db")
        try:
            for message in order:  # one at a time: the letter anywhere among its signatures and withdrawals
                await store.ingest([message])
            seen.add(tuple(await signers(store, letter)))
        finally:
            await store.close()
    assert seen == {((ben.key, "still"),)}


async def test_a_withdrawal_is_kept_beside_its_signature_and_handed_over_as_signed(
    store: Store, ann: Person, ben: Person
) -> None:
    letter = make_letter(ann)
    signature = sign(ben, letter)
    withdrawal = ben.delete(signature)
    await store.ingest([letter, signature, withdrawal])
    held = await letters.signed(store, letter["id"])
    assert held is not None
    assert [check(r, now=None).id for r in held.signatures] == [signature["id"]]
    assert [check(r, now=None).id for r in held.withdrawals] == [withdrawal["id"]]
    assert await signers(store, letter) == []


async def test_a_new_version_starts_its_own_count_and_the_old_one_names_it(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    old = make_letter(ann)
    new = make_letter(ann, text="Please, from June.", previous=old)
    someone_elses = make_letter(ben, text="Mine now.", previous=old)
    await store.ingest([old, sign(ben, old)])
    results = await store.ingest([new, someone_elses, sign(cat, new)])
    assert [(r.status, r.code) for r in results] == [("stored", None), ("refused", "not_author"), ("stored", None)]
    assert await signers(store, old) == [(ben.key, "")]
    assert await signers(store, new) == [(cat.key, "")]
    found = await letters.standing(store, old["id"])
    assert found is not None and found.newer == (new["id"],)
    renewed = await letters.standing(store, new["id"])
    assert renewed is not None and renewed.spec.previous == old["id"] and renewed.newer == ()


async def test_a_new_version_must_replace_a_letter(store: Store, ann: Person) -> None:
    post = ann.post("a post")
    await store.ingest([post])
    [result] = await store.ingest([make_letter(ann, previous=post)])
    assert (result.status, result.code) == ("refused", "bad_target")
