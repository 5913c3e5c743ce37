"""The poll and ballot kinds' shape, through the one validation path, and the tally: each person's last ballot
before the close counts, in every arrival order."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.kinds.poll import ballot_body
from murmur.kinds.poll_tally import PollSpec, fault, tally
from murmur.message import Message, sign_envelope
from murmur.validate import check

ALICE = Identity.from_seed(bytes(range(32)))
BOB = Identity.from_seed(bytes(range(1, 33)))
CAT = Identity.from_seed(bytes(range(2, 34)))
NOW = 1_750_000_000_000
CLOSES = NOW + 3_600_000


def poll(**changes: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "v": 1,
        "kind": "poll",
        "author": ALICE.public_key,
        "created_at": NOW,
        "body": {"question": "Lunch?", "options": "noon\none\ntwo", "multiple": "no", "closes": str(CLOSES)},
        "tags": [],
    }
    env.update(changes)
    return sign_envelope(ALICE, env)


def ballot(who: Identity, choices: str, at: int, target: str | None = None, subject: str | None = None) -> Message:
    env = {
        "v": 1,
        "kind": "ballot",
        "author": who.public_key,
        "created_at": at,
        "body": {"choices": choices},
        "tags": [["target", target or POLL.id], ["subject", subject or ALICE.public_key]],
    }
    return check(sign_envelope(who, env), now=CLOSES + 10**9)


POLL = check(poll(), now=NOW)
SPEC = PollSpec.of(POLL)


def test_a_poll_carries_its_question_options_choice_and_close() -> None:
    assert SPEC.options == ("noon", "one", "two") and not SPEC.multiple and SPEC.closes_at == CLOSES
    assert POLL.visibility == "public"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"options": "only one"}, "bad_value"),
        ({"options": "\n".join(str(i) for i in range(11))}, "bad_value"),
        ({"options": "a\na"}, "bad_value"),
        ({"options": "a\n "}, "bad_value"),
        ({"options": "a\n" + "b" * 101}, "bad_value"),
        ({"multiple": "maybe"}, "bad_value"),
        ({"closes": "soon"}, "bad_value"),
        ({"closes": "0123"}, "bad_value"),
        ({"closes": "-5"}, "bad_value"),
        ({"question": ""}, "bad_value"),
        ({"visibility": "local"}, "extra_field"),
    ],
)
def test_a_poll_of_the_wrong_shape_is_refused_with_its_reason(body: dict[str, str], code: str) -> None:
    base = poll()["body"]
    with pytest.raises(Refused) as refused:
        check(poll(body={**base, **body}), now=NOW)
    assert refused.value.code == code, refused.value.message


@pytest.mark.parametrize("choices", ["", "0", "1,1", "2,1", "01", "1, 2", "x", "123"])
def test_a_ballot_with_malformed_choices_is_refused(choices: str) -> None:
    with pytest.raises(Refused) as refused:
        ballot(BOB, choices, NOW)
    assert refused.value.code in ("bad_value", "too_long")


def test_a_ballot_names_its_poll_and_the_polls_author() -> None:
    env = {"v": 1, "kind": "ballot", "author": BOB.public_key, "created_at": NOW, "body": {"choices": "1"}}
    for tags in ([["target", POLL.id]], [["subject", ALICE.public_key]]):
        with pytest.raises(Refused) as refused:
            check(sign_envelope(BOB, {**env, "tags": tags}), now=NOW)
        assert refused.value.code == "bad_tag"


def test_faults_close_unknown_option_and_one_choice() -> None:
    assert fault(SPEC, ballot(BOB, "1", CLOSES - 1)) is None
    for choices, at, code in (("1", CLOSES, "poll_closed"), ("4", NOW, "bad_option"), ("1,2", NOW, "bad_option")):
        found = fault(SPEC, ballot(BOB, choices, at))
        assert found is not None and found.code == code


def figures(ballots: list[Message], spec: PollSpec = SPEC) -> tuple[tuple[tuple[str, int], ...], int]:
    t = tally(spec, ballots)
    return t.options, t.voters


def test_the_last_ballot_before_the_close_counts_in_every_arrival_order() -> None:
    ballots = [
        ballot(BOB, "1", NOW + 1),
        ballot(BOB, "2", NOW + 2),  # Bob changed his mind: this counts
        ballot(BOB, "3", CLOSES),  # after the close: never counts
        ballot(CAT, "3", NOW + 5),
        ballot(CAT, "4", NOW + 6),  # an option the poll lacks: Cat's earlier ballot still counts
    ]
    expected = ((("noon", 0), ("one", 1), ("two", 1)), 2)
    for order in itertools.permutations(ballots):
        assert figures(list(order)) == expected


def test_equal_times_are_broken_by_the_larger_id() -> None:
    a, b = ballot(BOB, "1", NOW + 1), ballot(BOB, "2", NOW + 1)
    winner = max((a, b), key=lambda m: m.id)
    counts = dict(figures([a, b])[0])
    assert counts[SPEC.options[int(winner.body["choices"]) - 1]] == 1 and sum(counts.values()) == 1


def test_multiple_choice_counts_every_option_chosen() -> None:
    spec = PollSpec.of(check(poll(body={**poll()["body"], "multiple": "yes"}), now=NOW))
    ballots = [ballot(BOB, "1,3", NOW + 1, target=spec.id), ballot(CAT, "3", NOW + 2, target=spec.id)]
    assert figures(ballots, spec) == ((("noon", 1), ("one", 0), ("two", 2)), 2)
    assert tally(spec, ballots).choices == tuple(sorted([(BOB.public_key, (1, 3)), (CAT.public_key, (3,))]))


def test_ballots_on_another_poll_do_not_count() -> None:
    assert figures([ballot(BOB, "1", NOW + 1, target="ab" * 32)]) == ((("noon", 0), ("one", 0), ("two", 0)), 0)


def test_a_group_restricts_who_counts_to_members_at_the_ballots_time() -> None:
    ballots = [ballot(BOB, "1", NOW + 1), ballot(CAT, "2", NOW + 1), ballot(CAT, "3", NOW + 9)]

    def member(key: str, at: int) -> bool:  # Bob always; Cat only from NOW + 5
        return key == BOB.public_key or (key == CAT.public_key and at >= NOW + 5)

    assert tally(SPEC, ballots, member).options == (("noon", 1), ("one", 0), ("two", 1))


@pytest.mark.parametrize(("picked", "body"), [(["1"], "1"), (["two"], "3"), (["noon"], "1")])
def test_a_ballot_names_options_by_number_or_text(picked: list[str], body: str) -> None:
    assert ballot_body(SPEC, picked) == {"choices": body}


@pytest.mark.parametrize("picked", [["4"], ["0"], ["²"], ["lunch"], [], ["1", "2"]])
def test_a_ballot_for_no_such_option_is_refused_before_signing(picked: list[str]) -> None:
    with pytest.raises(Refused) as refused:
        ballot_body(SPEC, picked)
    assert refused.value.code == "bad_option"
