"""Who is in a private group and who may seal its epoch keys, and when, from its signed messages folded on this
device (docs/encryption.md §16.5): the one source private groups ask for members, roles and their spans.

The group's signed log (``GET /api/v1/groups/{id}/log``) is checked here by the one validation path, kept in the
device's store (a server can withhold a message later, never take back one it gave) and folded with the rules
every server uses (``murmur.kinds.group_fold``): the home server can withhold a message, but cannot make anyone a
member or a moderator by saying so, nor call a private group open. Devices come from each identity's log, resolved
on this device (``murmur.client.identity_check``). An act counts only if its author's role and its signing device
lasted until it arrived, by a bound on its arrival this device proves (``murmur.client.group_acts``); the acts this
device signs are kept as soon as its server takes them (``keep_own``).

An epoch chunk counts when the device that sealed it belonged to the group's owner or a moderator at the time of
the act, not now: a moderator demoted since still gave the members a good key, and one who was never a moderator,
or sealed after the demotion, gave none. A chunk's time is its outer message's, coarse (``COARSE_MS``) and bound
by the sealing, and the time it reached the home server when that said: ``murmur.kinds.group_fold.covers`` is the
rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from murmur.client.api import ApiError, MurmurClient
from murmur.client.group_acts import LogOf, arrivals, counted_state, unbounded
from murmur.client.identity_check import checked_identity
from murmur.client.lookups import Lookups
from murmur.errors import Refused
from murmur.jcs import canonicalize
from murmur.keys import KEY_HEX, fingerprint
from murmur.kinds.group_fold import INVITE, GroupState, RoleSpan, bearing, covers, steps
from murmur.kinds.group_speakers import KEYS, DeviceSpan, Speakers
from murmur.kinds.group_state import GROUP_KIND
from murmur.kinds.sealed import COARSE_MS
from murmur.message import Message, now_ms
from murmur.validate import check


class SignedLogs(Protocol):
    """Where a device keeps the signed group messages it verified (``murmur.store.group_inbox.GroupInbox``)."""

    def signed_seen(self, group: str) -> list[tuple[bytes, int | None]]: ...

    def keep_signed(self, group: str, messages: Sequence[tuple[str, bytes]], seen: int | None = None) -> None: ...

    def witnessed(self, group: str) -> dict[str, bool]: ...


@dataclass(frozen=True)
class Folding:
    """A group's signed log as this device folded it (``signed_folding``), kept to fold again without some acts:
    the variants an epoch's member set is matched against (``murmur.client.group_witness``)."""

    create: Message
    acts: list[Message]
    arrived: dict[str, int | None]
    seen: dict[str, int | None]
    log_of: LogOf
    speakers: Speakers
    decided: dict[str, bool]
    state: GroupState

    @property
    def unbounded(self) -> list[Message]:
        """The acts this device cannot bound (``murmur.client.group_acts.unbounded``), witnessed or not."""
        return unbounded(self.state, self.acts, self.arrived, self.seen, self.speakers)

    def counts(self, act: str) -> bool:
        """Whether this folding counts the unbounded act ``act`` (what an epoch witnessed, else counted)."""
        return self.decided.get(act, True)

    async def variant(self, counted: dict[str, bool]) -> Folding:
        """The log folded again with the unbounded acts ``counted`` names counted or not, the others as here."""
        decided = {**self.decided, **counted}
        state = await counted_state(self.create, self.acts, self.arrived, self.log_of, speakers=self.speakers,
                                    decided=decided, seen=self.seen)  # fmt: skip
        return Folding(self.create, self.acts, self.arrived, self.seen, self.log_of, self.speakers, decided, state)


async def signed_state(api: MurmurClient, group: str, kept: SignedLogs) -> GroupState:
    """The group as ``signed_folding`` folds it for reading, each identity's log resolved here."""
    return (await signed_folding(api, group, kept)).state


async def signed_folding(
    api: MurmurClient,
    group: str,
    kept: SignedLogs,
    log_of: LogOf | None = None,
    *,
    strict: bool = False,
    also: Sequence[str] = (),
) -> Folding:
    """The private group ``group`` as this device folds it from its signed messages: those its home server gives
    now (``GET /api/v1/groups/{id}/log``) and those it gave before, or this device signed, and this device kept.
    The one source for who is a member or a moderator, and when (``spans``, ``roles``): the home server can
    withhold a message, or keep one back it gave before (it is still held here), but make no one a member or
    moderator. A message that does not verify counts for nothing, and so does an act whose author's role, or
    signing device (its identity's log through ``log_of``, resolved here), had ended by its arrival
    (``murmur.client.group_acts``; with ``strict``, for an epoch about to be sealed, an act whose signer's log
    does not resolve is refused rather than left out). Without the signed creation message there is nothing to
    fold (``bad_answer``: the group is taken as not known yet); a group that is not private is ``wrong_group``.
    An act counts with the role of the identity its device spoke for (``murmur.kinds.group_speakers``), by the
    logs ``log_of`` resolves; ``also`` (this device's key: whose role it acts with) is resolved too. What epochs
    witnessed of the acts this device cannot bound (its first sight of the group) is the store's (``witnessed``)."""
    # kept only once verified: read back without checking each signature again, at every sync
    kept_seen = kept.signed_seen(group)
    held = {m.id: (m, seen) for m, seen in ((check(raw, verify=False), seen) for raw, seen in kept_seen)}
    fresh = _verified((await api.group_log(group))["messages"], set(held))
    messages = {**{i: m for i, (m, _) in held.items()}, **{i: m for i, (m, _) in fresh.items()}}
    create = _creation(api, group, messages)
    if create.body.get("join") != INVITE:
        raise Refused("wrong_group", "This group is not private: its creation message, as signed, lets anyone in.")
    log_of = log_of or _identity_log(api)
    speakers = await speakers_for(create, steps(create, messages.values()), also, log_of)
    # Only the steps that can change who is in the group, or who holds a role, are kept and folded: anyone can
    # sign a message naming the group, and a flood of them would otherwise fill this device's store for good.
    counted = {m.id: m for m in bearing(create, messages.values(), speakers)}
    stepping = {*counted, group}
    new = [(i, raw) for i, (_, raw) in fresh.items() if i in stepping and i not in held]
    now = keep_seen(kept, group, new, kept_seen)
    seen = {i: s for i, (_, s) in held.items()} | {i: now for i, _ in new}
    arrived = arrivals([messages[i] for i in stepping], seen)
    decided = kept.witnessed(group)
    acts = list(counted.values())
    state = await counted_state(create, acts, arrived, log_of, strict=strict, speakers=speakers, decided=decided,
                                seen=seen)  # fmt: skip
    return Folding(create, acts, arrived, seen, log_of, speakers, decided, state)


async def speakers_for(
    create: Message | None, stepping: list[Message], also: Sequence[str], log_of: LogOf
) -> Speakers:
    """Whom the keys acting in the group speak for, by the logs ``log_of`` resolves: every device of the owner's
    identity, of each identity the owner appointed (its devices sign with its role), and of ``also``. Only their
    logs are looked up: any other key holds no role whoever it speaks for, so a flood of strangers' messages
    costs no look-up."""
    spans: dict[str, DeviceSpan] = {}

    async def learn(key: str) -> set[str]:
        if key in spans:  # a device of a log learned already: its identity's log lists every device of it
            return {k for k, d in spans.items() if d.identity == spans[key].identity}
        if (known := {k for k, d in spans.items() if d.identity == key}):  # that log, named by its identity
            return known
        try:
            log = await log_of(key)
        except Refused:  # a log that does not resolve lists no device: the key speaks for itself
            return set()
        for d in listed(log):
            added, removed, disputed = (_ms(d.get(t)) for t in ("added_at", "removed_at", "disputed_at"))
            spans[d["key"]] = DeviceSpan(str((log or {})["identity"]), added or 0, removed, disputed)
        return {d["key"] for d in listed(log)}

    owner = ({create.author} | await learn(create.author)) if create is not None else set()
    appointed = {s for m in stepping if m.kind == "group_mod" and m.author in owner and (s := m.tag("subject"))}
    # a member leaves from one of their devices, and a place is the person's: the identity a leave claims is learned
    # when someone let it in or appointed it (a member's log, looked up for its devices anyway; a stranger's claim
    # costs nothing), so the leave is the identity's, as servers fold it
    named = {s for m in stepping if m.kind in ("group_approve", "group_mod") and (s := m.tag("subject"))}
    leaving = {i for m in stepping if m.kind == "group_leave" and (i := m.tag("identity")) in named}
    # ``also`` in its own order, after the roles and leaves: a recount names the identities its voters claim before
    # their keys (``voices``), so that one look-up learns every device of each before the budget runs out
    for key in dict.fromkeys([*sorted(appointed | leaving), *also]):
        await learn(key)
    return Speakers(spans)


def voices(messages: Sequence[Message]) -> list[str]:
    """Whose logs say whom ``messages`` (ballots, signatures and their withdrawals) count for: the identities they
    claim first, one look-up learning every device of each, then their authors (a device signing without its
    identity's tag is still its identity's: ``murmur.kinds.group_speakers.Speakers.person``)."""
    claimed = [i for m in messages if (i := m.tag("identity"))]
    return [*dict.fromkeys([*claimed, *(m.author for m in messages)])]


async def group_speakers(api: MurmurClient, messages: Sequence[Message], voters: Sequence[str] = ()) -> Speakers:
    """``speakers_for`` the group whose checked signed ``messages`` these are (its creation among them), by the
    identity logs as this device resolves them, nothing pinned: what a recount folds a group with, as servers do.
    A place in the group is a person's (protocol.md §11), so the logs of the keys that take or are given one (joins,
    leaves, the subjects of acts) and of the ``voters`` (``voices`` of the ballots, signatures or RSVPs counted, each
    person once) are looked up too, each identity once, at most ``LOOKUPS_PER_SYNC`` of them: past that a key
    speaks for itself. No group among ``messages`` (a public poll, a letter): the ``voters``' logs alone."""
    create = next((m for m in messages if m.kind == GROUP_KIND), None)
    lookups, look = Lookups(), _identity_log(api)

    async def log_of(key: str) -> dict[str, Any] | None:
        try:
            return await lookups.budgeted(("identity", key), lambda: look(key))
        except (ApiError, Refused) as exc:
            raise Refused("identity_unverified", exc.message) from exc

    if create is None:
        return await speakers_for(None, [], voters, log_of) if voters else KEYS
    stepping = steps(create, messages)
    placed = [k for m in stepping for k in (m.author if m.kind in ("group_join", "group_leave") else None,
                                            m.tag("subject")) if k]  # fmt: skip
    return await speakers_for(create, stepping, [*dict.fromkeys([*placed, *voters])], log_of)


def _ms(value: Any) -> int | None:
    return value if type(value) is int else None


def keep_seen(
    kept: SignedLogs, group: str, messages: Sequence[tuple[str, bytes]], held: list[tuple[bytes, int | None]]
) -> int:
    """Keep verified signed messages of the group (id, bytes), as first held now: later than every fetch before
    (``held``, the group's kept messages with theirs), whatever this device's clock did meanwhile. That time."""
    now = max(now_ms(), 1 + max((s for _, s in held if s is not None), default=0))
    if messages:
        kept.keep_signed(group, messages, now)
    return now


def keep_own(kept: SignedLogs, group: str, message: dict[str, Any]) -> None:
    """Keep an act this device has just signed and its server took: the state it seals the next epoch for is the
    one right after its change, whether or not its home server's log shows the act (docs/encryption.md §16.2)."""
    check(message)
    keep_seen(kept, group, [(str(message["id"]), canonicalize(message))], kept.signed_seen(group))


def _identity_log(api: MurmurClient) -> LogOf:
    async def log_of(key: str) -> dict[str, Any] | None:
        view = await checked_identity(api, key, at=now_ms())
        return None if view is None or view.get("bare") else view

    return log_of


async def signed_join(api: MurmurClient, group: str) -> str:
    """How the group's signed creation message lets people in (``invite``: a private group, whose posts are sealed),
    never the home server's word: a server calling a private group open would have its posts sent in the clear.
    The creation message alone (``GET /api/v1/messages/{id}``, which every server version answers): its id is the
    group's, so it cannot be swapped."""
    messages = {i: m for i, (m, _) in _verified([await api.message(group)], set()).items()}
    return str(_creation(api, group, messages).body.get("join", "open"))


async def is_private(api: MurmurClient, group: str) -> bool:
    """Whether ``group`` is private (its posts sealed for its members) by its signed creation message
    (``signed_join``): the one check the CLI and the TUI make before writing into a group."""
    return await signed_join(api, group) == INVITE


async def refuse_plain(api: MurmurClient, draft: dict[str, Any]) -> None:
    """Refuse (``private_group``) a plain draft written into a private group (its ``group`` tag: a post, a poll, a
    meetup), whatever the home server says of the group: published, it would be signed and readable by every server
    it reaches. The group's own acts (``group_*``: joining, leaving, membership, moderation) are public by design
    (docs/encryption.md §16.1) and pass."""
    if str(draft.get("kind", "")).startswith(GROUP_KIND):
        return
    for name, value in draft.get("tags") or []:
        if name == "group" and await is_private(api, str(value)):
            raise Refused("private_group", "This group is private: what is written in it is sealed for its members"
                          " (write from its screen), never published plain; nothing was sent.")  # fmt: skip


def _verified(raws: list[Any], known: set[str]) -> dict[str, tuple[Message, bytes]]:
    """The messages among ``raws`` that pass the one validation path, by id, each with its bytes, but those whose
    id is ``known`` already (held, verified before); the rest count for nothing."""
    found: dict[str, tuple[Message, bytes]] = {}
    for raw in raws:
        try:
            encoded = canonicalize(raw)
            if known and check(encoded, verify=False).id in known:
                continue
            message = check(encoded)
        except (Refused, TypeError, ValueError):  # not a signed message of any kind: nothing to fold
            continue
        found[message.id] = (message, encoded)
    return found


def _creation(api: MurmurClient, group: str, messages: dict[str, Message]) -> Message:
    create = messages.get(group)
    if create is None or create.kind != GROUP_KIND:
        raise ApiError(200, "bad_answer", f"{api.base_url} gave no signed creation message for the group.")
    return create


def listed(log: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The devices an identity's log lists with both keys well formed."""
    devices = (log or {}).get("devices")
    return [d for d in (devices if isinstance(devices, list) else []) if isinstance(d, dict)
            and all(isinstance(d.get(k), str) and KEY_HEX.fullmatch(d[k]) for k in ("key", "x25519"))]  # fmt: skip


def _device_covers(device: dict[str, Any], at: int, arrived: int | None) -> bool:
    added = device.get("added_at")
    ends = [t for t in (device.get("removed_at"), device.get("disputed_at")) if type(t) is int]
    return covers(added if type(added) is int else 0, min(ends, default=None), at, at + COARSE_MS, arrived)


async def check_sealer(roles: list[RoleSpan], sealed_by: str, at: int, arrived: int | None, log_of: LogOf) -> None:
    """Refuse (``not_member``, saying which) an epoch chunk sealed by the X25519 key ``sealed_by``, dated ``at``
    (coarse) and come to the home server at ``arrived``, unless a device of that key's identity held the role of
    owner or moderator of the group then, as ``roles`` (the role spans ``signed_state`` folds) records it."""
    sealer = None
    logs: dict[str, dict[str, Any] | None] = {}  # a key holds roles in many spans: its log is fetched once
    for span in roles:
        if span.key not in logs:
            logs[span.key] = await log_of(span.key)
        log = logs[span.key]
        devices = [d for d in listed(log) if d["x25519"] == sealed_by]
        if not devices:
            continue
        sealer = span.key
        if covers(span.start, span.end, at, at + COARSE_MS, arrived) and any(
            _device_covers(d, at, arrived) for d in devices
        ):
            return
    if sealer is None:
        raise Refused("not_member", "An epoch key sealed by a device of no one who was ever owner or moderator of"
                      " the group (its signed log names no such role).")  # fmt: skip
    raise Refused("not_member", f"An epoch key sealed by a device of {fingerprint(sealer)} when they were not owner"
                  " or moderator of the group, as its signed log records it: their role (or that device) had ended"
                  " before it was sealed or before it reached your server, or had not begun.")  # fmt: skip
