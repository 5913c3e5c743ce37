"""The meetup, meetup_update and rsvp kinds' shape, through the one validation path, and who is coming: each
person's latest RSVP counts, and a full capacity puts later "going" answers on a waiting list in one order,
whatever order the RSVPs arrived in."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.kinds.meetup import _against_meetup, meetup_body, rsvp_draft, zone_names, zone_of
from murmur.kinds.meetup_tally import MeetupSpec, answers
from murmur.message import Message, sign_draft, sign_envelope
from murmur.validate import check
from tests.store_helpers import cancel_draft

ALICE = Identity.from_seed(bytes(range(32)))
PEOPLE = [Identity.from_seed(bytes(range(n, n + 32))) for n in range(1, 6)]
NOW = 1_750_000_000_000
START, END = NOW + 86_400_000, NOW + 86_400_000 + 7_200_000


def meetup(**body: str) -> dict[str, Any]:
    base = meetup_body("Picnic", start=START, end=END, tz="Europe/Paris", place="The park", capacity=2)
    env: dict[str, Any] = {
        "v": 1, "kind": "meetup", "author": ALICE.public_key, "created_at": NOW, "body": {**base, **body}, "tags": [],
    }  # fmt: skip
    return sign_envelope(ALICE, env)


MEETUP = check(meetup(), now=NOW)


def rsvp(who: Identity, answer: str, at: int, target: str | None = None) -> Message:
    draft = rsvp_draft(target or MEETUP.id, ALICE.public_key, answer)
    return check(sign_draft(who, draft, created_at=at), now=at)


@pytest.mark.parametrize("tz", ["UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Mars/Olympus", "Europe"])
def test_a_zone_is_valid_by_its_shape_so_every_server_agrees(tz: str) -> None:
    # A zone this machine's database lacks (a newer one, or a mistake) is valid: another server's database may
    # know it, and a message one server refuses while another stores breaks convergence. It is shown in UTC, and
    # never opened as a path (``Europe`` is a directory of the database).
    assert check(meetup(tz=tz), now=NOW).body["tz"] == tz
    assert zone_of(tz).key == (tz if tz in zone_names() else "UTC")


def test_a_meetup_carries_its_times_zone_place_and_capacity() -> None:
    spec = MeetupSpec.of(MEETUP)
    assert (spec.start, spec.end, spec.tz, spec.place, spec.capacity) == (START, END, "Europe/Paris", "The park", 2)
    assert not spec.cancelled and spec.versions == 1 and spec.version == MEETUP.id


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"title": ""}, "bad_value"),
        ({"tz": "../../etc/passwd"}, "bad_value"),
        ({"tz": "Europe/../UTC"}, "bad_value"),
        ({"tz": "/etc/localtime"}, "bad_value"),
        ({"tz": "Europe/"}, "bad_value"),
        ({"tz": "Europe Paris"}, "bad_value"),
        ({"tz": "Europe/Paris\n"}, "bad_value"),
        ({"start": "soon"}, "bad_value"),
        ({"start": "0" + str(START)}, "bad_value"),
        ({"end": str(START)}, "bad_value"),
        ({"end": str(START - 1)}, "bad_value"),
        ({"end": str(START + 8 * 86_400_000)}, "bad_value"),
        ({"capacity": "0"}, "bad_value"),
        ({"capacity": "100001"}, "bad_value"),
        ({"capacity": "-1"}, "bad_value"),
        ({"capacity": "07"}, "bad_value"),
        ({"status": "cancelled"}, "extra_field"),
    ],
)
def test_a_meetup_of_the_wrong_shape_is_refused_with_its_reason(body: dict[str, str], code: str) -> None:
    with pytest.raises(Refused) as refused:
        check(meetup(**body), now=NOW)
    assert refused.value.code == code, refused.value.message


@pytest.mark.parametrize("answer", ["yes", "Going", ""])
def test_an_rsvp_answers_going_maybe_or_no(answer: str) -> None:
    env = sign_draft(PEOPLE[0], rsvp_draft(MEETUP.id, ALICE.public_key, "going"), created_at=NOW)
    env["body"] = {"answer": answer}
    with pytest.raises(Refused):
        check(sign_envelope(PEOPLE[0], {k: v for k, v in env.items() if k not in ("id", "sig")}), now=NOW)
    with pytest.raises(Refused):
        rsvp_draft(MEETUP.id, ALICE.public_key, answer)


def test_an_rsvp_names_a_meetup_and_its_organiser() -> None:
    good = rsvp(PEOPLE[0], "going", NOW)
    _against_meetup(good, MEETUP, frozenset())
    _against_meetup(good, None, frozenset())  # not held yet: it waits
    with pytest.raises(Refused) as refused:
        _against_meetup(good, None, frozenset({ALICE.public_key}))
    assert refused.value.code == "meetup_deleted"
    with pytest.raises(Refused) as refused:
        _against_meetup(good, good, frozenset())
    assert refused.value.code == "bad_target"


def test_the_waiting_list_is_the_same_in_every_arrival_order() -> None:
    spec = MeetupSpec.of(MEETUP)  # two places
    rsvps = [rsvp(p, "going", NOW + 1000 * (5 - n)) for n, p in enumerate(PEOPLE)]
    expected = [p.public_key for p in reversed(PEOPLE)]  # the earliest created_at first
    for order in itertools.permutations(rsvps):
        found = answers(spec, order)
        assert list(found.going) == expected[:2] and list(found.waiting) == expected[2:]


def test_equal_times_are_placed_by_the_smaller_id() -> None:
    spec = MeetupSpec.of(MEETUP)
    rsvps = [rsvp(p, "going", NOW) for p in PEOPLE[:3]]
    order = [r.author for r in sorted(rsvps, key=lambda r: bytes.fromhex(r.id))]
    for arrived in itertools.permutations(rsvps):
        found = answers(spec, arrived)
        assert [*found.going, *found.waiting] == order


def test_the_latest_rsvp_wins_and_frees_a_place() -> None:
    spec = MeetupSpec.of(MEETUP)
    a, b, c = PEOPLE[:3]
    held = [rsvp(a, "going", NOW), rsvp(b, "going", NOW + 1), rsvp(c, "going", NOW + 2)]
    assert answers(spec, held).waiting == (c.public_key,)
    changed = [*held, rsvp(a, "no", NOW + 3), rsvp(b, "maybe", NOW - 5)]  # b's earlier maybe does not count
    for order in itertools.permutations(changed):
        found = answers(spec, order)
        assert found.going == (b.public_key, c.public_key) and found.waiting == ()
        assert found.no == (a.public_key,) and found.maybe == ()
        assert found.counts() == {"going": 2, "maybe": 0, "waiting": 0, "no": 1}


def test_rsvps_to_another_meetup_do_not_count() -> None:
    other = rsvp(PEOPLE[0], "going", NOW, target="ab" * 32)
    assert answers(MeetupSpec.of(MEETUP), [other]).counts()["going"] == 0


def update(at: int, author: Identity = ALICE, **body: str) -> Message:
    spec = MeetupSpec.of(MEETUP)
    draft = cancel_draft(spec)
    draft["body"] = {k: v for k, v in {**draft["body"], **body}.items() if v}
    return check(sign_draft(author, draft, created_at=at), now=at)


def test_the_newest_update_is_current_and_cancel_is_an_update() -> None:
    moved = update(NOW + 10, status="", capacity="3", title="Picnic, moved")
    cancelled = update(NOW + 20)
    for order in itertools.permutations([moved, cancelled]):
        spec = MeetupSpec.of(MEETUP, order)
        # an update is a whole body: this cancel was drawn from the first version, so its capacity is that one's
        assert spec.cancelled and spec.versions == 3 and spec.version == cancelled.id and spec.capacity == 2
    spec = MeetupSpec.of(MEETUP, [moved])
    assert (spec.title, spec.capacity, spec.cancelled) == ("Picnic, moved", 3, False)
    rsvps = [rsvp(p, "going", NOW + n) for n, p in enumerate(PEOPLE[:3])]
    assert answers(spec, rsvps).waiting == ()  # the capacity the current version says


def test_an_update_by_someone_else_does_not_change_the_meetup() -> None:
    forged = update(NOW + 10, author=PEOPLE[0], title="Not a picnic")
    assert MeetupSpec.of(MEETUP, [forged]).title == "Picnic"
