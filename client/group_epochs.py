"""A private group's epochs, made on this device: the group's creation, a membership act published (and kept
here) and the new epoch it starts, sealed to every member device (each a chunk kept in the outbox until the server
takes it), and a new epoch whenever the member devices changed since the newest one (docs/encryption.md §16).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from murmur.client.api import ApiError, ServerUnreachable
from murmur.client.conversations import Recipient, _bytes_of
from murmur.client.devices import publish_as_device, publish_signed, signed_as_device
from murmur.client.group_authority import keep_own
from murmur.client.group_checks import EPOCH_WAITS
from murmur.client.group_membership import MODERATING, GroupMembership, command
from murmur.errors import Refused
from murmur.group_chains import GroupKeys
from murmur.group_epoch import Link, members_digest
from murmur.kinds.group_drafts import about_person_draft, create_draft
from murmur.kinds.group_fold import INVITE
from murmur.message import now_ms
from murmur.private_group import epoch_messages
from murmur.sealing import public_hex
from murmur.validate import check

log = logging.getLogger("murmur.client.private_groups")


@dataclass(frozen=True)
class Change:
    """A membership change: the public messages it published and the epoch it started."""

    published: list[str]
    epoch: int
    devices: int
    skipped: dict[str, str] = field(default_factory=dict)  # members or devices left out of the epoch (key: why)


class GroupEpochs(GroupMembership):
    """Making a private group and its epochs on this device, and sending what carries them."""

    @command
    async def create(self, name: str, *, description: str = "", rules: str = "") -> str:
        """Publish a private group (you own it) and its first epoch, sealed to your devices; its id."""
        self.talks._me()  # an identity, or nothing to seal to (a bare key: told what to do)
        draft = create_draft(name, description=description, rules=rules, join=INVITE)
        result = await publish_as_device(self.api, self.device, draft)
        _published(result, "the group")
        group = str(result["id"])
        await self._new_epoch(group, name, GroupKeys(group))
        return group

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
            if refusal.code not in EPOCH_WAITS:
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


def _published(result: dict[str, Any], what: str) -> None:
    if result.get("status") == "refused":
        raise Refused(str(result.get("code")), f"Your server refused {what}: {result.get('reason')}")


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:39] + "…")
