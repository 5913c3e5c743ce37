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

The parts: who is in a group and with which devices (``murmur.client.group_membership``), its epochs
(``murmur.client.group_epochs``), reading it (``murmur.client.group_reading``); here, what a person asks for:
open the profile's groups, invite, remove, write.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from murmur.client.api import ApiError, MurmurClient, ServerUnreachable
from murmur.client.conversations import Conversations, _bytes_of
from murmur.client.group_checks import EPOCH_WAITS, member_roles
from murmur.client.group_epochs import Change
from murmur.client.group_membership import MODERATING, answered_group, command
from murmur.client.group_reading import RETRIED, GroupReading, GroupSync
from murmur.client.lookups import failing
from murmur.errors import ConfigError, Refused
from murmur.group_chains import GroupKeys
from murmur.group_epoch import MAX_EPOCH
from murmur.keys import Identity, fingerprint
from murmur.kinds.group_drafts import about_person_draft
from murmur.message import now_ms
from murmur.private_group import group_inner, seal_group
from murmur.store.group_inbox import GroupInbox, GroupPost, Unread
from murmur.store.inbox import relock
from murmur.store.vault import is_sealed
from murmur.validate import check

GROUPS_FILE = "private_groups.db"

__all__ = ["RETRIED", "Change", "GroupPost", "GroupSync", "PrivateGroups", "Unread", "answered_group", "groups_path"]


def groups_path(key_path: Path) -> Path:
    """Where a profile keeps its private groups' keys and messages: beside its key."""
    return key_path.parent / GROUPS_FILE


class PrivateGroups(GroupReading):
    """One device's private groups: its keys (through ``talks``, its direct messages), its home server, its store."""

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

    # -- membership changes ----------------------------------------------------------------------------------------
    @command
    async def invite(self, typed: str, names: Sequence[str]) -> Change:
        """Invite each person ``names`` gives (identities, keys, ``@names`` or key prefixes, resolved and pinned
        as a direct message's recipients are: ``Conversations.named``) and start an epoch sealed to every member
        device."""
        found = await self._moderated(typed)
        people = [await self.talks.named(n) for n in dict.fromkeys(names)]
        published = [await self._about(found["id"], "group_approve", r.identity) for r in people]
        return await self._changed(found, published)

    @command
    async def remove(self, typed: str, name: str) -> Change:
        """Remove the member ``name`` gives (as ``invite`` resolves it) and start an epoch without their devices."""
        found = await self._moderated(typed)
        who = await self.talks.named(name)
        state = await self._state(found["id"])
        # every key the person is a member under (invited by identity, made moderator by a device's key): removed
        # under one only, the other would keep them in, and a role given to it would not end on every device
        subjects = [key for key in member_roles(state)
                    if any(r.identity == who.identity for r in await self._identities([key]))]  # fmt: skip
        if not subjects:
            raise ConfigError(f"{fingerprint(who.identity)} is not a member of {found['name']!r}.")
        if state.owner in subjects:
            raise ConfigError("The owner cannot be removed from their group.")
        return await self._changed(found, [await self._about(found["id"], "group_remove", k) for k in subjects])

    @command
    async def about_person(self, group: str, kind: str, name: str) -> dict[str, Any]:
        """A moderation act (``kind``: appoint, dismiss, approve) about the person ``name`` gives, resolved and
        pinned as ``invite`` resolves it: a server answering for a name must not make its own identity a moderator
        of a group it cannot read. The server's answer."""
        who = await self.talks.named(name)
        return await self.act(group, about_person_draft(kind, group, who.identity))

    async def _moderated(self, typed: str) -> dict[str, Any]:
        found = await self.group(typed)
        if self._role(await self._state(found["id"])) not in MODERATING:
            raise ConfigError(f"Only the owner and moderators of {found['name']!r} invite and remove members.")
        report = await self.sync(found["id"])
        stored = self.store.keys(found["id"])
        if stored is None:
            raise _keyless(report.failed.get(found["id"]), "This device holds no key of the group yet: `murmur timeline"
                           " group:ID` reads it once one has come.")  # fmt: skip
        head = GroupKeys.from_json(stored).current()
        if head is not None and head.number >= MAX_EPOCH:  # checked before any change is published
            raise ConfigError(f"{found['name']!r} has used every epoch number: its membership cannot change again.")
        return found

    # -- writing ---------------------------------------------------------------------------------------------------
    @command
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
            report = await self._sync(group)
            stored = self.store.keys(group)
            if stored is None:
                raise _keyless(report.failed.get(group), f"This device holds no key of {name!r}: it was never invited,"
                               " or its key has not come.")  # fmt: skip
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
        except Refused as exc:  # the new epoch the post needs first waits for a later sync
            if exc.code not in EPOCH_WAITS:
                raise
            raise Refused(exc.code, f"Nothing was sent: {exc.message}") from exc
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


def _keyless(failed: str | None, otherwise: str) -> ConfigError:
    """Why this device holds no key of a group a command needs one of: this sync could not read the group
    (``failed``: the key that came waits, tried at the next sync), or ``otherwise``. Nothing was done."""
    if failed is None:
        return ConfigError(otherwise)
    return ConfigError(f"This device holds no key of the group yet: this sync could not read it ({failed}). What"
                       " came for it is kept and read at a later sync; nothing was done.")  # fmt: skip


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
