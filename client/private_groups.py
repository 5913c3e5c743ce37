"""Private groups on this device: create one, invite and remove members (each change a new epoch sealed to the
new set of member devices), write posts, replies and reactions sealed for the members, and fetch and read what
they wrote. The API the CLI (``murmur group``, ``murmur post --group``, ``murmur timeline group:ID``) builds on;
docs/encryption.md §16 says what travels.

The group itself and who is in it are public group messages (a ``group`` whose ``join`` is ``invite``; a
moderator's ``group_approve`` invites, ``group_remove`` removes), so every member device derives the same set of
member devices from the group's members and their identities' logs, both folded and resolved here from signed
messages (``murmur.client.group_authority``, ``murmur.client.identity_check``), never from the home server's word.
A group message counts at the later of its time and its arrival, for its device and its sender's membership.
What members write, and each epoch's key,
travel as ``sealed`` messages. Keys and what was read live only in this profile's ``private_groups.db`` (0600).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from murmur.client.api import ApiError, MurmurClient, ServerUnreachable
from murmur.client.conversations import Conversations, Recipient, _bytes_of, recipient_of
from murmur.client.devices import publish_as_device, publish_signed, signed_as_device
from murmur.client.group_authority import check_sealer, keep_own, listed, signed_state
from murmur.client.group_checks import KEPT_EPOCHS, Folded, epoch_named, member_roles, not_forgotten, was_member
from murmur.client.identity_check import checked_identity
from murmur.client.lookups import NOT_LOOKED_UP, Lookups, failing
from murmur.client.sealed_feed import Cursor, pages, unreadable
from murmur.direct import current_at, device_in_log
from murmur.errors import ConfigError, MurmurError, Refused
from murmur.group_chains import GroupKeys
from murmur.group_epoch import MAX_EPOCH, Device, Link, distinct, members_digest
from murmur.keys import KEY_HEX, Identity, fingerprint
from murmur.kinds.group_drafts import about_person_draft, create_draft
from murmur.kinds.group_fold import INVITE, MEMBER, GroupState
from murmur.message import Message, now_ms
from murmur.private_group import (
    Chunk,
    GroupRead,
    epoch_messages,
    group_inner,
    header_of,
    open_group,
    read_epoch,
    seal_group,
    sealed_chunk,
)
from murmur.sealing import public_hex
from murmur.store.group_inbox import GroupInbox, GroupPost, Unread
from murmur.store.inbox import relock
from murmur.store.vault import is_sealed
from murmur.validate import check

GROUPS_FILE = "private_groups.db"
log = logging.getLogger("murmur.client.private_groups")
CHUNKS = ""  # the ``group`` under which epoch chunks not started yet are kept
# Refusals that may turn out well later (an epoch not held yet, or held after one not come yet, a view of the
# members behind the changer's, a sender's log not arrived yet): tried again, less and less often, then no more.
GROUP_UNKNOWN = "group_unknown"  # an epoch key for a group whose public messages have not reached the server yet
RETRIED = ("wrong_epoch", "epoch_fork", "epoch_jump", "members_differ", "forged_sender", GROUP_UNKNOWN, NOT_LOOKED_UP)
MODERATING = ("owner", "moderator")
Item = tuple[bytes, int, int | None]  # a feed's message, its position, and when it reached the home server

__all__ = ["GroupPost", "GroupSync", "PrivateGroups", "Unread", "answered_group", "groups_path"]
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Run:
    """One command or sync of a device's private groups (``_command``), and what it looked up: each identity's
    log at most once (a 200-member group's post stays far under its home server's rate limit), and of the names
    messages give (a group a chunk names, a message's sender) at most the budget (``murmur.client.lookups``)."""

    owner: object
    lookups: Lookups = field(default_factory=Lookups)


_RUN: ContextVar[Run | None] = ContextVar("private_groups_run", default=None)


def _command(
    method: Callable[Concatenate[PrivateGroups, P], Awaitable[R]],
) -> Callable[Concatenate[PrivateGroups, P], Awaitable[R]]:
    """A command of ``PrivateGroups``: it and every command it calls share one ``Run`` (its task's: two commands at
    once, the TUI's screens and its live stream, each look up on their own)."""

    @functools.wraps(method)
    async def run(self: PrivateGroups, *args: P.args, **kwargs: P.kwargs) -> R:
        held = _RUN.get()
        if held is not None and held.owner is self:
            return await method(self, *args, **kwargs)
        token = _RUN.set(Run(self))
        try:
            return await method(self, *args, **kwargs)
        finally:
            _RUN.reset(token)

    return run


def groups_path(key_path: Path) -> Path:
    """Where a profile keeps its private groups' keys and messages: beside its key."""
    return key_path.parent / GROUPS_FILE


@dataclass(frozen=True)
class GroupSync:
    """What one ``sync`` did: how many messages it read, and what it kept unread (each with its reason)."""

    read: int
    unread: list[Unread] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # member devices left out of a set (signing key: why)
    failed: dict[str, str] = field(default_factory=dict)  # groups not read at this sync (id: why), read at the next


@dataclass(frozen=True)
class Change:
    """A membership change: the public messages it published and the epoch it started."""

    published: list[str]
    epoch: int
    devices: int
    skipped: dict[str, str] = field(default_factory=dict)  # members or devices left out of the epoch (key: why)


class PrivateGroups:
    """One device's private groups: its keys (through ``talks``, its direct messages), its home server, its store."""

    def __init__(self, talks: Conversations, device: Identity, store: GroupInbox) -> None:
        self.talks = talks
        self.device = device
        self.store = store
        # One read or write at a time: a sync reads a group's keys, moves its chains and saves them; another at
        # once (the TUI's screens and its live stream may all ask) would save over a chain the first moved, and
        # this device could then write twice with one message key.
        self._busy = asyncio.Lock()
        # Member devices some log (or view) lists with a key another device shares: left out of every set made or
        # matched here (``distinct``), and said, rather than refusing the set.
        self.skipped: dict[str, str] = {}

    @classmethod
    def of_profile(
        cls, api: MurmurClient | None, key_path: Path, device: Identity, passphrase: str | None = None
    ) -> PrivateGroups:
        """The profile's private groups; ``passphrase`` (the direct messages' store's, when that is sealed) seals
        this store too: one left plain from before the passphrase was set is sealed now, at its first opening."""
        talks = Conversations.of_profile(api, key_path, passphrase)
        try:
            return cls.beside(talks, key_path, device, passphrase)
        except BaseException:
            talks.close()
            raise

    @classmethod
    def beside(cls, talks: Conversations, key_path: Path, device: Identity, passphrase: str | None) -> PrivateGroups:
        """The profile's private groups with its direct messages open already (``talks``, the TUI's), sealed as
        ``of_profile`` says; closing them closes ``talks`` too."""
        path = groups_path(key_path)
        if passphrase is not None and not is_sealed(path):
            if not path.exists():  # made empty, then sealed at once: opened with a passphrase it would stay plain
                GroupInbox.open(path).close()
            relock(path, None, passphrase)
        return cls(talks, device, GroupInbox.open(path, passphrase))

    def close(self) -> None:
        self.store.close()
        self.talks.close()

    @property
    def api(self) -> MurmurClient:
        return self.talks.api

    @property
    def me(self) -> str:
        return self.talks._me()

    # -- the group and its member devices -------------------------------------------------------------------------
    @_command
    async def group(self, typed: str) -> dict[str, Any]:
        """The private group ``typed`` (an id or a prefix) names (``resolve``); refused when it is not private."""
        found = await answered_group(self.api, self.resolve(typed), typed)
        try:
            await self._state(str(found["id"]))  # private as its creator signed it, not as the server says
        except Refused as refusal:
            if refusal.code != "wrong_group":
                raise
            public = f"{found['name']!r} is a public group: its posts are not sealed (`murmur post --group`)."
            raise ConfigError(public) from refusal
        return found

    def resolve(self, typed: str) -> str:
        """The group id ``typed`` names: whole, itself; a prefix, the one private group this device knows by it (holds
        keys of, or pinned), so the home server never picks among them; none known, the prefix as typed, for the
        server to resolve (its answer is checked against it). Refused when it names several known here."""
        token = typed.strip().lower()
        if KEY_HEX.fullmatch(token):
            return token
        known = self.store.known_groups(token)
        if len(known) > 1:
            raise ConfigError(f"{typed[:64]!r} names {len(known)} private groups this device knows"
                              f" ({', '.join(g[:12] for g in known)}): give more of its id.")  # fmt: skip
        return known[0] if known else token

    async def _identities(self, keys: Iterable[str], *, sealing: bool = False) -> list[Recipient]:
        """The identities the member ``keys`` speak for, once each. A member nothing can be sealed to (a bare key,
        every device removed, a log that does not resolve here) is left out and said (``skipped``). With
        ``sealing`` (an epoch is made for them), a member whose devices this device pinned is never left out on
        its server's word (``identity_unverified``): the epoch is refused instead, so no one is shut out quietly."""
        found: dict[str, Recipient] = {}
        for key in dict.fromkeys(keys):
            try:
                r = recipient_of(key, await self._view(key))
            except (ConfigError, Refused) as exc:
                self.skipped[key] = f"member {fingerprint(key)} left out of the group's epochs: {exc.message}"
                if sealing and isinstance(exc, Refused):
                    raise
                continue
            found.setdefault(r.identity, r)
        return list(found.values())

    def _devices(self, people: Iterable[Recipient]) -> list[Device]:
        return self._distinct(Device(k, x) for r in people for k, x in zip(r.keys, r.devices, strict=True))

    def _distinct(self, devices: Iterable[Device]) -> list[Device]:
        kept, left_out = distinct(devices)
        self.skipped.update({d.signing: why for d, why in left_out.items()})
        return kept

    async def _state(self, group: str, *, sealing: bool = False) -> GroupState:
        """The group as this device folds it from its signed messages (``signed_state``: never the home server's
        word on who is in it), its members pinned: a change since they were last shown is recorded, to be shown."""
        state = await signed_state(self.api, group, self.store, self._log, strict=sealing)
        self.store.pin_members(group, member_roles(state), now_ms())
        return state

    async def _members(self, group: str, *, sealing: bool = False) -> tuple[GroupState, list[Recipient]]:
        state = await self._state(group, sealing=sealing)
        return state, await self._identities(member_roles(state), sealing=sealing)

    def _role(self, state: GroupState) -> str:
        """This device's role in the group, as its signed messages give it (the device key signs changes)."""
        held = state.person(self.device.public_key)
        return held.role if held is not None and held.status == MEMBER else ""

    async def _candidate_sets(self, state: GroupState) -> list[list[Device]]:
        """The member device sets the group had at each change of its membership or of a member's devices, newest
        first: an epoch names one of them by its member digest. Each set is the members then, each with the
        devices its identity's log lists as current then, so an epoch made before a member added or removed a
        device still opens on a device catching up weeks later."""
        spans = state.spans
        logs = {key: await self._log(key) for key in {k for k, _, _ in spans}}
        moments = {start for _, start, _ in spans} | {int(end) for _, _, end in spans if end}
        for log in logs.values():
            for d in listed(log):
                moments |= {d[t] for t in ("added_at", "removed_at", "disputed_at") if type(d.get(t)) is int}
        sets = []
        for at in sorted(moments, reverse=True):
            inside = {k for k, start, end in spans if start <= at and (end is None or at < int(end))}
            held = {str(log["identity"]): log for k in inside if (log := logs[k]) is not None}
            found = self._distinct(Device(d["key"], d["x25519"]) for log in held.values() for d in listed(log)
                                   if _current_at(d, at))  # fmt: skip
            if found and found not in sets:
                sets.append(found)
        return sets

    async def _rejoined(self, state: GroupState) -> bool:
        """Whether this identity was removed from the group once (a span of its ended): invited again, it missed
        the epochs made while it was out, so the next one it is sealed in may skip numbers."""
        for key, _, end in state.spans:
            log = await self._log(key) if end is not None else None
            if log is not None and log.get("identity") == self.me:
                return True
        return False

    async def _log(self, key: str) -> dict[str, Any] | None:
        """The identity log ``key`` speaks for, as this device resolves it from the signed key events (None: a bare
        key, or none known): the one place private groups read members' devices from a log. Never the home server's
        own view of the log, which a hostile server could fill with a device of its own."""
        view = await self._view(key)
        return None if view is None or view.get("bare") else view

    async def _view(self, key: str, *, named: bool = False) -> dict[str, Any] | None:
        """``key``'s identity as resolved here, looked up once for the whole command (``Run``); ``named``: a name
        a message gives, counted against the sync's budget (``not_looked_up`` once it is spent)."""
        lookups = self._run().lookups
        look = functools.partial(checked_identity, self.api, key, self.talks.inbox, at=now_ms())
        view = await (lookups.budgeted if named else lookups.once)(("identity", key), look)
        if view is not None and not view.get("bare"):  # one log, whichever of its keys asked: asked for once
            lookups.keep(("identity", str(view["identity"])), view)
        return view

    def _run(self) -> Run:
        held = _RUN.get()
        return held if held is not None and held.owner is self else Run(self)  # outside a command: nothing kept

    # -- changes ---------------------------------------------------------------------------------------------------
    @_command
    async def create(self, name: str, *, description: str = "", rules: str = "") -> str:
        """Publish a private group (you own it) and its first epoch, sealed to your devices; its id."""
        self.talks._me()  # an identity, or nothing to seal to (a bare key: told what to do)
        draft = create_draft(name, description=description, rules=rules, join=INVITE)
        result = await publish_as_device(self.api, self.device, draft)
        _published(result, "the group")
        group = str(result["id"])
        await self._new_epoch(group, name, GroupKeys(group))
        return group

    @_command
    async def invite(self, typed: str, keys: Sequence[str]) -> Change:
        """Invite each of ``keys`` (identities or device keys) and start an epoch sealed to every member device."""
        found = await self._moderated(typed)
        people = [await self.talks.recipient(k) for k in dict.fromkeys(keys)]
        published = [await self._about(found["id"], "group_approve", r.identity) for r in people]
        return await self._changed(found, published)

    @_command
    async def remove(self, typed: str, key: str) -> Change:
        """Remove the member ``key`` names and start an epoch without their devices."""
        found = await self._moderated(typed)
        who = await self.talks.recipient(key)
        state = await self._state(found["id"])
        subject = None
        for key in member_roles(state):
            if any(r.identity == who.identity for r in await self._identities([key])):
                subject = key
        if subject is None:
            raise ConfigError(f"{fingerprint(who.identity)} is not a member of {found['name']!r}.")
        if subject == state.owner:
            raise ConfigError("The owner cannot be removed from their group.")
        return await self._changed(found, [await self._about(found["id"], "group_remove", subject)])

    async def _moderated(self, typed: str) -> dict[str, Any]:
        found = await self.group(typed)
        if self._role(await self._state(found["id"])) not in MODERATING:
            raise ConfigError(f"Only the owner and moderators of {found['name']!r} invite and remove members.")
        await self.sync(found["id"])
        stored = self.store.keys(found["id"])
        if stored is None:
            raise ConfigError("This device holds no key of the group yet: `murmur timeline group:ID` reads it once one"
                              " has come.")  # fmt: skip
        head = GroupKeys.from_json(stored).current()
        if head is not None and head.number >= MAX_EPOCH:  # checked before any change is published
            raise ConfigError(f"{found['name']!r} has used every epoch number: its membership cannot change again.")
        return found

    async def _about(self, group: str, kind: str, subject: str) -> str:
        return str((await self.act(group, about_person_draft(kind, group, subject)))["id"])

    async def act(self, group: str, draft: dict[str, Any]) -> dict[str, Any]:
        """Sign and publish a membership or moderation act about ``group`` (``draft``), kept here once its server
        takes it: this device folds its own act into the group whatever its server's log shows afterwards, so
        that server cannot cancel a removal or a dismissal by leaving it out. The server's answer."""
        message = await signed_as_device(self.api, self.device, draft)
        result = await publish_signed(self.api, message)
        _published(result, "the membership change")
        keep_own(self.store, group, message)
        return result

    async def _changed(self, found: dict[str, Any], published: list[str]) -> Change:
        keys = GroupKeys.from_json(self.store.keys(found["id"]))
        try:
            number, devices = await self._new_epoch(found["id"], str(found["name"]), keys)
        except Refused as refusal:
            if refusal.code != "identity_unverified":
                raise
            raise Refused(refusal.code, f"The change was published, but no epoch was started for it yet (the next"
                          f" sync tries again): {refusal.message}") from refusal  # fmt: skip
        return Change(published, number, devices, dict(self.skipped))

    async def _new_epoch(self, group: str, name: str, keys: GroupKeys) -> tuple[int, int]:
        """Start the next epoch for the group's member devices now; keep it here with its chunks, then send them
        (what the server does not take now is sent again at the next sync or command: ``_send_unsent``)."""
        _, people = await self._members(group, sealing=True)
        devices = self._devices(people)
        held = keys.current()
        link = Link(group, held.number, held.digest) if held is not None else None
        visibility = await self.talks.audience_for(people)
        epoch, chunks = epoch_messages(group, devices, link, self.talks.x25519, visibility, now_ms())
        for message in chunks:
            check(message)
        keys.start_epoch(epoch, devices, sealed_by=public_hex(self.talks.x25519))
        self.store.start_epoch(group, name, keys.to_json(), [(m["id"], _bytes_of(m)) for m in chunks])
        await self._send_unsent()
        return epoch.number, len(devices)

    async def _send_unsent(self) -> None:
        """Send the outbox (epoch chunks, then what was written in their epochs) oldest first: the same signed
        message again is a ``duplicate``, taken. Unreachable or busy, it stays, sent again next time; refused for
        good, it leaves the outbox and the refusal is raised (told once, not retried forever)."""
        for outer_id, raw in self.store.unsent():
            result = await self.api.publish(json.loads(raw))
            if result.get("status") != "refused":
                self.store.sent(outer_id)
                continue
            post = self.store.dropped(outer_id)
            _published(result, "an epoch key" if post is None else f"your {post.kind} {_quoted(post.text)}")

    async def _send_kept(self) -> None:
        """``_send_unsent`` for a sync, which reads on when the server will not take them now: an outbox message
        the server holds after all is found in its feed (``_read_all``)."""
        try:
            await self._send_unsent()
        except (ApiError, ServerUnreachable) as exc:
            log.info("the outbox stays for the next sync: %s", exc.message)

    # -- writing ---------------------------------------------------------------------------------------------------
    @_command
    async def post(
        self, typed: str, text: str, *, reply_to: str | None = None, react_to: str | None = None
    ) -> GroupPost:
        """Seal a post (a reply with ``reply_to``, a reaction ``text`` with ``react_to``: ids, or 8+ hex digits of
        one, of messages read here) for the group's members, in the newest epoch this device holds, and send it."""
        try:
            found = await self.group(typed)
        except ApiError as exc:
            raise _not_sent(exc) from exc
        async with self._busy:
            return await self._post(found, text, reply_to, react_to)

    async def _post(self, found: dict[str, Any], text: str, reply_to: str | None, react_to: str | None) -> GroupPost:
        group, name = str(found["id"]), str(found["name"])
        try:  # what the post needs checked first: the group read, its members and their devices now
            await self._sync(group)
            stored = self.store.keys(group)
            if stored is None:
                raise ConfigError(f"This device holds no key of {name!r}: it was never invited, or its key has not"
                                  " come.")  # fmt: skip
            keys = GroupKeys.from_json(stored)
            reply_to = self.held(group, reply_to) if reply_to else None
            react_to = self.held(group, react_to) if react_to else None
            kind = "reaction" if react_to else "post"
            state, people = await self._members(group)
            if self.me not in {r.identity for r in people}:  # its older epochs' keys are still here: write in none
                raise Refused("not_member", f"You are not a member of {name!r} (any more): nothing was sent.")
            keys = await self._up_to_date(found, keys, people, self._role(state))
            visibility = await self.talks.audience_for(people)
        except ApiError as exc:
            raise _not_sent(exc) from exc
        inner = group_inner(kind, self.me, self.device.public_key, text, now_ms(), reply_to=reply_to, target=react_to)
        message = seal_group(keys, self.device, inner, visibility)
        check(message)
        held = keys.current()
        post = GroupPost(inner["id"], group, kind, self.me, self.device.public_key, text, inner["created_at"],
                         reply_to, react_to, held.number if held else 0)  # fmt: skip
        # The chain moved: kept with the message in the outbox before anything is sent, so a lost answer or a
        # crash leaves it to be sent again (never an index written twice, never its own message read as a replay).
        self.store.write(post, message["id"], _bytes_of(message), name, keys.to_json())
        try:
            await self._send_unsent()
        except (ApiError, ServerUnreachable) as exc:
            raise _still_kept(exc, kind) from exc
        return post

    async def _up_to_date(
        self, found: dict[str, Any], keys: GroupKeys, people: list[Recipient], role: str
    ) -> GroupKeys:
        """``keys`` when their newest epoch was made for the member devices the group has now. Otherwise (a member
        removed, a device gone from an identity, and no new epoch seen yet) a removed device could read what is
        written there: an owner or moderator starts a new epoch first; anyone else is refused."""
        held = keys.current()
        if held is not None and held.members == members_digest(self._devices(people)):
            return keys
        group, name = str(found["id"]), str(found["name"])
        if role not in MODERATING:
            raise Refused("members_changed", f"The members of {name!r} (or their devices) changed since its newest"
                          " epoch: nothing was sent, so no one removed can read it. It can be sent once an owner or"
                          " moderator starts a new epoch (their next sync, change or post does).")  # fmt: skip
        await self._new_epoch(group, name, keys)
        return GroupKeys.from_json(self.store.keys(group))

    # -- reading ---------------------------------------------------------------------------------------------------
    @_command
    async def sync(self, only: str | None = None) -> GroupSync:
        """Fetch the epoch chunks sealed to this device and the messages of each private group it holds keys of
        (or of ``only``), and read them here, oldest epoch first and each sender's chain in order; what cannot be
        read is kept with its reason (``wrong_epoch`` ones are read once their epoch comes)."""
        async with self._busy:
            return await self._sync(only)

    async def _sync(self, only: str | None) -> GroupSync:
        self.talks._me()
        await self._send_kept()
        unread: list[Unread] = []
        states = Folded(self._state)  # each group's signed log, fetched and folded once a sync
        self.store.tick()
        failed: dict[str, str] = {}
        for group in self._held(only):  # first: what strangers send next is counted (``_chunk_state``), these not
            await _one_group(group, failed, states.of(group), alone=only is not None)
        for earlier in self.store.unread(CHUNKS, RETRIED, due=True):
            await self._take_chunk(earlier.raw, earlier.seq, earlier.arrived, unread, states)
        await self._chunks(unread, states)
        read = 0
        for group, name in self.store.groups():  # with those whose first key came in these chunks
            if (only is None or group == only) and group not in failed:
                work = self._read_group(group, name, unread, states)
                read += await _one_group(group, failed, work, alone=only is not None) or 0
        return GroupSync(read, unread, dict(self.skipped), failed)

    def _held(self, only: str | None) -> list[str]:
        return [group for group, _ in self.store.groups() if only is None or group == only]

    async def _read_group(self, group: str, name: str, unread: list[Unread], states: Folded) -> int:
        read = await self._messages(group, name, unread, states)
        await self._renew(group, states)
        self._forget_old(group, name)
        return read

    def _forget_old(self, group: str, name: str) -> None:
        """Delete the keys of every epoch older than the one before the newest held (``KEPT_EPOCHS``), once the
        sync has read what came for them: a late message of the epoch just replaced still reads, an older one is
        ``too_old``, and a copy of this device's store taken later opens nothing of those epochs."""
        keys = GroupKeys.from_json(self.store.keys(group))
        head = keys.current()
        if head is not None and len(keys.epochs) > 1:
            floor = head.number - KEPT_EPOCHS + 1
            if any(e.number < floor for e in keys.epochs.values()):
                keys.forget_before(floor)
                self.store.forget_epochs(group, name, keys.to_json(), floor)

    async def _renew(self, group: str, states: Folded) -> None:
        """As the group's owner or a moderator, start a new epoch when the newest one was made for other member
        devices than the group has now: a member added a device (it reads from this epoch on) or removed one
        (it reads nothing from this epoch on). Done at every sync, so no one waits for a membership change."""
        state = await states.of(group)
        role = self._role(state)
        if role not in MODERATING:
            return
        keys = GroupKeys.from_json(self.store.keys(group))
        head = keys.current()
        if head is None or head.number >= MAX_EPOCH:  # no epoch to follow, or no number left for the next
            return
        people = await self._identities(member_roles(state))
        if self.me in {r.identity for r in people}:
            try:
                await self._up_to_date({"id": group, "name": state.name}, keys, people, role)
            except Refused as refusal:  # a member or a moderator unproven now: said, and tried at the next sync
                if refusal.code != "identity_unverified":
                    raise
                self.skipped[group] = f"No new epoch for {state.name!r} yet: {refusal.message}"

    async def _pages(self, feed: str, group: str | None) -> tuple[list[Item], Cursor]:
        """What the home server holds for ``feed`` past its cursor, and the cursor past it: the caller saves that
        cursor only once every item is kept (read, or unread with its reason), so a failure midway fetches them
        again (items kept already are skipped as seen) rather than losing the rest for good. The cursor names the
        message at its position, so a home server restored from a backup is read again from the start
        (``murmur.client.sealed_feed``) rather than past what it now holds."""
        cursor, found = self.store.cursor(feed), []
        async for page in pages(self.api, cursor, group=group):
            found += [(_bytes_of(i.get("message")), int(i["seq"]), _arrived(i)) for i in page.items]
            cursor = page.cursor
        return found, cursor

    async def _chunks(self, unread: list[Unread], states: Folded) -> None:
        feed = f"chunks {self.api.base_url}"
        items, cursor = await self._pages(feed, None)
        with self.store.batch():
            for raw, seq, arrived in items:
                await self._take_chunk(raw, seq, arrived, unread, states)
            self.store.set_cursor(feed, cursor)

    async def _take_chunk(
        self, raw: bytes, seq: int, arrived: int | None, unread: list[Unread], states: Folded
    ) -> None:
        """Open an epoch chunk sealed to this device and start its epoch, once its sealer is found to have been
        the group's owner or a moderator when it was sealed (``check_sealer``); else keep it with the reason,
        whatever the reason: one chunk never stops the feed (``murmur.client.sealed_feed``)."""
        try:
            outer = check(raw)
            opened = sealed_chunk(outer, self.talks.x25519)
        except Refused:  # not a chunk this device can open (a direct message's refusals are `murmur dm`'s)
            return
        if opened is None:
            return
        try:
            chunk = Chunk(read_epoch(opened.plaintext), opened.sender)
            group = chunk.epoch.group
            state = await self._chunk_state(group, states)
            await check_sealer(list(state.roles), chunk.sealed_by, outer.created_at, arrived, self._log)
            keys = GroupKeys.from_json(self.store.keys(group)) if self.store.keys(group) else GroupKeys(group)
            not_forgotten(chunk.epoch.number, self.store.forgotten(group))
            sets = [s for s in await self._candidate_sets(state) if members_digest(s) == chunk.epoch.members]
            if not sets:
                raise Refused("members_differ", "An epoch key made for member devices this device does not know of"
                              " yet; tried again at the next sync.")  # fmt: skip
            try:
                keys.start_epoch(chunk.epoch, sets[0], sealed_by=chunk.sealed_by)
            except Refused as refusal:
                if refusal.code != "epoch_jump" or not await self._rejoined(state):
                    raise
                keys.start_epoch(chunk.epoch, sets[0], sealed_by=chunk.sealed_by, rejoined=True)
        except Refused as exc:
            refusal = exc
        except ApiError as exc:
            refusal = Refused(GROUP_UNKNOWN, f"The group is not known here yet: {exc.message}")
        except MurmurError:  # this device's or its server's fault, not the chunk's: the sync stops, nothing lost
            raise
        except Exception as exc:  # a fault no rule names: this chunk's refusal, never every later sync's end
            refusal = unreadable(exc)
        else:
            self.store.save_keys(group, state.name, keys.to_json())
            self.store.forget_unread(outer.id)
            self.store.wake(group)
            return
        item = Unread(outer.id, CHUNKS, refusal.code, refusal.message, raw, seq, arrived)
        self.store.keep_unread(item)
        unread.append(item)

    async def _chunk_state(self, group: str, states: Folded) -> GroupState:
        """The group a chunk names, folded: one this device holds keys of as the sync folds it; any other (a group
        it is being invited to, or one a stranger made up) counted against the sync's look-ups (``Run``)."""
        if self.store.keys(group) is not None:
            return await states.of(group)
        return await self._run().lookups.budgeted(("group", group), functools.partial(states.of, group))

    async def _messages(self, group: str, name: str, unread: list[Unread], states: Folded) -> int:
        retried = self.store.unread(group, RETRIED, due=True)
        feed = f"group {group} {self.api.base_url}"
        fresh, cursor = await self._pages(feed, group)
        with self.store.batch():
            read = await self._read_all(group, name, [(u.raw, u.seq, u.arrived) for u in retried] + fresh,
                                        {u.outer_id for u in retried}, unread, states)  # fmt: skip
            self.store.set_cursor(feed, cursor)
        return read

    async def _read_all(
        self, group: str, name: str, items: list[Item], again: set[str], unread: list[Unread], states: Folded
    ) -> int:
        batch: list[tuple[Message, bytes, int, int | None]] = []
        for raw, seq, arrived in items:
            try:
                batch.append((check(raw), raw, seq, arrived))
            except Refused as refusal:
                item = Unread(_digest(raw), group, refusal.code, refusal.message, raw, seq, arrived)
                self.store.keep_unread(item)
                unread.append(item)
        keys = GroupKeys.from_json(self.store.keys(group))
        read = 0
        logs: dict[str, dict[str, Any] | None] = {}
        spans = await self._spans(await states.of(group)) if batch else {}
        for outer, raw, seq, arrived in sorted(batch, key=lambda b: _place(keys, b[0], b[2])):
            if outer.id not in again and self.store.seen(outer.id):
                continue
            if self.store.outgoing(outer.id) is not None:  # its own, sent before its answer came: the server has it
                self.store.sent(outer.id)
                continue
            before = keys.to_json()
            try:
                not_forgotten(epoch_named(outer), self.store.forgotten(group))
                got = open_group(keys, outer)
                await self._check_sender(got, logs, arrived)
                was_member(spans.get(got.inner.sender, []), got.inner.created_at, arrived)
                if self.store.holds(got.inner.id):
                    raise Refused("replayed", "Its group message was read already, under another sealed message.")
            except Refused as exc:
                refusal = exc
            except MurmurError:  # this device's or its server's fault, not the message's: nothing is lost
                raise
            except Exception as exc:  # a fault no rule names: this message's refusal, never the feed's end
                refusal = unreadable(exc)
            else:
                refusal = None
            if refusal is not None:
                keys = GroupKeys.from_json(before)  # nothing changes on a refusal
                item = Unread(outer.id, group, refusal.code, refusal.message, raw, seq, arrived)
                self.store.keep_unread(item)
                unread.append(item)
                continue
            i = got.inner
            post = GroupPost(i.id, group, i.kind, i.sender, i.device, i.text, i.created_at, i.reply_to, i.target,
                             got.header.epoch, fresh=i.sender != self.me)  # fmt: skip
            self.store.add(post, outer.id, name, keys.to_json())
            read += 1
        return read

    async def _spans(self, state: GroupState) -> dict[str, list[tuple[int, int | None]]]:
        """When each identity was a member of the group, by the spans the signed messages give the members' keys."""
        found: dict[str, list[tuple[int, int | None]]] = {}
        for key, start, end in state.spans:
            for r in await self._identities([key]):
                found.setdefault(r.identity, []).append((start, end))
        return found

    async def _check_sender(self, got: GroupRead, logs: dict[str, dict[str, Any] | None], arrived: int | None) -> None:
        """The writing device was its sender's at the message's time, and still when it reached the home server
        (a removed or stolen device could date its message before its removal: judged as a direct message's)."""
        sender = got.inner.sender
        if sender not in logs:  # a name the message gives: counted against the sync's look-ups
            view = await self._view(sender, named=True)
            logs[sender] = None if view is None or view.get("bare") else view
        current_at(device_in_log(sender, got.inner.device, logs[sender]), got.inner.created_at, arrived)

    # -- this device only ------------------------------------------------------------------------------------------
    def held(self, group: str, typed: str) -> str:
        """The id of the group's message ``typed`` (its id, or 8+ hex digits of it) names, read on this device."""
        token = typed.strip().lower()
        found = {p.id for p in self.store.posts(group, limit=10_000) if len(token) >= 8 and p.id.startswith(token)}
        if len(found) != 1:
            how = "is ambiguous" if found else "names no message of the group read on this device"
            raise ConfigError(f"{typed[:64]!r} {how}; give 8 or more hex digits of an id from `murmur timeline`.")
        return found.pop()

    def timeline(self, group: str, limit: int = 50) -> list[GroupPost]:
        return self.store.posts(group, limit)

    def search(self, text: str) -> list[GroupPost]:
        """Messages of private groups holding every word of ``text``: searched here, never on a server."""
        return self.store.search(text)


async def answered_group(api: MurmurClient, wanted: str, typed: str) -> dict[str, Any]:
    """The home server's answer for the group ``wanted`` (an id, or a prefix: ``PrivateGroups.resolve``) names,
    refused when its id does not start with it."""
    found = await api.group(wanted)
    if not str(found["id"]).startswith(wanted):
        raise ConfigError(f"The server answered group {typed!r} with another group; nothing was done.")
    return found


async def _one_group(group: str, failed: dict[str, str], work: Awaitable[R], *, alone: bool) -> R | None:
    """``work`` on one group; when its server will not answer for it now (a rate limit, an error), or its signed
    log is refused, that group is left for the next sync (``failed``, saying why) and the others are read. A sync
    of that group ``alone`` (a command about it) stops there, saying why."""
    try:
        return await work
    except (ApiError, Refused) as exc:
        if alone:
            raise
        log.info("group %s is not read at this sync: %s", group[:16], exc.message)
        failed[group] = exc.message
        return None


def _current_at(device: dict[str, Any], at: int) -> bool:
    try:
        current_at(device, at)
    except Refused:
        return False
    return True


def _place(keys: GroupKeys, outer: Message, seq: int) -> tuple[int, str, int, int]:
    """Where a message sits for reading: by epoch, then each sender's chain in index order; what cannot be placed
    (no key for its epoch yet) last, in log order."""
    try:
        header = header_of(keys, outer)
    except Refused:
        return (1, "", 0, seq)
    return (0, f"{header.epoch:016d}{header.digest}{header.sender}", header.index, seq)


def _arrived(item: dict[str, Any]) -> int | None:
    """When a feed's item reached the home server, if it said (ms, its clock)."""
    at = item.get("received_at")
    return at if type(at) is int else None


def _published(result: dict[str, Any], what: str) -> None:
    if result.get("status") == "refused":
        raise Refused(str(result.get("code")), f"Your server refused {what}: {result.get('reason')}")


def _not_sent(exc: ApiError) -> ApiError:
    """A failure before a post was written, saying so: when its server is not answering now (a rate limit, a
    server error), that nothing was sent and to post again later; otherwise the server's word as it came."""
    if not failing(exc):
        return exc
    said = (f"{exc.message} Your server is not answering the look-ups a post needs (the group's members and their"
            " devices) now: nothing was sent; post it again in a minute.")  # fmt: skip
    return ApiError(exc.status, exc.code, said)


def _still_kept(exc: ApiError | ServerUnreachable, kind: str) -> ApiError | ServerUnreachable:
    """The failure to send a message written here, saying it is not lost."""
    said = f"{exc.message} Your {kind} is kept on this device and sent again at the next sync or post."
    return ApiError(exc.status, exc.code, said) if isinstance(exc, ApiError) else ServerUnreachable(said)


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
