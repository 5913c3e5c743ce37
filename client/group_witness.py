"""What an epoch witnesses of the acts a device cannot bound (docs/encryption.md §16.5, "Doubtful acts").

A device folding a group's log for the first time holds every act at once, and one that was offline (or whose home
server held an end of a role back) holds an act and the end of its author's role in one fetch: it cannot tell a removed
moderator's act dated back into its role (an invitation of a puppet, signed after the removal) from one that came before
the removal. A device that held the act before the end can (``murmur.client.group_acts``), and the epochs it seals say
how it counted: each epoch commits to its member device set. So an epoch chunk sealed by a device whose role was in
force (``check_sealer``) is matched against the group's member set when it was sealed, the group folded with those acts
counted as this device would count them and, failing that, counted so as to put the people they are about in the set or
out of it (``_variants``): the set that matches says, for each act whose counting changes that set, how the sealer
counted it. An act witnessed as left out is left out only by an epoch sealed after its author's role ended (before that
end, the act may still have been on its way), as its coarse time or the moment whose set it matched shows; one
witnessed as counted counts. The device keeps what the newest epoch
witnessed (``GroupInbox.witness``), folds with it, and seals no epoch on an act no epoch witnessed that changes the
members (``act_unwitnessed``).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from murmur.client.group_acts import ended
from murmur.client.group_authority import Folding
from murmur.group_epoch import Device, members_digest
from murmur.kinds.group_fold import GroupState
from murmur.kinds.sealed import COARSE_MS
from murmur.message import Message

# Up to this many people with unbounded acts about them, every combination of their being in or out is tried
# (2^8 folds at most, only for a chunk the device's own counting does not match).
SUBJECTS = 8
SetsAt = Callable[[GroupState], Awaitable[list[tuple[int, list[Device]]]]]
SetAt = Callable[[GroupState, int], Awaitable[list[Device]]]


@dataclass(frozen=True)
class Witness:
    """The member set an epoch was matched to, and what it witnessed (act id: counted)."""

    devices: list[Device]
    decided: dict[str, bool]


async def matched(folding: Folding, digest: str, sealed_at: int, sets_at: SetsAt, set_at: SetAt) -> Witness | None:
    """The member set whose digest is ``digest`` (an epoch sealed at ``sealed_at``, coarse, by a device whose role
    was in force), with what it witnessed: first the set in force when it was sealed, in the group as ``folding``
    folds it and then in its variants (what the sealer counted); else any set the group had (an epoch made before
    a change and read late: it witnesses nothing). None when none matches."""
    acts = folding.unbounded
    if acts:
        for variant in _variants(folding, acts):
            folded = await folding.variant(variant) if variant else folding
            moments = [at for at, _ in await sets_at(folded.state) if sealed_at < at < sealed_at + COARSE_MS]
            for at in [sealed_at, *sorted(moments)]:
                found = await set_at(folded.state, at)
                if found and members_digest(found) == digest:
                    return Witness(found, await _witnessed(folded, at, found, sealed_at, set_at))
    for _, found in await sets_at(folding.state):
        if found and members_digest(found) == digest:
            return Witness(found, {})
    return None


def _variants(folding: Folding, acts: list[Message]) -> list[dict[str, bool]]:
    """How the unbounded ``acts`` may have been counted by a sealer, by the people they are about: each person in
    the set or out of it (their invitations counted and removals not, or the other way), every combination for up
    to ``SUBJECTS`` people, fewest changes from ``folding`` first; past that, one person changed at a time, and all
    out. The folding's own counting first."""
    subjects: dict[str, list[Message]] = {}
    for m in acts:
        subjects.setdefault(m.tag("subject") or "", []).append(m)

    def placed(person: str, inside: bool) -> dict[str, bool]:
        return {m.id: (m.kind == "group_approve") == inside for m in subjects[person]}

    people = sorted(subjects)
    if len(people) <= SUBJECTS:
        choices = itertools.product((True, False), repeat=len(people))
        found = [{k: v for person, inside in zip(people, c, strict=True) for k, v in placed(person, inside).items()}
                 for c in choices]  # fmt: skip
    else:
        found = [placed(p, inside) for p in people for inside in (True, False)]
        found.append({m.id: False for m in acts})
    found.sort(key=lambda v: sum(folding.counts(i) != c for i, c in v.items()))
    return [{}, *(v for v in found if any(folding.counts(i) != c for i, c in v.items()))]


async def _witnessed(folded: Folding, at: int, found: list[Device], sealed_at: int, set_at: SetAt) -> dict[str, bool]:
    """For each unbounded act whose counting the other way changes the set at ``at``: how ``folded`` counts it.
    Left out is witnessed only by an epoch sealed once the act's author's role had ended: its coarse time is at or
    after that end, or the set it matched is the group's at a moment at or after it (``at``, later than the coarse
    time only when the set at that time did not match: the sealer counted the act signed at ``at``, so sealed
    after it). Without the second, no epoch sealed within minutes of the end (the removal's own) could settle it."""
    decided: dict[str, bool] = {}
    for m in folded.unbounded:
        counts = folded.counts(m.id)
        if not counts and max(sealed_at, at) < ended(folded.state, m, folded.speakers):
            continue
        other = await folded.variant({m.id: not counts})
        if await set_at(other.state, at) != found:
            decided[m.id] = counts
    return decided
