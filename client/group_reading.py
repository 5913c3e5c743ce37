"""Reading a private group on this device: fetch the epoch chunks sealed to it and each group's messages, open
them oldest epoch first and each sender's chain in order, check each sender (a member, with a current device, at
the time), and keep what cannot be read yet with its reason, tried again later; then what this device holds
(a group's messages, search) without the network.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from murmur.client.api import ApiError
from murmur.client.conversations import _bytes_of
from murmur.client.group_authority import Folding, check_sealer
from murmur.client.group_checks import (
    EPOCH_WAITS,
    GROUP_UNKNOWN,
    IDENTITY_UNVERIFIED,
    KEPT_EPOCHS,
    NOT_ANSWERED,
    Folded,
    epoch_named,
    held_back,
    member_roles,
    not_forgotten,
    was_member,
)
from murmur.client.group_epochs import GroupEpochs
from murmur.client.group_gaps import LATE, Vouched, vouched
from murmur.client.group_membership import MODERATING, command
from murmur.client.group_witness import matched
from murmur.client.identity_check import rejudged
from murmur.client.lookups import NOT_LOOKED_UP
from murmur.client.sealed_feed import Cursor, pages, unreadable
from murmur.direct import current_at, device_in_log
from murmur.errors import ConfigError, MurmurError, Refused
from murmur.group_chains import GroupKeys
from murmur.group_epoch import MAX_EPOCH, Device
from murmur.kinds.group_fold import GroupState
from murmur.message import Message
from murmur.private_group import Chunk, GroupRead, header_of, open_group, read_epoch, sealed_chunk
from murmur.store.group_inbox import GroupPost, Unread
from murmur.validate import check

CHUNKS = ""  # the ``group`` under which epoch chunks not started yet are kept
# Refusals that may turn out well later (an epoch not held yet, or held after one not come yet, a view of the
# members behind the changer's, a sender's log not arrived yet or not resolving now): tried again, less and less
# often, then no more; those whose server did not answer at all are tried at every sync (``held_back``).
RETRIED = ("wrong_epoch", "unproven_epoch", "epoch_jump", "members_differ", "forged_sender", GROUP_UNKNOWN,
           NOT_LOOKED_UP, IDENTITY_UNVERIFIED, NOT_ANSWERED)  # fmt: skip
# a feed's message, its position, and when it is known to have reached the home server after (``arrival``)
Item = tuple[bytes, int, int | None]
R = TypeVar("R")
log = logging.getLogger("murmur.client.private_groups")


@dataclass(frozen=True)
class GroupSync:
    """What one ``sync`` did: how many messages it read, and what it kept unread (each with its reason)."""

    read: int
    unread: list[Unread] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # member devices left out of a set (signing key: why)
    failed: dict[str, str] = field(default_factory=dict)  # groups not read at this sync (id: why), read at the next


@dataclass(frozen=True)
class Started:
    """A group's keys with an epoch a chunk carried started in them, and the group's name as its log folds."""

    group_name: str
    keys: GroupKeys
    vouched: list[str] = field(default_factory=list)  # outer ids of late chunks the epoch vouched for, started too


class GroupReading(GroupEpochs):
    """Fetching and reading private groups on this device, and what it holds of them."""

    @command
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
        states = Folded(self._folding)  # each group's signed log, fetched and folded once a sync
        self.store.tick()
        failed: dict[str, str] = {}
        for group in self._held(only):  # first: what strangers send next is counted (``_chunk_state``), these not
            await _one_group(group, failed, states.of(group), alone=only is not None)
        # those whose look-up failed last: their failing again ends the sync's look-ups (``held_back``)
        for earlier in sorted(self.store.unread(CHUNKS, RETRIED, due=True), key=lambda u: u.code == NOT_ANSWERED):
            await self._take_chunk(earlier.raw, earlier.seq, earlier.arrived, unread, states, failed)
        await self._chunks(unread, states, failed)
        if any(u.group == CHUNKS and u.code == LATE for u in unread):  # it may fill the gap a later epoch left
            for jumped in self.store.unread(CHUNKS, ["epoch_jump"]):
                unread[:] = [u for u in unread if u.outer_id != jumped.outer_id]  # said once, as it ends this sync
                await self._take_chunk(jumped.raw, jumped.seq, jumped.arrived, unread, states, failed)
        read = 0
        for group, name in self.store.groups():  # with those whose first key came in these chunks
            if (only is None or group == only) and group not in failed:
                work = self._read_group(group, name, unread, states)
                read += await _one_group(group, failed, work, alone=only is not None) or 0
        for group in self._held(only):  # last: what every group sent is read before any look-up only to judge again
            if group not in failed:
                await self._rejudge(group)
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
            except Refused as refusal:  # a member, a moderator or an act unproven now: said, tried at the next sync
                if refusal.code not in EPOCH_WAITS:
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
            found += [(_bytes_of(i.get("message")), int(i["seq"]), page.arrived(i)) for i in page.items]
            cursor = page.cursor
        return found, cursor

    async def _chunks(self, unread: list[Unread], states: Folded, failed: dict[str, str]) -> None:
        feed = f"chunks {self.api.base_url}"
        items, cursor = await self._pages(feed, None)
        with self.store.batch():
            for raw, seq, arrived in items:
                await self._take_chunk(raw, seq, arrived, unread, states, failed)
            self.store.set_cursor(feed, cursor)

    async def _take_chunk(
        self, raw: bytes, seq: int, arrived: int | None, unread: list[Unread], states: Folded, failed: dict[str, str]
    ) -> None:
        """Open an epoch chunk sealed to this device and start its epoch, once its sealer is found to have been
        the group's owner or a moderator when it was sealed (``check_sealer``); else keep it with the reason,
        whatever the reason: one chunk never stops the feed (``murmur.client.sealed_feed``). When the group, or a
        person of it, could not be looked up (``held_back``), the group is behind: in ``failed`` with why, as a
        group this device holds keys of is, also at its first sync of the group; its other chunks are not asked
        for again in this sync."""
        try:
            outer = check(raw)
            opened = sealed_chunk(outer, self.talks.x25519)
        except Refused:  # not a chunk this device can open (a direct message's refusals are `murmur dm`'s)
            return
        if opened is None:
            return
        group, counted = "", True
        try:
            chunk = Chunk(read_epoch(opened.plaintext), opened.sender)
            group = chunk.epoch.group
            if group in failed:
                raise Refused(NOT_LOOKED_UP, f"Its group was not read at this sync: {failed[group]}")
            keys = await self._started(chunk, outer.created_at, arrived, states)
        except (ApiError, Refused) as exc:
            held = held_back(exc)
            refusal, counted = held.refusal, held.counted
            if held.behind and group:
                failed.setdefault(group, refusal.message)
        except MurmurError:  # this device's or its server's fault, not the chunk's: the sync stops, nothing lost
            raise
        except Exception as exc:  # a fault no rule names: this chunk's refusal, never every later sync's end
            refusal = unreadable(exc)
        else:
            self.store.save_keys(group, keys.group_name, keys.keys.to_json())
            for done in [outer.id, *keys.vouched]:
                self.store.forget_unread(done)
            unread[:] = [u for u in unread if u.outer_id not in {outer.id, *keys.vouched}]
            self.store.wake(group)
            return
        item = Unread(outer.id, CHUNKS, refusal.code, refusal.message, raw, seq, arrived)
        if self.store.keep_unread(item, counted=counted):
            unread.append(item)

    async def _started(self, chunk: Chunk, at: int, arrived: int | None, states: Folded) -> Started:
        """The group's keys with the chunk's epoch started, once its sealer and its member set are checked; and
        what the epoch witnessed of the acts this device cannot bound (``murmur.client.group_witness``)."""
        group = chunk.epoch.group
        folding = await self._chunk_state(group, states)
        state = folding.state
        await check_sealer(list(state.roles), chunk.sealed_by, at, arrived, self._log)
        keys = GroupKeys.from_json(self.store.keys(group)) if self.store.keys(group) else GroupKeys(group)
        not_forgotten(chunk.epoch.number, self.store.forgotten(group))
        witness = await matched(folding, chunk.epoch.members, at, self._sets_at, self._members_at)
        if witness is None:
            raise Refused("members_differ", "An epoch key made for member devices this device does not know of"
                          " yet; tried again at the next sync.")  # fmt: skip
        filled: list[Vouched] = []
        try:
            keys.start_epoch(chunk.epoch, witness.devices, sealed_by=chunk.sealed_by)
        except Refused as refusal:
            if refusal.code != "epoch_jump":
                raise
            if await self._rejoined(state):
                keys.start_epoch(chunk.epoch, witness.devices, sealed_by=chunk.sealed_by, rejoined=True)
            else:
                filled = await self._fill_gap(keys, chunk, folding)
                keys.start_epoch(chunk.epoch, witness.devices, sealed_by=chunk.sealed_by)
        if witness.decided:
            self.store.witness(group, chunk.epoch.number, witness.decided)
            states.forget(group)
        return Started(state.name, keys, [v.outer.id for v in filled])

    async def _fill_gap(self, keys: GroupKeys, chunk: Chunk, folding: Folding) -> list[Vouched]:
        """Start the epochs a late key refused that ``chunk``'s accepted epoch chains from (``group_gaps``), each
        for the member set it commits to; refused ``epoch_jump`` as before when they do not reach the newest held."""
        head = keys.current()
        filled = vouched(chunk.epoch, head.number if head else -1, self.store.unread(CHUNKS, [LATE]), self.talks.x25519)
        if not filled:
            raise Refused("epoch_jump", f"Epoch {chunk.epoch.number} does not follow the newest held here, and no"
                          " epoch key held back and refused fills the gap; tried again at the next sync.")  # fmt: skip
        for late in filled:
            witness = await matched(folding, late.chunk.epoch.members, late.outer.created_at, self._sets_at,
                                    self._members_at)  # fmt: skip
            if witness is None:
                raise Refused("members_differ", f"Epoch {late.chunk.epoch.number}, which a later epoch follows, was"
                              " made for member devices this device does not know of yet; tried again at the next"
                              " sync.")  # fmt: skip
            keys.start_epoch(late.chunk.epoch, witness.devices, sealed_by=late.chunk.sealed_by)
        return filled

    async def _members_at(self, state: GroupState, at: int) -> list[Device]:
        """The group's member devices at ``at``, as ``state`` folds its members."""
        return self._set_at(state, await self._span_logs(state), at)

    async def _chunk_state(self, group: str, states: Folded) -> Folding:
        """The group a chunk names, folded: one this device holds keys of as the sync folds it; any other (a group
        it is being invited to, or one a stranger made up) counted against the sync's look-ups (``Run``)."""
        if self.store.keys(group) is not None:
            return await states.folding(group)
        return await self._run().lookups.budgeted(("group", group), functools.partial(states.folding, group))

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
                self._keep(Unread(_digest(raw), group, refusal.code, refusal.message, raw, seq, arrived), unread)
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
                self._keep(Unread(outer.id, group, refusal.code, refusal.message, raw, seq, arrived), unread)
                continue
            i = got.inner
            post = GroupPost(i.id, group, i.kind, i.sender, i.device, i.text, i.created_at, i.reply_to, i.target,
                             got.header.epoch, fresh=i.sender != self.me)  # fmt: skip
            self.store.add(post, outer.id, name, keys.to_json())
            read += 1
        return read

    def _keep(self, item: Unread, unread: list[Unread]) -> None:
        """Keep a group's message unread with its reason, and report it, unless the store dropped it (one more
        naming an epoch this device holds no key for than the group keeps: counted, ``GroupInbox.no_key``)."""
        if self.store.keep_unread(item):
            unread.append(item)

    async def _rejudge(self, group: str) -> None:
        """Judge the group's messages held here again by their senders' logs as they resolve now (``rejudged``): one
        whose device a fork in its sender's log has since disputed is held back, kept but shown nowhere, and shown
        again once the rotation key settles the fork. A log this sync cannot look up (the budget spent, the server
        failing) or resolve leaves its messages as they were."""
        held = self.store.judged(group)
        views: dict[str, dict[str, Any] | None] = {}
        for sender in sorted({h.sender for h in held}):
            try:
                views[sender] = await self._view(sender, named=True)
            except (Refused, ApiError):
                continue
        self.store.hold(rejudged(held, views))

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


def _place(keys: GroupKeys, outer: Message, seq: int) -> tuple[int, str, int, int]:
    """Where a message sits for reading: by epoch, then each sender's chain in index order; what cannot be placed
    (no key for its epoch yet) last, in log order."""
    try:
        header = header_of(keys, outer)
    except Refused:
        return (1, "", 0, seq)
    return (0, f"{header.epoch:016d}{header.digest}{header.sender}", header.index, seq)


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
