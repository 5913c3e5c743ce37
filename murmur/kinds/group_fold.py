"""A group's state as a fold over its signed messages: the same messages give the same state on every server.

The input is the group's creation message and every membership or moderation message naming it (tag
``group``), in any order; ``fold`` sorts them by ``(created_at, id)`` and applies each with the authority its
author had at that moment. Nothing depends on arrival order, so a server that receives a removal before the
join it undoes, or a moderator's appointment after the approvals they signed, ends with the same state as one
that received them in time order. A message whose author had no authority at its time is a valid signed message
(it stays stored and travels like any other) but changes nothing. docs/protocol.md states the rules.

Membership is kept as spans of time per person (``[start, end)`` in the authors' milliseconds): a post
addressed to the group is in its timeline when its author was a member at the post's ``created_at``, so a
removed member's later posts stay out and their earlier ones stay in. Roles are kept the same way (``roles``:
who was owner or moderator, and when), so an act a reader judges later (a private group's epoch key, sealed
by a moderator since demoted) is judged by the role its author held at its time, never by the role now.

A role belongs to a person, not to a signing key: an act counts with the role of the identity its device spoke
for at its time, by the identity's log in force (``murmur.kinds.group_speakers``), so a moderator acts from any of
their current devices, and a device removed before the act's time acts for no one. A place (member, pending,
removed) is the person's too (``Folding.who``): a join by any device, or an act naming any key of theirs, is their
identity's, so a removal covers every device, one added later included. Without logs (``KEYS``) every key speaks
for itself.

Pure and synchronous: the store runs it whenever a message of the group arrives (murmur/kinds/group.py), and
the tests run it over every permutation of a scenario.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from murmur.kinds.group_speakers import KEYS, Speakers
from murmur.message import Message

OWNER, MODERATOR = "owner", "moderator"
MEMBER, PENDING, REMOVED = "member", "pending", "removed"
INVITE = "invite"  # a private group's join mode


@dataclass(frozen=True, slots=True)
class Person:
    key: str
    status: str  # "member" | "pending" (asked to join, not approved yet) | "removed"
    role: str  # "owner" | "moderator" | "" (a member, or not a member)
    since: int  # when the status (or role) last changed, in the authors' milliseconds


@dataclass(frozen=True, slots=True)
class Mark:
    """A hide or a pin of one post: who did it, when, by which message, and why (hides only)."""

    post: str
    by: str
    at: int
    message: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RoleSpan:
    """``key`` held ``role`` (owner or moderator) from ``start`` until ``end`` (None: still holds it)."""

    key: str
    role: str
    start: int
    end: int | None


@dataclass(frozen=True, slots=True)
class GroupState:
    id: str
    owner: str
    name: str
    description: str
    rules: str
    join: str  # "open" | "approval" | "invite"
    created_at: int
    people: tuple[Person, ...]  # everyone the group has a status for, by key
    spans: tuple[tuple[str, int, int | None], ...]  # (key, start, end or None): when each was a member
    hidden: tuple[Mark, ...]
    pinned: tuple[Mark, ...]
    roles: tuple[RoleSpan, ...] = ()  # when each held the role of owner or moderator
    speakers: Speakers = field(default=KEYS, compare=False, hash=False)  # whom each key spoke for, as folded

    def role_of(self, key: str, at: int) -> str:
        """The role of the person signing with ``key`` at ``at`` now holds (owner, moderator or "")."""
        held = {p.key: p.role for p in self.people if p.status == MEMBER and p.role}
        return strongest_role(held, self.speakers.acting(key, at), self.speakers)

    def person(self, key: str) -> Person | None:
        """The place of the person ``key`` names (an identity, or a device's key for its identity)."""
        who = self.speakers.holder(key)
        return next((p for p in self.people if p.key == who), None)

    def member_at(self, key: str, when: int) -> bool:
        """Whether the person ``key`` names (a device's key for its identity) was a member at ``when``."""
        who = self.speakers.holder(key)
        return any(k == who and start <= when and (end is None or when < end) for k, start, end in self.spans)


@dataclass
class Folding:
    """The fold's working state; the store resumes one from its rows for the people a later message touches."""

    owner: str
    join: str
    status: dict[str, str] = field(default_factory=dict)
    role: dict[str, str] = field(default_factory=dict)
    since: dict[str, int] = field(default_factory=dict)
    open_spans: dict[str, int] = field(default_factory=dict)
    spans: list[tuple[str, int, int | None]] = field(default_factory=list)
    hidden: dict[str, Mark] = field(default_factory=dict)
    pinned: dict[str, Mark] = field(default_factory=dict)
    # Role history, kept by a whole fold (the store's resumed fold has no use for it and leaves it partial).
    open_roles: dict[str, tuple[str, int]] = field(default_factory=dict)
    roles: list[RoleSpan] = field(default_factory=list)
    speakers: Speakers = KEYS

    def person_role(self, person: str | None) -> str:
        return strongest_role(self.role, person, self.speakers)

    def acts_as(self, m: Message) -> str:
        """The role the person who signed ``m`` held at its time (``Speakers.acting``)."""
        return self.person_role(self.speakers.acting(m.author, m.created_at))

    def moderates(self, m: Message) -> bool:
        return self.acts_as(m) in (OWNER, MODERATOR)

    def who(self, key: str) -> str:
        """The person ``key`` names, whose place in the group it is: its identity for a device's key, else itself.
        A place is a person's, as a role is: removing someone removes every device of theirs, one added later too."""
        return self.speakers.holder(key)

    def is_owner(self, key: str) -> bool:
        return self.who(key) == self.who(self.owner)

    def role_of_key(self, key: str) -> str:
        """The role of the person ``key`` names (a subject: an identity, or a device's key for its identity)."""
        return self.person_role(self.speakers.holder(key))

    def set(self, key: str, status: str | None, at: int, role: str = "") -> None:
        """Give ``key`` a status (None: no status at all) and role, opening or closing their membership span."""
        was_member = self.status.get(key) == MEMBER
        if self.role.get(key, "") != role:
            if (held := self.open_roles.pop(key, None)) is not None:
                self.roles.append(RoleSpan(key, held[0], held[1], at))
            if role:
                self.open_roles[key] = (role, at)
        if status is None:
            self.status.pop(key, None)
        else:
            self.status[key] = status
        if role:
            self.role[key] = role
        else:
            self.role.pop(key, None)
        self.since[key] = at
        if status == MEMBER and not was_member:
            self.open_spans[key] = at
        elif status != MEMBER and was_member:
            self.spans.append((key, self.open_spans.pop(key), at))


def strongest_role(roles: Mapping[str, str], person: str | None, speakers: Speakers) -> str:
    """The strongest of ``roles`` (by key) that ``person`` holds: one given to their own key, or to a key whose
    holder they are (a device of their identity); none for no one (a removed device's signer)."""
    if person is None:
        return ""
    held = {r for k, r in roles.items() if person in (k, speakers.holder(k))}
    return OWNER if OWNER in held else MODERATOR if MODERATOR in held else ""


def _subject(m: Message) -> str:
    return m.tag("subject") or ""


def _target(m: Message) -> str:
    return m.tag("target") or ""


def _join(s: Folding, m: Message) -> None:
    who = s.who(m.author)
    if s.is_owner(who) or s.status.get(who) in (MEMBER, PENDING):
        return
    # One who was removed asks again, whatever the group's mode and whichever device asks: only a moderator lets
    # them back.
    asks = s.join in ("approval", INVITE) or s.status.get(who) == REMOVED
    s.set(who, PENDING if asks else MEMBER, m.created_at)


def _leave(s: Folding, m: Message) -> None:
    who = s.who(m.author)
    if not s.is_owner(who) and s.status.get(who) in (MEMBER, PENDING):
        s.set(who, None, m.created_at)


def _approve(s: Folding, m: Message) -> None:
    who = s.who(_subject(m))
    # In a group joined by invitation, approving someone who did not ask is inviting them (a removed one too).
    invited = s.join == INVITE and not s.is_owner(who) and s.status.get(who) != MEMBER
    if s.moderates(m) and (s.status.get(who) == PENDING or invited):
        s.set(who, MEMBER, m.created_at)


def _remove(s: Folding, m: Message) -> None:
    who = s.who(_subject(m))
    # The owner removes anyone else; a moderator removes anyone but the owner and the other moderators.
    by = s.acts_as(m)
    allowed = by == OWNER or (by == MODERATOR and not s.role_of_key(who))
    if allowed and s.role_of_key(who) != OWNER and s.status.get(who) != REMOVED:
        s.set(who, REMOVED, m.created_at)


def _mod(s: Folding, m: Message) -> None:
    who = s.who(_subject(m))
    if s.acts_as(m) == OWNER and not s.role_of_key(who):
        s.set(who, MEMBER, m.created_at, MODERATOR)


def _unmod(s: Folding, m: Message) -> None:
    who = s.who(_subject(m))
    if s.acts_as(m) != OWNER:
        return
    # the person is dismissed, whichever of their keys (their identity, a device of it) was appointed
    for key in [k for k, r in s.role.items() if r == MODERATOR and who in (k, s.who(k))]:
        s.set(key, MEMBER, m.created_at)


def _mark(m: Message, reason: str = "") -> Mark:
    return Mark(_target(m), m.author, m.created_at, m.id, reason)


def _hide(s: Folding, m: Message) -> None:
    if s.moderates(m):
        s.hidden[_target(m)] = _mark(m, str(m.body.get("reason", "")))


def _unhide(s: Folding, m: Message) -> None:
    if s.moderates(m):
        s.hidden.pop(_target(m), None)


def _pin(s: Folding, m: Message) -> None:
    if s.moderates(m):
        s.pinned[_target(m)] = _mark(m)


def _unpin(s: Folding, m: Message) -> None:
    if s.moderates(m):
        s.pinned.pop(_target(m), None)


STEPS = {
    "group_join": _join,
    "group_leave": _leave,
    "group_approve": _approve,
    "group_remove": _remove,
    "group_mod": _mod,
    "group_unmod": _unmod,
    "group_hide": _hide,
    "group_unhide": _unhide,
    "group_pin": _pin,
    "group_unpin": _unpin,
}
"""What each kind does to the state, given the state just before it (so authority is that of its time)."""


def steps(create: Message, messages: Iterable[Message]) -> list[Message]:
    """The messages that step the group ``create`` made, once each, in fold order. Those dated before the
    group's creation are left out: nobody had a role in it then."""
    unique = {m.id: m for m in messages if m.tag("group") == create.id and m.kind in STEPS}
    return [m for m in sorted(unique.values(), key=order) if order(m) >= order(create)]


def bearing(create: Message, messages: Iterable[Message], speakers: Speakers = KEYS) -> list[Message]:
    """The steps of the private group ``create`` made (``join`` ``invite``) that can change who is a member or who
    holds a role, in fold order: a moderator's step signed by someone who held a role in it at some time (by
    ``speakers``: a device of such a person's identity too), and a leave by someone who was a member at some time.
    A join changes neither in a group joined by invitation (an invitation lets in whoever it names, asked or not),
    and a moderator's step by someone who never held a role changes nothing; folding what is left gives the same
    members, roles and spans. What a device keeps of a private group's signed log, so that messages anyone can sign
    naming the group never fill it."""
    stepping = steps(create, messages)
    state = fold(create, stepping, speakers)
    roled = {k for r in state.roles for k in (r.key, speakers.holder(r.key))}
    members = {k for key, _, _ in state.spans for k in (key, speakers.holder(key))}
    found = []
    for m in stepping:
        author = {m.author, speakers.holder(m.author)}
        if (m.kind == "group_leave" and author & members) or (m.kind not in _ASKING and author & roled):
            found.append(m)
    return found


_ASKING = ("group_join", "group_leave")  # the steps one takes about oneself, with no role


def order(m: Message) -> tuple[int, str]:
    """Fold order: by the authors' time, equal times by id (hex, so the same order as the ids' bytes)."""
    return m.created_at, m.id


def apply(s: Folding, ordered: Iterable[Message]) -> None:
    """Apply ``ordered`` (from ``steps``) to ``s``, each with the authority its author had at its time."""
    for m in ordered:
        STEPS[m.kind](s, m)


def fold(create: Message, messages: Iterable[Message], speakers: Speakers = KEYS) -> GroupState:
    """The state of the group ``create`` made, from the messages naming it (any order, duplicates allowed), each
    act with the role of the person ``speakers`` says signed it."""
    s = Folding(owner=create.author, join=str(create.body.get("join", "open")), speakers=speakers)
    # the owner's place stays under the key that made the group (the group's ``owner``); ``is_owner`` finds the
    # person behind any other of their keys
    s.set(create.author, MEMBER, create.created_at, OWNER)
    apply(s, steps(create, messages))
    people = tuple(Person(key, status, s.role.get(key, ""), s.since[key]) for key, status in sorted(s.status.items()))
    spans = sorted([*s.spans, *((key, start, None) for key, start in s.open_spans.items())], key=_span_order)
    roles = [*s.roles, *(RoleSpan(key, role, start, None) for key, (role, start) in s.open_roles.items())]
    return GroupState(
        id=create.id,
        owner=create.author,
        name=str(create.body.get("name", "")),
        description=str(create.body.get("description", "")),
        rules=str(create.body.get("rules", "")),
        join=s.join,
        created_at=create.created_at,
        people=people,
        spans=tuple(spans),
        hidden=tuple(sorted(s.hidden.values(), key=lambda k: k.post)),
        pinned=tuple(sorted(s.pinned.values(), key=lambda k: k.post)),
        roles=tuple(sorted(roles, key=lambda r: (r.key, r.start))),
        speakers=speakers,
    )


def _span_order(span: tuple[str, int, int | None]) -> tuple[str, int]:
    return span[0], span[1]


def covers(start: int, end: int | None, at: int, until: int, arrived: int | None) -> bool:
    """Whether something held over ``[start, end)`` (a role, a device) covers an act its author dated, coarsely,
    within ``[at, until)`` and that reached the reader at ``arrived`` (None: not known). It must have begun before
    the window closed, and not have ended before the window opened, nor by the time the act arrived: an act that
    reached the reader after the end cannot be told from one made after it, so it counts for nothing."""
    return start < until and (end is None or (end > at and (arrived is None or end > arrived)))
