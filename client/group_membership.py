"""Who is in a private group, on this device: the group itself, its members as its signed messages fold
(``murmur.client.group_authority``), and each member's devices then and now, from their identities' logs as this
device resolves them (``murmur.client.identity_check``), never from the home server's word. The base of
``PrivateGroups`` (murmur/client/private_groups.py): its epochs, reading and writing build on it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from murmur.client.api import MurmurClient
from murmur.client.conversations import Conversations, Recipient, recipient_of
from murmur.client.group_authority import Folding, listed, signed_folding
from murmur.client.group_checks import member_roles
from murmur.client.identity_check import checked_identity
from murmur.client.lookups import Lookups
from murmur.direct import current_at
from murmur.errors import ConfigError, Refused
from murmur.group_epoch import Device, distinct
from murmur.keys import KEY_HEX, Identity, fingerprint
from murmur.kinds.group_fold import GroupState
from murmur.message import now_ms
from murmur.store.group_inbox import GroupInbox

MODERATING = ("owner", "moderator")
P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="GroupMembership")


@dataclass(frozen=True)
class Run:
    """One command or sync of a device's private groups (``command``), and what it looked up: each identity's
    log at most once (a 200-member group's post stays far under its home server's rate limit), and of the names
    messages give (a group a chunk names, a message's sender) at most the budget (``murmur.client.lookups``)."""

    owner: object
    lookups: Lookups = field(default_factory=Lookups)
    skipped: dict[str, str] = field(default_factory=dict)  # members or devices it left out of a set (key: why)


_RUN: ContextVar[Run | None] = ContextVar("private_groups_run", default=None)


def command(method: Callable[Concatenate[S, P], Awaitable[R]]) -> Callable[Concatenate[S, P], Awaitable[R]]:
    """A command of ``PrivateGroups``: it and every command it calls share one ``Run`` (its task's: two commands at
    once, the TUI's screens and its live stream, each look up on their own)."""

    @functools.wraps(method)
    async def run(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        held = _RUN.get()
        if held is not None and held.owner is self:
            return await method(self, *args, **kwargs)
        self._last = Run(self)
        token = _RUN.set(self._last)
        try:
            return await method(self, *args, **kwargs)
        finally:
            _RUN.reset(token)

    return run


class GroupMembership:
    """One device's private groups: its keys (through ``talks``, its direct messages), its home server, its store;
    and what every part of them asks: the group, its members, their roles and devices."""

    def __init__(self, talks: Conversations, device: Identity, store: GroupInbox) -> None:
        self.talks = talks
        self.device = device
        self.store = store
        # One read or write at a time: a sync reads a group's keys, moves its chains and saves them; another at
        # once (the TUI's screens and its live stream may all ask) would save over a chain the first moved, and
        # this device could then write twice with one message key.
        self._busy = asyncio.Lock()
        self._last = Run(self)  # the newest command's: what it left out is said until the next begins

    @property
    def skipped(self) -> dict[str, str]:
        """Members or devices left out of a set (key: why): a member nothing can be sealed to, devices some log
        lists with a key another device shares (``distinct``), an epoch that must wait; said rather than refusing
        the set. Of the command running (outside one, the last one's): each command starts with none, so a
        long-lived instance (the TUI's) never keeps saying what an earlier sync left out."""
        held = _RUN.get()
        return held.skipped if held is not None and held.owner is self else self._last.skipped

    @property
    def api(self) -> MurmurClient:
        return self.talks.api

    @property
    def me(self) -> str:
        return self.talks._me()

    # -- the group and its member devices -------------------------------------------------------------------------
    @command
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
        return (await self._folding(group, sealing=sealing)).state

    async def _folding(self, group: str, *, sealing: bool = False) -> Folding:
        """``_state``, with what it was folded from (``signed_folding``)."""
        folding = await signed_folding(self.api, group, self.store, self._log, strict=sealing,
                                       also=[self.device.public_key])  # fmt: skip
        self.store.pin_members(group, member_roles(folding.state), now_ms())
        return folding

    async def _members(self, group: str, *, sealing: bool = False) -> tuple[GroupState, list[Recipient]]:
        state = await self._state(group, sealing=sealing)
        return state, await self._identities(member_roles(state), sealing=sealing)

    def _role(self, state: GroupState) -> str:
        """The role this device acts with in the group: its identity's, as the group's signed messages and the
        identity's log give it (any current device of an owner or moderator signs changes)."""
        return state.role_of(self.device.public_key, now_ms())

    async def _sets_at(self, state: GroupState) -> list[tuple[int, list[Device]]]:
        """The member device sets the group had at each change of its membership or of a member's devices, each
        with its moment, newest first (empty ones and repeats kept): an epoch names one of them by its member
        digest. Each set is the members then, each with the devices its identity's log lists as current then, so
        an epoch made before a member added or removed a device still opens on a device catching up weeks later."""
        logs = await self._span_logs(state)
        moments = {start for _, start, _ in state.spans} | {int(end) for _, _, end in state.spans if end}
        for log in logs.values():
            for d in listed(log):
                moments |= {d[t] for t in ("added_at", "removed_at", "disputed_at") if type(d.get(t)) is int}
        return [(at, self._set_at(state, logs, at)) for at in sorted(moments, reverse=True)]

    async def _span_logs(self, state: GroupState) -> dict[str, dict[str, Any] | None]:
        return {key: await self._log(key) for key in {k for k, _, _ in state.spans}}

    def _set_at(self, state: GroupState, logs: dict[str, dict[str, Any] | None], at: int) -> list[Device]:
        """The group's member devices at ``at``: its members then, each with its identity's current devices then."""
        inside = {k for k, start, end in state.spans if start <= at and (end is None or at < int(end))}
        held = {str(log["identity"]): log for k in inside if (log := logs.get(k)) is not None}
        return self._distinct(Device(d["key"], d["x25519"]) for log in held.values() for d in listed(log)
                              if _current_at(d, at))  # fmt: skip

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


async def answered_group(api: MurmurClient, wanted: str, typed: str) -> dict[str, Any]:
    """The home server's answer for the group ``wanted`` (an id, or a prefix: ``GroupMembership.resolve``) names,
    refused when its id does not start with it."""
    found = await api.group(wanted)
    if not str(found["id"]).startswith(wanted):
        raise ConfigError(f"The server answered group {typed!r} with another group; nothing was done.")
    return found


def _current_at(device: dict[str, Any], at: int) -> bool:
    try:
        current_at(device, at)
    except Refused:
        return False
    return True
