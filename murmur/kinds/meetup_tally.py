"""Who is coming to a meetup: a pure function of the meetup's versions and the RSVPs held, so that every server
(and any reader holding the signed messages) reaches the same lists, whatever order the messages arrived in.

- The meetup's current version is the newest of the meetup and its organiser's updates by ``(created_at, id)``
  ("Latest wins"); an update saying ``status: cancelled`` cancels it.
- Each person's latest RSVP by ``(created_at, id)`` is their answer: going, maybe or no. A person is the identity
  the RSVP's signing device speaks for, whichever of its devices signed
  (``murmur.kinds.group_speakers.Speakers.person``), else the key: going from two devices takes one place. For a
  meetup addressed
  to a group, only the RSVPs of people who were members of the group at the RSVP's ``created_at`` count (the
  group's fold), so a thousand fresh keys cannot fill a group meetup's places.
- Those going are put in order by that RSVP's ``(created_at, id)``; with a capacity, the first ``capacity`` of
  them have a place and the rest are on the waiting list, in that order. The order is computed from the set of
  RSVPs, never from their arrival, so two servers holding the same RSVPs give the same waiting list. Answering
  "going" again is a new RSVP, and so takes a new place in the order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from murmur.kinds.base import newest, newest_per_person
from murmur.kinds.group_speakers import KEYS, PersonOf
from murmur.message import Message

ANSWERS = ("going", "maybe", "no")
Member = Callable[[str, int], bool]
"""Whether the key was a member of the meetup's group at the time (ms); None for a public meetup."""
CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class MeetupSpec:
    """A meetup's current version, parsed once (its body is checked by ``murmur.kinds.meetup``)."""

    id: str  # the meetup's id: its address, whatever version is current
    author: str
    version: str  # the id of the current version (the meetup itself, or its newest update)
    updated_at: int  # the current version's created_at, ms
    versions: int  # how many versions are held, the meetup itself included
    title: str
    description: str
    start: int  # ms since the epoch (UTC)
    end: int
    tz: str  # the IANA zone the organiser gave, for showing the times as they meant them
    place: str
    capacity: int | None
    group: str | None
    cancelled: bool

    @classmethod
    def of(
        cls, meetup: Message, updates: Iterable[Message] = (), organisers: Callable[[Message], bool] | None = None
    ) -> MeetupSpec:
        """The current version of ``meetup`` among ``updates``: only its organiser's updates of it count, which
        ``organisers`` tells (whether an update's signer acts for the meetup's author: any of their devices,
        ``murmur.kinds.acting``, as the store knows them), else the meetup's own key."""
        by_organiser = organisers or (lambda u: u.author == meetup.author)
        mine = [u for u in updates if u.tag("target") == meetup.id and by_organiser(u)]
        current = newest([meetup, *mine], key=lambda _: 0)[0]
        body = current.body
        capacity = body.get("capacity")
        return cls(
            id=meetup.id,
            author=meetup.author,
            version=current.id,
            updated_at=current.created_at,
            versions=1 + len(mine),
            title=str(body["title"]),
            description=str(body.get("description", "")),
            start=int(body["start"]),
            end=int(body["end"]),
            tz=str(body["tz"]),
            place=str(body.get("place", "")),
            capacity=None if capacity is None else int(capacity),
            group=meetup.tag("group"),
            cancelled=body.get("status") == CANCELLED,
        )


@dataclass(frozen=True, slots=True)
class Answers:
    """Keys by answer, each the key that signed a person's answer: ``going`` (with a place, in order), ``waiting``
    (going, beyond the capacity, in order), ``maybe`` and ``no`` (by key); and ``people``, each person's answer."""

    going: tuple[str, ...]
    waiting: tuple[str, ...]
    maybe: tuple[str, ...]
    no: tuple[str, ...]
    people: tuple[tuple[str, str], ...] = ()  # (person, answer), by person

    def counts(self) -> dict[str, int]:
        return {"going": len(self.going), "maybe": len(self.maybe), "waiting": len(self.waiting), "no": len(self.no)}

    def of(self, person: str) -> str | None:
        """A person's answer (``person``: their identity, else their key): ``going``, ``waiting``, ``maybe``,
        ``no``, or None when they did not answer."""
        return dict(self.people).get(person)


def latest(
    meetup_id: str, rsvps: Iterable[Message], member: Member | None = None, person: PersonOf = KEYS.person
) -> dict[str, Message]:
    """Each person's latest RSVP to the meetup, by person (``person``: whom each RSVP's signer counts for; of the
    group's members at its time, when ``member`` is given)."""
    fit = (
        r
        for r in rsvps
        if r.kind == "rsvp" and r.tag("target") == meetup_id and r.body.get("answer") in ANSWERS
        and (member is None or member(r.author, r.created_at))
    )  # fmt: skip
    return newest_per_person(fit, person)


def answers(
    spec: MeetupSpec, rsvps: Iterable[Message], member: Member | None = None, person: PersonOf = KEYS.person
) -> Answers:
    last = latest(spec.id, rsvps, member, person)
    by_answer: dict[str, list[Message]] = {a: [] for a in ANSWERS}
    for r in last.values():
        by_answer[str(r.body["answer"])].append(r)
    going = [r.author for r in sorted(by_answer["going"], key=lambda r: (r.created_at, bytes.fromhex(r.id)))]
    places = len(going) if spec.capacity is None else spec.capacity
    placed = {key: "going" if n < places else "waiting" for n, key in enumerate(going)}
    return Answers(
        going=tuple(going[:places]),
        waiting=tuple(going[places:]),
        maybe=tuple(sorted(r.author for r in by_answer["maybe"])),
        no=tuple(sorted(r.author for r in by_answer["no"])),
        people=tuple(sorted((who, placed.get(r.author, str(r.body["answer"]))) for who, r in last.items())),
    )
