"""An identity's key-event log, folded into who speaks for it: pure functions, no store, no clock.

An identity is named by the id of its inception event (docs/protocol.md §13). Every later event names the
identity (``identity`` tag) and the event before it (``prior`` tag), so the events form a tree rooted at the
inception; the log is the path through it that this module picks, the same from any set of events whatever
order they arrived in:

- each event is judged against the state its own ancestors give (``_step``): a device event or a move must be
  signed by a device of the identity at that point, a rotation or a recovery by the key whose digest the point
  committed to (pre-rotation, as KERI does). Since ancestors are fixed by hashes, that judgement never changes;
- from the inception down, the one child whose branch no other outranks is followed (``_standing``): a branch
  carrying the rotation key outranks branches of device events alone (the owner recovering from a thief who
  used a device key). Device events never outrank one another, whatever they remove: which device is the
  thief's cannot be told from them. Otherwise it is a *fork*: the log stops at the last agreed event, the fork
  is reported, never resolved by picking one; a device some branch removes and another keeps is disputed, one
  every branch removes is removed (``_frozen``).

``verdict`` then says whether a message a device signed for the identity at a given time speaks for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from murmur.keys import sealing_public, verify_signature
from murmur.message import Message

INCEPTION = "key_inception"
DEVICE_ADD = "key_device_add"
DEVICE_REMOVE = "key_device_remove"
ROTATION = "key_rotation"
RECOVERY = "key_recovery"
MOVE = "key_move"
EVENT_KINDS = (INCEPTION, DEVICE_ADD, DEVICE_REMOVE, ROTATION, RECOVERY, MOVE)
BY_ROTATION_KEY = frozenset({ROTATION, RECOVERY})
"""Events signed by the pre-committed rotation key; every other event is signed by a device."""

PROOF_DOMAIN = b"murmur device v1\n"


def commitment(rotation_key: str) -> str:
    """The digest an event commits to for the next rotation key: SHA-256 of the key's 32 bytes, as hex."""
    return hashlib.sha256(bytes.fromhex(rotation_key)).hexdigest()


def proof_bytes(identity: str, device: str) -> bytes:
    """What a new device signs to show it holds its key and agrees to speak for ``identity``."""
    return PROOF_DOMAIN + identity.encode("ascii") + b"\n" + device.encode("ascii")


@dataclass(frozen=True, slots=True)
class Event:
    """A key event as the log reads it: who signed it, where it claims to sit, and what it says."""

    id: str
    kind: str
    signer: str
    created_at: int
    identity: str
    prior: str | None
    body: Mapping[str, str]

    @classmethod
    def of(cls, m: Message) -> Event:
        identity = m.id if m.kind == INCEPTION else m.tag("identity") or ""
        return cls(m.id, m.kind, m.author, m.created_at, identity, m.tag("prior"), m.body)


@dataclass(frozen=True, slots=True)
class Device:
    key: str
    name: str
    x25519: str
    added_at: int
    removed_at: int | None = None
    disputed_at: int | None = None  # a branch of a fork removes it from then: what it signs after waits


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Fork:
    """Two or more events of equal authority claim the place after ``place``: the log stops at ``place``.

    ``backdated``: the one branch is a device's removal of another dated before messages of the removed device that
    this server had already accepted (``resolve``'s ``backdated``); the log as the server acknowledged it, ending at
    ``place``, is the other path."""

    place: str
    branches: tuple[str, ...]
    backdated: bool = False


@dataclass(frozen=True)
class State:
    """What an identity's log says at one event: its devices (removed ones kept, with when), the digest of the
    next rotation key, its home server, and where it is."""

    identity: str
    head: str
    at: int  # the head's created_at
    next: str
    home: str | None
    devices: Mapping[str, Device]
    length: int = 1

    def device(self, key: str) -> Device | None:
        return self.devices.get(key)


@dataclass(frozen=True)
class Log:
    """An identity resolved from the events held: its state at the end of the agreed log, and what was set aside."""

    state: State
    chain: tuple[str, ...]
    fork: Fork | None = None
    superseded: tuple[str, ...] = ()
    refused: Mapping[str, Refusal] = field(default_factory=dict)
    waiting: tuple[str, ...] = ()  # held events whose prior is not held (or is itself waiting)
    contested: tuple[str, ...] = ()  # the events on the fork's branches, neither in force nor superseded

    def standing(self, event: str) -> str | None:
        """Where a held event stands: ``chain`` (in force), ``contested`` (on a branch of the fork), or None
        (superseded, refused or waiting)."""
        return "chain" if event in self.chain else "contested" if event in self.contested else None


def _short(key: str) -> str:
    return key[:12]


@lru_cache(maxsize=4096)
def _proof_holds(identity: str, key: str, proof: str) -> bool:
    """Whether a device's proof verifies: cached, since a log is resolved again whenever it changes and its
    proofs never do."""
    return verify_signature(key, proof, proof_bytes(identity, key))


@lru_cache(maxsize=4096)
def _sealing_public(key: str) -> str | None:
    return sealing_public(key)


def x25519_unheld(key: str, x25519: str) -> Refusal | None:
    """Why a device's listed ``x25519`` is not the one it provably holds: only the X25519 form of its own Ed25519
    key is, which holding that key (its signature, or its proof) proves. Any other would let a device claim
    someone else's sealing key, and be sealed to, and be routed, in their place (docs/encryption.md §1)."""
    if _sealing_public(key) == x25519:
        return None
    return Refusal(
        code="x25519_not_derived",
        reason=f"The device {_short(key)} lists the x25519 key {_short(x25519)}, which is not its own key's X25519"
        " form: a log lists only the sealing key its device holds.",
    )


def _device_of(event: Event, identity: str) -> Device | Refusal:
    """The device an add or a recovery brings in, if its proof verifies and it holds its listed x25519 key."""
    key = event.body["key"]
    if not _proof_holds(identity, key, event.body["proof"]):
        return Refusal(code="bad_proof", reason=f"The new device's proof does not verify under its key {_short(key)}.")
    return x25519_unheld(key, event.body["x25519"]) or Device(
        key, event.body["name"], event.body["x25519"], event.created_at
    )


def inception(event: Event) -> State | Refusal:
    """The state an inception starts (its author is the first device), or why it starts none."""
    unheld = x25519_unheld(event.signer, event.body["x25519"])
    if unheld is not None:
        return unheld
    first = Device(event.signer, event.body["name"], event.body["x25519"], event.created_at)
    return State(event.id, event.id, event.created_at, event.body["next"], None, {event.signer: first})


def step(state: State, event: Event) -> State | Refusal:
    """The state after ``event``, which names ``state.head`` as its prior, or why it cannot follow it."""
    if event.created_at < state.at:
        return Refusal(code="out_of_order", reason="A key event is dated before the event it follows.")
    if event.kind in BY_ROTATION_KEY:
        if commitment(event.signer) != state.next:
            return Refusal(
                code="not_rotation_key",
                reason=f"A {event.kind} must be signed by the rotation key the identity's log committed to;"
                f" {_short(event.signer)} is not it.",
            )
    else:
        signer = state.device(event.signer)
        if signer is None or signer.removed_at is not None:
            return Refusal(
                code="not_device",
                reason=f"A {event.kind} must be signed by a current device of the identity;"
                f" {_short(event.signer)} is not.",
            )
    devices = dict(state.devices)
    after = replace(state, head=event.id, at=event.created_at, length=state.length + 1)
    if event.kind == DEVICE_ADD or event.kind == RECOVERY:
        added = _device_of(event, state.identity)
        if isinstance(added, Refusal):
            return added
        if added.key in devices:
            return Refusal(
                code="device_known",
                reason=f"The key {_short(added.key)} was already a device of this identity; a key is added once, and a"
                " removed key never comes back.",
            )
        if event.kind == RECOVERY:  # every device goes, the recovering one comes
            for key, d in devices.items():
                if d.removed_at is None:
                    devices[key] = replace(d, removed_at=event.created_at)
        devices[added.key] = added
    if event.kind in (ROTATION, RECOVERY):
        after = replace(after, next=event.body["next"])
    if event.kind == DEVICE_REMOVE:
        gone = devices.get(event.body["key"])
        if gone is None or gone.removed_at is not None:
            return Refusal(
                code="not_device", reason=f"The key {_short(event.body['key'])} is not a current device to remove."
            )
        devices[gone.key] = replace(gone, removed_at=event.created_at)
    if event.kind == MOVE:
        after = replace(after, home=event.body["home"])
    return replace(after, devices=devices)


def resolve(identity: str, events: Iterable[Event], backdated: Iterable[str] = ()) -> Log | None:
    """The identity's log from the events held (any order, duplicates and strangers ignored); None when its
    inception is not among them.

    ``backdated``: device removals (``key_device_remove``) that would refuse messages of the removed device this
    server had already acknowledged, dated at or after the removal (``murmur.kinds.key_backdated`` finds them). Such
    a removal is contested as a fork's branch is, against the log as the server acknowledged it, until the rotation
    key settles it: a rotation-key event below it confirms it, one at its place supersedes it (``_standing``)."""
    contest = frozenset(backdated)
    mine = {e.id: e for e in events if e.identity == identity}
    root = mine.get(identity)
    if root is None or root.kind != INCEPTION:
        return None
    children: dict[str, list[Event]] = {}
    for e in mine.values():
        if e.prior is not None and e.kind != INCEPTION:
            children.setdefault(e.prior, []).append(e)
    start = inception(root)
    if isinstance(start, Refusal):  # no device speaks for it: everything naming it is refused with it
        nobody = State(identity, root.id, root.created_at, root.body["next"], None, {})
        below = Refusal(code="prior_refused", reason="The identity's inception was refused.")
        refused = {e: start if e == root.id else below for e in mine}
        return Log(nobody, (), refused=refused)
    refused: dict[str, Refusal] = {}
    reached: set[str] = {root.id}
    # Judge every event against its own ancestry, branch by branch (a branch not followed is still judged).
    states: dict[str, State] = {root.id: start}
    pending = [root.id]
    while pending:
        place = pending.pop()
        for child in children.get(place, ()):
            reached.add(child.id)
            if place in refused:
                refused[child.id] = Refusal(code="prior_refused", reason="The key event it follows was refused.")
            else:
                after = step(states[place], child)
                if isinstance(after, Refusal):
                    refused[child.id] = after
                else:
                    states[child.id] = after
            pending.append(child.id)
    # Whether each branch carries the rotation key, found in one pass: listing every branch below each step of
    # the chain made resolving a long log quadratic in its length.
    carries = _carrying(root.id, children, states)
    chain, superseded, fork, contested = [root.id], [], None, []
    while True:
        valid = sorted((c for c in children.get(chain[-1], ()) if c.id in states), key=lambda c: c.id)
        if not valid:
            break
        standing = _standing(valid, carries)
        if len(standing) != 1:
            fork = Fork(chain[-1], tuple(c.id for c in standing))
            break
        if _contested(standing[0], contest, carries):
            fork = Fork(chain[-1], (standing[0].id,), backdated=True)
            break
        superseded += [c.id for c in valid if c is not standing[0]]
        chain.append(standing[0].id)
    state = states[chain[-1]]
    if fork is not None:
        contested = [mine[i] for b in fork.branches for i in _branch(b, children, states)]
        ends = [states[e.id] for e in contested if not _continues(e.id, children, states)]
        # a backdated removal's other path is the log as this server acknowledged it: it keeps every device
        state = _frozen(state, [*ends, state] if fork.backdated else ends, contested)
        superseded = [c.id for c in valid if c.id not in fork.branches] + superseded
    waiting = tuple(sorted(set(mine) - reached))
    return Log(state, tuple(chain), fork, tuple(superseded), refused, waiting, tuple(sorted(e.id for e in contested)))


def _branch(start: str, children: Mapping[str, list[Event]], states: Mapping[str, State]) -> list[str]:
    """``start`` and every event held below it that was not refused."""
    out, pending = [], [start]
    while pending:
        place = pending.pop()
        out.append(place)
        pending += [c.id for c in children.get(place, ()) if c.id in states]
    return out


def _carrying(root: str, children: Mapping[str, list[Event]], states: Mapping[str, State]) -> dict[str, bool]:
    """For every event not refused, whether its branch (it and every event not refused below it) holds a
    rotation-key event: children are settled before their parent, without recursion (a log may be long)."""
    kinds = {c.id: c.kind for kids in children.values() for c in kids}
    order, pending = [], [root]
    while pending:
        place = pending.pop()
        order.append(place)
        pending += [c.id for c in children.get(place, ()) if c.id in states]
    carries: dict[str, bool] = {}
    for place in reversed(order):
        below = (carries[c.id] for c in children.get(place, ()) if c.id in states)
        carries[place] = kinds.get(place) in BY_ROTATION_KEY or any(below)
    return carries


def _contested(event: Event, backdated: frozenset[str], carries: Mapping[str, bool]) -> bool:
    """Whether ``event``, the one event standing at its place, is a device's removal found backdated that no
    rotation-key event below it has confirmed (a removal is no rotation-key event, so its branch carrying the key
    means one below it)."""
    return event.id in backdated and event.kind == DEVICE_REMOVE and not carries[event.id]


def _continues(place: str, children: Mapping[str, list[Event]], states: Mapping[str, State]) -> bool:
    """Whether an event not refused is held below ``place``: a path through a branch ends where none is."""
    return any(c.id in states for c in children.get(place, ()))


def _standing(valid: list[Event], carries: Mapping[str, bool]) -> list[Event]:
    """The children of a place whose branches no competing branch outranks.

    A branch carrying the rotation key (any rotation-key event on it) outranks every branch of device events
    alone, and only those: two branches that each carry it are a fork, never a takeover, since the same key (the
    one the place committed to) signed the first rotation-key event of each. Device events never outrank one
    another: a branch removing the device that signed the other is what the owner does to a thief and what a
    thief holding a device key does to the owner, and nothing in the events tells the two apart.
    """
    carrying = [c for c in valid if carries[c.id]]
    return carrying or valid


def _frozen(state: State, ends: list[State], events: list[Event]) -> State:
    """The state where a fork stops the log (``state``, its place's), given the state at the end of every path
    through the fork's branches (``ends``) and their events.

    A fork never takes authority from a device a path keeps, nor gives back what every path took away. A device
    current at the place that some paths remove and another keeps is *disputed* from the earliest of those
    removals, and so is each device current at the place that signed such a removal or an event on its way to it
    (below the place), from the time it signed: which of the two holds a stolen key is not known. A device every
    path removes is removed, from the latest removal (disputed before it, from the earliest). What a branch adds
    speaks for nobody until the rotation key settles the place. Disputed, not removed: a refusal would let a
    thief delete the owner's acknowledged messages by a backdated removal."""
    devices = dict(state.devices)
    current = {key for key, d in state.devices.items() if d.removed_at is None}
    kept = {key for key in current if any(s.devices[key].removed_at is None for s in ends)}
    disputes: dict[str, int] = {}
    for key in current:
        removals = [t for s in ends if (t := s.devices[key].removed_at) is not None]
        if removals and key not in kept:
            devices[key] = replace(devices[key], removed_at=max(removals))
        if removals:
            disputes[key] = min(removals)
    above = {e.id: e for e in events}
    for e in events:
        if e.kind != DEVICE_REMOVE or e.body["key"] not in kept:
            continue
        # the contested removal, and each event its branch made it through: a device current at the place that
        # signed any of them (a device it added then signed the removal, say) makes the same contested claim
        step: Event | None = e
        while step is not None:
            if step.signer in current:
                disputes[step.signer] = min(step.created_at, disputes.get(step.signer, step.created_at))
            step = above.get(step.prior or "")
    for key, at in disputes.items():
        devices[key] = replace(devices[key], disputed_at=at)
    return replace(state, devices=devices)


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # "valid" | "waiting" | "disputed" (a fork's: it waits too, flagged) | "refused"
    code: str | None = None
    reason: str | None = None


VALID = Verdict("valid")


def verdict(log: Log | None, device: str, created_at: int) -> Verdict:
    """Whether a message ``device`` signed at ``created_at`` for the log's identity speaks for it.

    Waiting when the log held cannot say yet (its inception, or the event adding the device, has not arrived);
    disputed when a fork disputes the device at the message's time (it waits for the rotation key to settle it);
    refused when it says no: the device was removed before, or added after, the message's time.
    """
    if log is None:
        return Verdict("waiting", code="identity_unknown", reason="The identity's key-event log is not held yet.")
    known = log.state.device(device)
    span = None if known is None else (known.added_at, known.removed_at, known.disputed_at)
    return device_verdict(span, device, created_at)


def device_verdict(span: tuple[int, int | None, int | None] | None, device: str, created_at: int) -> Verdict:
    """``verdict`` once the log's word on ``device`` is known: when it was added, removed and disputed (None:
    not), or None when no event held adds it."""
    if span is None:
        return Verdict(
            "waiting", code="device_unknown", reason="No event held adds this key as a device of the identity."
        )
    added_at, removed_at, disputed_at = span
    if created_at < added_at:
        return Verdict(
            "refused", code="device_not_yet", reason="The device signed this before the identity's log added it."
        )
    if removed_at is not None and created_at >= removed_at:
        return Verdict(
            "refused",
            code="device_removed",
            reason=f"The device {_short(device)} was removed from this identity at {removed_at} ms;"
            " what it signs after that does not speak for it.",
        )
    if disputed_at is not None and created_at >= disputed_at:
        return Verdict(
            "disputed",
            code="device_disputed",
            reason=f"A fork in the identity's log disputes the device {_short(device)} from {disputed_at} ms;"
            " what it signs from then waits until the rotation key settles the fork.",
        )
    return VALID
