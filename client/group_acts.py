"""Which of a private group's signed membership and moderation acts count on this device (docs/encryption.md §14,
§16.5), beyond their signatures: an act needing authority counts only when its author still held the role, and
its signing device was still its identity's, when the act reached the home server, not only at the time it claims.

A removed moderator, or a thief holding a device removed from its identity, can still sign; what they cannot do
is make their act reach the device before the removal did. So an act is judged at the later of its signed time and
its arrival, as epoch chunks and group messages are (``murmur.kinds.group_fold.covers``,
``murmur.direct.current_at``). The arrival is a lower bound this device can prove, not the home server's word:
an act first held in a later fetch than another came after that other (its signed time) and after that fetch (the
device's clock). An act first seen in the same fetch as the act ending its author's role (a device's first sync,
a fetch after a time offline, or one a home server arranged by holding the end back) has no bound past that end:
it is doubtful (``unbounded``), read at its signed time, and no epoch is sealed on it until an epoch witnesses it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from murmur.direct import current_at, device_in_log
from murmur.errors import Refused
from murmur.keys import fingerprint
from murmur.kinds.group_fold import MEMBER, STEPS, GroupState, RoleSpan, covers, fold, steps
from murmur.kinds.group_speakers import KEYS, Speakers
from murmur.message import Message

LogOf = Callable[[str], Awaitable[dict[str, Any] | None]]
ACT_UNWITNESSED = "act_unwitnessed"  # an epoch waits for a witness of an act this device cannot bound
# The acts that need the owner's or a moderator's authority; joining and leaving are one's own.
AUTHORITY = frozenset(STEPS) - {"group_join", "group_leave"}


def arrivals(messages: Iterable[Message], seen: Mapping[str, int | None]) -> dict[str, int | None]:
    """For each message, the latest time it is known to have reached the home server after, from when this device
    first held it (``seen``, its clock; None: not noted): after every message held in an earlier fetch (their
    signed times) and after that fetch. None for those held first, with nothing before them."""
    fetches: dict[int, list[Message]] = {}
    unnoted: list[Message] = []
    for m in messages:
        held = seen.get(m.id)
        (unnoted if held is None else fetches.setdefault(held, [])).append(m)
    found: dict[str, int | None] = {m.id: None for m in unnoted}
    bound = max((m.created_at for m in unnoted), default=None)
    for at in sorted(fetches):
        found |= {m.id: bound for m in fetches[at]}
        bound = max(bound or 0, at, *(m.created_at for m in fetches[at]))
    return found


async def counted_state(
    create: Message,
    messages: Iterable[Message],
    arrived: Mapping[str, int | None],
    log_of: LogOf,
    *,
    strict: bool = False,
    speakers: Speakers = KEYS,
    decided: Mapping[str, bool] | None = None,
    without: Iterable[str] = (),
    seen: Mapping[str, int | None] | None = None,
) -> GroupState:
    """The group's state folded from the acts that count: those needing authority whose signing device was not
    its identity's at their time or arrival, and those whose author's role had ended by their arrival, count for
    nothing. Leaving one out can only undo what it did, so the fold is repeated until nothing more is left out.
    An act whose identity's log does not resolve here now counts for nothing too, unproven; with ``strict`` (an
    epoch is to be sealed for the state) it is refused instead, ``identity_unverified``: a server that will not
    show a moderator's log does not get their invitations quietly undone in the next epoch. ``speakers``: whom
    each key acts for (``murmur.kinds.group_speakers``), so a role is its identity's, acted on from any device.

    ``seen``: when this device first held each act (``unbounded`` needs it: without it, none is in doubt);
    ``decided``: what epochs witnessed of the unbounded acts (``unbounded``; id: counted or not), from
    ``murmur.client.group_witness``; ``without``: acts left out besides (a variant a chunk is matched against). An
    unbounded act not decided counts; with ``strict``, a state it changes the members of is refused
    (``act_unwitnessed``): no epoch is sealed on an act this device cannot tell from one dated back."""
    acts = steps(create, messages)
    decided = decided or {}
    void = {m.id for m in await _by_removed_devices(create, acts, arrived, log_of, strict)}
    void |= {i for i, counted in decided.items() if not counted} | set(without)
    while True:
        state = fold(create, [m for m in acts if m.id not in void], speakers)
        late = {m.id for m in acts if m.id not in void and m.kind in AUTHORITY
                and _after_role(state.roles, m, arrived.get(m.id), speakers)}  # fmt: skip
        if not late:
            break
        void |= late
    doubt = unbounded(state, acts, arrived, seen or {}, speakers)
    if strict and (left := [m.id for m in doubt if m.id not in void | decided.keys()]):
        plain = await counted_state(create, acts, arrived, log_of, speakers=speakers, decided=decided,
                                    without=[*void, *left])  # fmt: skip
        if _members(plain) != _members(state):
            raise Refused(ACT_UNWITNESSED, f"{len(left)} membership act(s) of a moderator whose role has since"
                          " ended came to this device no earlier than the act ending that role, so it cannot tell"
                          " whether they came before that end or were dated back: no epoch is sealed on them until"
                          " an epoch an owner or moderator seals says how they counted. Try again at a later"
                          " sync.")  # fmt: skip
    return state


# The membership acts an epoch's member set can witness (a moderation act on posts changes no set), and the acts
# that can end a role.
WITNESSED = frozenset({"group_approve", "group_remove"})
ENDING = frozenset({"group_unmod", "group_remove", "group_leave"})


def unbounded(
    state: GroupState,
    acts: Iterable[Message],
    arrived: Mapping[str, int | None],
    seen: Mapping[str, int | None],
    speakers: Speakers = KEYS,
) -> list[Message]:
    """The membership acts (doubtful ones) whose author's role, held at their signed time, has ended since, by an
    act this device first held no later than them (``seen``): in the same fetch (its first sync of the group, or
    one after a time offline, or a home server holding the end back until the act existed), their arrival bound
    comes before the end, and a removed moderator's act dated back into its role looks the same as one made in
    time (docs/encryption.md §16.5, "Doubtful acts"). An act held before the act that ended its author's role came
    before that end; one held after it is already judged late (``_after_role``); one kept before this device noted
    when it held each (``seen`` None) is read as it was then."""
    acts = list(acts)
    found = []
    for m in acts:
        held_at = seen.get(m.id)
        if m.kind not in WITNESSED or held_at is None:
            continue
        held = [r for r in state.roles if r.key in _acting(m, speakers) and r.start <= m.created_at
                and (r.end is None or m.created_at < r.end)]  # fmt: skip
        if not held or any(r.end is None for r in held):
            continue
        ends = {r.end for r in held}
        enders = [a for a in acts if a.kind in ENDING and a.created_at in ends]
        if enders and all((at := seen.get(a.id)) is not None and at > held_at for a in enders):
            continue
        found.append(m)
    return found


def ended(state: GroupState, m: Message, speakers: Speakers = KEYS) -> int:
    """When the role its author held at the act's signed time ended (the latest end, of those spans)."""
    return max(int(r.end) for r in state.roles if r.key in _acting(m, speakers) and r.end is not None
               and r.start <= m.created_at < r.end)  # fmt: skip


def _members(state: GroupState) -> set[str]:
    return {p.key for p in state.people if p.status == MEMBER}


def _acting(m: Message, speakers: Speakers = KEYS) -> set[str]:
    """The keys an act's authority may be held by: its signing device, the identity it names, and whom a role
    given to its device belongs to (``Speakers.holder``: roles are their identity's)."""
    return {m.author, speakers.holder(m.author), *([m.tag("identity")] if m.tag("identity") else [])}


def _after_role(roles: Iterable[RoleSpan], m: Message, arrived: int | None, speakers: Speakers = KEYS) -> bool:
    """Whether the role its author held at the act's signed time had ended by the time the act arrived."""
    held = [r for r in roles if r.key in _acting(m, speakers) and r.start <= m.created_at
            and (r.end is None or m.created_at < r.end)]  # fmt: skip
    return bool(held) and not any(covers(r.start, r.end, m.created_at, m.created_at + 1, arrived) for r in held)


async def _by_removed_devices(
    create: Message, acts: list[Message], arrived: Mapping[str, int | None], log_of: LogOf, strict: bool
) -> list[Message]:
    """The acts needing authority, by one who could hold a role (the owner, or one appointed), signed by a device
    its identity's log (as resolved here) did not list as current at the act's time and arrival. Only those could
    change anything: junk by anyone else is not looked up."""
    could = _acting(create) | {m.tag("subject") or "" for m in acts if m.kind == "group_mod"}
    logs: dict[str, dict[str, Any] | Refused | None] = {}
    void = []
    for m in acts:
        if m.kind not in AUTHORITY or not _acting(m) & could:
            continue
        name = m.tag("identity") or m.author
        if name not in logs:
            logs[name] = await _log(log_of, name)
        log = logs[name]
        if strict and (isinstance(log, Refused) or (log is None and m.tag("identity"))):
            raise log if isinstance(log, Refused) else _unproven(name)
        if not _device_current(m, log, arrived.get(m.id)):
            void.append(m)
    return void


async def _log(log_of: LogOf, name: str) -> dict[str, Any] | Refused | None:
    """The identity log ``name`` speaks for (None: a bare key, or none known), or why it does not resolve here."""
    try:
        return await log_of(name)
    except Refused as refusal:
        return refusal


def _unproven(identity: str) -> Refused:
    return Refused("identity_unverified", f"Your server gives no key log for {fingerprint(identity)}, who signed a"
                   " change of the group's members as its owner or a moderator: whether the signing device was"
                   " theirs cannot be checked here, so no epoch is sealed on it. Try again later.")  # fmt: skip


def _device_current(m: Message, log: dict[str, Any] | Refused | None, arrived: int | None) -> bool:
    if isinstance(log, Refused):  # its identity's log does not resolve here: no device of it is known current
        return False
    if log is None:  # a bare key speaks for itself (no log can remove it); a named identity must be proven
        return m.tag("identity") is None
    try:
        current_at(device_in_log(str(log.get("identity")), m.author, log), m.created_at, arrived)
    except Refused:
        return False
    return True
