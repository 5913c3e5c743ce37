"""Counting a poll: which ballots count, and the figures they make. Pure, so that the server's count and a
reader's recount from the raw signed messages (``murmur poll results --verify``) are the same rule.

- A ballot counts when it is dated before the poll's close, names only options the poll has (one of them when
  the poll is single choice), and, for a poll addressed to a group, its author was a member of the group at the
  ballot's ``created_at`` (the group's fold: murmur/kinds/group_fold.py).
- Of those, each person's last ballot by ``(created_at, id)`` counts: a change of mind is a new ballot. A person
  is the identity the ballot's signing device speaks for, whichever of its devices signed
  (``murmur.kinds.group_speakers.Speakers.person``), else its key: a member voting from each of their devices is
  one voter. So the figures are a function of the set of ballots held (and of the identity logs that say whose
  devices signed them), never of the order they arrived in.
- A ballot that does not count is still a valid signed message: it is simply not part of the figure. (The store
  refuses one it can already see is wrong, but one that arrived before its poll waits, as an edit does, and is
  judged here once the poll is held.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from murmur.errors import Refused
from murmur.kinds.base import newest_per_person
from murmur.kinds.group_speakers import KEYS, PersonOf
from murmur.message import Message

Member = Callable[[str, int], bool]
"""Whether the key was a member of the poll's group at the time (ms); None for a public poll."""


@dataclass(frozen=True, slots=True)
class PollSpec:
    """What a poll message says, parsed once (its body is checked by ``murmur.kinds.poll``)."""

    id: str
    author: str
    question: str
    options: tuple[str, ...]
    multiple: bool
    closes_at: int
    group: str | None

    @classmethod
    def of(cls, poll: Message) -> PollSpec:
        return cls(
            id=poll.id,
            author=poll.author,
            question=str(poll.body["question"]),
            options=tuple(options_of(str(poll.body["options"]))),
            multiple=poll.body.get("multiple") == "yes",
            closes_at=int(poll.body["closes"]),
            group=poll.tag("group"),
        )


@dataclass(frozen=True, slots=True)
class Tally:
    """The figures: votes per option (in the poll's order), how many people's ballots count, and who chose what
    (ballots are signed, so they are open: anyone holding them can see each one)."""

    options: tuple[tuple[str, int], ...]
    voters: int
    choices: tuple[tuple[str, tuple[int, ...]], ...]  # (key that signed the counted ballot, 1-based options), by key

    def as_dict(self, closed: bool) -> dict[str, object]:
        return {
            "options": [{"text": text, "votes": votes} for text, votes in self.options],
            "voters": self.voters,
            "closed": closed,
        }


def options_of(text: str) -> list[str]:
    """A poll's options are its ``options`` member split into lines."""
    return text.split("\n")


def choices_of(text: str) -> tuple[int, ...] | None:
    """The 1-based options a ballot's ``choices`` member names (``"1"``, ``"2,3"``), None when malformed:
    decimal numbers without leading zeros, strictly increasing, separated by commas."""
    parts = text.split(",")
    if not all(p.isascii() and p.isdigit() and p[0] != "0" and len(p) <= 2 for p in parts):
        return None
    numbers = tuple(int(p) for p in parts)
    return numbers if all(a < b for a, b in itertools.pairwise(numbers)) else None


def fault(spec: PollSpec, ballot: Message) -> Refused | None:
    """Why ``ballot`` cannot count in the poll, or None when it can (membership apart)."""
    if ballot.created_at >= spec.closes_at:
        return Refused("poll_closed", "The poll closed before this ballot was cast.")
    chosen = choices_of(str(ballot.body.get("choices", ""))) or ()
    if any(n > len(spec.options) for n in chosen):
        return Refused("bad_option", f"The poll has {len(spec.options)} options; this ballot names another.")
    if len(chosen) > 1 and not spec.multiple:
        return Refused("bad_option", "The poll takes one choice; this ballot names several.")
    return None


def counted(
    spec: PollSpec, ballots: Iterable[Message], member: Member | None = None, person: PersonOf = KEYS.person
) -> dict[str, Message]:
    """Each person's last ballot that counts, by person (``person``: whom each ballot's signer counts for)."""
    fit = (
        b
        for b in ballots
        if b.kind == "ballot" and b.tag("target") == spec.id and fault(spec, b) is None
        and (member is None or member(b.author, b.created_at))
    )  # fmt: skip
    return newest_per_person(fit, person)


def tally(
    spec: PollSpec, ballots: Iterable[Message], member: Member | None = None, person: PersonOf = KEYS.person
) -> Tally:
    last = {b.author: b for b in counted(spec, ballots, member, person).values()}
    votes = [0] * len(spec.options)
    choices: list[tuple[str, tuple[int, ...]]] = []
    for key in sorted(last):
        chosen = choices_of(str(last[key].body["choices"])) or ()
        for n in chosen:
            votes[n - 1] += 1
        choices.append((key, chosen))
    return Tally(tuple(zip(spec.options, votes, strict=True)), len(last), tuple(choices))


def is_closed(spec: PollSpec, now_ms: int) -> bool:
    return now_ms >= spec.closes_at


