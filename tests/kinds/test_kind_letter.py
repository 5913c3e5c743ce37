"""The letter and signature kinds' shape, through the one validation path, and the count: each person's latest
standing signature counts once, withdrawals before the deadline take it back, in every arrival order, and the
signatures of an old version never count for a new one."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.kinds.letter_count import LetterSpec, count, fault
from murmur.message import Message, sign_envelope
from murmur.validate import check

ALICE = Identity.from_seed(bytes(range(32)))
BOB = Identity.from_seed(bytes(range(1, 33)))
CAT = Identity.from_seed(bytes(range(2, 34)))
NOW = 1_750_000_000_000
DEADLINE = NOW + 3_600_000
LATER = DEADLINE + 10**9


def envelope(who: Identity, kind: str, body: dict[str, str], tags: list[list[str]], at: int) -> dict[str, Any]:
    env = {"v": 1, "kind": kind, "author": who.public_key, "created_at": at, "body": body, "tags": tags}
    return sign_envelope(who, env)


def letter(deadline: int | None = DEADLINE, previous: str | None = None, text: str = "Please do.") -> Message:
    draft = letter_draft("Four-day week", "the leadership team", text, deadline=deadline, previous=previous)
    return check(envelope(ALICE, "letter", draft["body"], draft["tags"], NOW), now=NOW)


def sign(who: Identity, at: int, on: Message | None = None, note: str | None = None) -> Message:
    draft = signature_draft(on or LETTER, note)
    return check(envelope(who, "signature", draft["body"], draft["tags"], at), now=LATER)


def withdraw(who: Identity, signature: Message, at: int) -> Message:
    return check(envelope(who, "delete", {}, [["target", signature.id]], at), now=LATER)


LETTER = letter()
SPEC = LetterSpec.of(LETTER)


def test_a_letter_carries_its_addressees_title_text_and_deadline() -> None:
    assert (SPEC.title, SPEC.to, SPEC.text, SPEC.deadline, SPEC.previous) == (
        "Four-day week", "the leadership team", "Please do.", DEADLINE, None,
    )  # fmt: skip
    assert LetterSpec.of(letter(deadline=None)).deadline is None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"title": ""}, "bad_value"),
        ({"to": "   "}, "bad_value"),
        ({"text": "\n"}, "bad_value"),
        ({"text": "x" * 10_001}, "too_long"),
        ({"deadline": "soon"}, "bad_value"),
        ({"deadline": "0123"}, "bad_value"),
        ({"deadline": "-5"}, "bad_value"),
        ({"visibility": "local"}, "extra_field"),
        ({"signers": "everyone"}, "extra_field"),
    ],
)
def test_a_letter_of_the_wrong_shape_is_refused_with_its_reason(change: dict[str, str], code: str) -> None:
    body = {"title": "T", "to": "you", "text": "words", "deadline": str(DEADLINE), **change}
    with pytest.raises(Refused) as refused:
        check(envelope(ALICE, "letter", body, [], NOW), now=NOW)
    assert refused.value.code == code, refused.value.message


def test_a_letter_body_without_its_parts_is_refused() -> None:
    with pytest.raises(Refused) as refused:
        check(envelope(ALICE, "letter", {"title": "T", "text": "words"}, [], NOW), now=NOW)
    assert refused.value.code == "missing_field"


@pytest.mark.parametrize(
    "tags",
    [[], [["target", LETTER.id]], [["target", LETTER.id], ["subject", ALICE.public_key], ["subject", BOB.public_key]]],
)
def test_a_signature_names_one_letter_and_its_author(tags: list[list[str]]) -> None:
    with pytest.raises(Refused):
        check(envelope(BOB, "signature", {}, tags, NOW), now=NOW)


def test_a_note_is_at_most_500_characters() -> None:
    with pytest.raises(Refused) as refused:
        sign(BOB, NOW, note="x" * 501)
    assert refused.value.code == "too_long"


def test_a_signature_at_or_after_the_deadline_does_not_stand() -> None:
    assert fault(SPEC, sign(BOB, DEADLINE - 1)) is None
    late = fault(SPEC, sign(BOB, DEADLINE))
    assert late is not None and late.code == "letter_closed"
    assert fault(LetterSpec.of(letter(deadline=None)), sign(BOB, LATER, on=letter(deadline=None))) is None


def test_each_person_counts_once_their_latest_signature_in_every_arrival_order() -> None:
    first, second = sign(BOB, NOW + 1, note="first"), sign(BOB, NOW + 2, note="second")
    twin = sign(BOB, NOW + 2, note="second")  # the same message twice: one signature
    cat, late = sign(CAT, NOW + 3), sign(CAT, DEADLINE + 1)
    for order in itertools.permutations([first, second, twin, cat, late]):
        found = count(SPEC, order)
        assert found.count == 2
        assert [(s.key, s.note) for s in found.signers] == sorted([(BOB.public_key, "second"), (CAT.public_key, "")])


def test_equal_times_are_broken_by_the_larger_id() -> None:
    a, b = sign(BOB, NOW + 5, note="a"), sign(BOB, NOW + 5, note="b")
    winner = max(a, b, key=lambda m: bytes.fromhex(m.id))
    assert count(SPEC, [a, b]).signers[0].signature == winner.id == count(SPEC, [b, a]).signers[0].signature


def test_a_withdrawal_before_the_deadline_takes_the_signature_back_in_every_arrival_order() -> None:
    bob, cat = sign(BOB, NOW + 1), sign(CAT, NOW + 1)
    gone, too_late = withdraw(BOB, bob, DEADLINE - 1), withdraw(CAT, cat, DEADLINE)
    for order in itertools.permutations([bob, cat, gone, too_late]):
        signatures = [m for m in order if m.kind == "signature"]
        deletes = [m for m in order if m.kind == "delete"]
        assert [s.key for s in count(SPEC, signatures, deletes).signers] == [CAT.public_key]


def test_withdrawing_one_signature_leaves_the_latest_one_still_standing() -> None:
    old, new = sign(BOB, NOW + 1, note="old"), sign(BOB, NOW + 2, note="new")
    assert [s.note for s in count(SPEC, [old, new], [withdraw(BOB, new, NOW + 3)]).signers] == ["old"]
    both = [withdraw(BOB, old, NOW + 3), withdraw(BOB, new, NOW + 3)]
    assert count(SPEC, [old, new], both).count == 0
    again = sign(BOB, NOW + 4, note="again")  # signing after withdrawing is a new signature that stands
    assert [s.note for s in count(SPEC, [old, new, again], both).signers] == ["again"]


def test_only_the_signer_withdraws_their_signature() -> None:
    bob = sign(BOB, NOW + 1)
    assert count(SPEC, [bob], [withdraw(CAT, bob, NOW + 2), withdraw(ALICE, bob, NOW + 2)]).count == 1


def test_a_letter_without_a_deadline_takes_withdrawals_at_any_time() -> None:
    open_letter = letter(deadline=None)
    bob = sign(BOB, NOW + 1, on=open_letter)
    assert count(LetterSpec.of(open_letter), [bob], [withdraw(BOB, bob, LATER)]).count == 0


def test_signatures_of_an_old_version_do_not_count_for_the_new_one() -> None:
    new = letter(previous=LETTER.id, text="Please do, from June.")
    spec = LetterSpec.of(new)
    assert spec.previous == LETTER.id and spec.id != LETTER.id
    old_bob, new_cat = sign(BOB, NOW + 1), sign(CAT, NOW + 2, on=new)
    assert [s.key for s in count(spec, [old_bob, new_cat]).signers] == [CAT.public_key]
    assert [s.key for s in count(SPEC, [old_bob, new_cat]).signers] == [BOB.public_key]
    wrong = fault(spec, old_bob)
    assert wrong is not None and wrong.code == "bad_target"
