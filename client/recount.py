"""A reader's recount of a poll from the raw signed messages the server holds: each is checked here as any
server would (``murmur.client.verify``), the group's membership is folded here from its signed messages, and the
ballots are counted by the same rule as the server's (``murmur.kinds.poll_tally``). What the server says and what
the recount finds are shown side by side; a difference is a finding, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from murmur.errors import Refused
from murmur.jcs import MAX_SAFE_INTEGER
from murmur.kinds.group_fold import fold
from murmur.kinds.group_speakers import KEYS, Speakers
from murmur.kinds.poll_tally import Member, PollSpec, Tally, tally
from murmur.message import Message
from murmur.validate import check


@dataclass(frozen=True, slots=True)
class Recount:
    spec: PollSpec
    tally: Tally
    invalid: int  # messages the server handed over that did not check (id, signature, structure): left out


def checked_messages(messages: list[Any]) -> tuple[list[Message], int]:
    """The messages that check as any server would check them, and how many did not."""
    good: list[Message] = []
    for m in messages:
        try:
            good.append(check(m if isinstance(m, dict) else {}, now=MAX_SAFE_INTEGER))
        except Refused:
            continue
    return good, len(messages) - len(good)


def recount(signed: dict[str, Any], poll_id: str, speakers: Speakers = KEYS) -> Recount:
    """Recount from ``GET /api/v1/polls/{id}/signed``; raises Refused when the poll itself does not check or is
    another message than the one asked for. ``speakers``: whom the keys acting in a group poll's group, and the
    voters' keys, speak for (``murmur.client.group_authority.group_speakers``), so its members are folded with the
    roles servers use and a person voting from two devices is one voter, as servers count them."""
    polls, _ = checked_messages([signed.get("poll")])
    if not polls or polls[0].kind != "poll" or polls[0].id != poll_id:
        raise Refused("bad_answer", "The server's copy of the poll does not check as the signed poll asked for.")
    spec = PollSpec.of(polls[0])
    ballots, bad_ballots = checked_messages(list(signed.get("ballots") or []))
    group, bad_group = checked_messages(list(signed.get("group") or []))
    member: Member | None = None
    if spec.group is not None:
        create = next((m for m in group if m.kind == "group" and m.id == spec.group), None)
        state = fold(create, group, speakers) if create is not None else None
        member = (lambda key, at: state.member_at(key, at)) if state is not None else (lambda key, at: False)
    return Recount(spec, tally(spec, ballots, member, speakers.person), bad_ballots + bad_group)
