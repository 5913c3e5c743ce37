"""Direct messages on this device: send, fetch and open, list, show and search. The API the CLI (``murmur dm``)
and a TUI build on; docs/encryption.md §9 says what travels.

``Conversations.of_profile(api, key_path)`` gives the object; ``sync`` fetches what the home server holds sealed
to a device of my identity and opens it here; ``send`` seals a text to every current device of each recipient
and every device of mine. Opened messages live only in this profile's ``conversations.db`` (0600), which
``conversations``, ``messages`` and ``search`` read without the network.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.client.api import ApiError, MurmurClient
from murmur.client.devices import encryption_key, speaks_for
from murmur.client.identity_check import checked_identity, rejudged, safety_number
from murmur.client.lookups import LOOKUPS_PER_SYNC, Lookups
from murmur.client.mentions import key_for
from murmur.client.sealed_feed import pages, unreadable
from murmur.direct import (
    NOT_DIRECT,
    Received,
    check_recipients,
    check_sender,
    inner_message,
    open_direct,
    read_inner,
    seal_direct,
)
from murmur.errors import ConfigError, MurmurError, Refused
from murmur.jcs import canonicalize
from murmur.keys import KEY_HEX, fingerprint
from murmur.mentions import KEY_PREFIX, handle_of
from murmur.message import now_ms, visibility_for
from murmur.sealing import public_hex
from murmur.store.inbox import Conversation, DeviceChange, Inbox, Refusal, Stored
from murmur.validate import check

INBOX_FILE = "conversations.db"
# Refusals that may turn out well later: the sender's log (or the device it names) had not reached the server.
log = logging.getLogger("murmur.client.conversations")
RETRIED = ("forged_sender", "participant_unknown")
RECHECKS_PER_SYNC = 8  # senders a sync looks up only to judge again what they sent (those it looked up anyway: free)
NO_IDENTITY = (
    "This profile speaks as a bare key, which has no encryption key: make it an identity with"
    " `murmur identity create` (or pair it with one: `murmur device add IDENTITY`), then send or read direct messages."
)

__all__ = [
    "LOOKUPS_PER_SYNC", "Conversation", "Conversations", "DeviceChange", "Refusal", "Sent", "Stored", "SyncReport",
    "inbox_path", "recipient_of",
]  # fmt: skip


def inbox_path(key_path: Path) -> Path:
    """Where a profile keeps its opened direct messages: beside its key."""
    return key_path.parent / INBOX_FILE


@dataclass(frozen=True)
class SyncReport:
    """What one ``sync`` did: how many messages it opened, and the ones it refused (each with its reason)."""

    opened: int
    refused: list[Refusal] = field(default_factory=list)


@dataclass(frozen=True)
class Sent:
    """A direct message handed to the home server: the outer message's id, the inner id, its conversation, how
    many devices it was sealed to, and the audience it travels to."""

    id: str
    inner: str
    conversation: str
    devices: int
    audience: str


@dataclass(frozen=True)
class Recipient:
    identity: str
    devices: tuple[str, ...]  # the X25519 keys of its current devices
    keys: tuple[str, ...]  # the Ed25519 keys of its current devices


def _current(view: dict[str, Any]) -> list[dict[str, Any]]:
    devices = view.get("devices")
    return [
        d
        for d in (devices if isinstance(devices, list) else [])
        if isinstance(d, dict) and d.get("removed_at") is None and d.get("disputed_at") is None
        and isinstance(d.get("x25519"), str) and KEY_HEX.fullmatch(d["x25519"]) and isinstance(d.get("key"), str)
    ]  # fmt: skip


class Conversations:
    """One device's direct messages: its keys, its home server and its own store of what it opened."""

    def __init__(
        self,
        api: MurmurClient | None,
        x25519: X25519PrivateKey,
        identity: str | None,
        inbox: Inbox,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._client = api
        self._clock = clock  # when refusals are tried again (a test moves it)
        self.x25519 = x25519
        self.identity = identity
        self.inbox = inbox
        # One fetch at a time: two at once would both open a message not seen yet, and the second would call
        # the first's copy a replay (the TUI's screens and its live stream may all ask).
        self._syncing = asyncio.Lock()
        self._lookups = Lookups()  # each sync (and each device check) starts its own

    @classmethod
    def of_profile(cls, api: MurmurClient | None, key_path: Path, passphrase: str | None = None) -> Conversations:
        """The profile's conversations; ``api`` None reads only what this device holds (``search``, ``messages``).
        ``StoreLocked`` when its store is sealed and no ``passphrase`` came."""
        inbox = Inbox.open(inbox_path(key_path), passphrase)
        return cls(api, encryption_key(key_path), speaks_for(key_path), inbox)

    def close(self) -> None:
        self.inbox.close()

    @property
    def api(self) -> MurmurClient:
        if self._client is None:
            raise ConfigError("This needs the home server: join one with `murmur join URL --invite CODE`.")
        return self._client

    def _me(self) -> str:
        if self.identity is None:
            raise ConfigError(NO_IDENTITY)
        return self.identity

    # -- sending -------------------------------------------------------------------------------------------------
    async def recipient(self, key: str) -> Recipient:
        """The identity ``key`` names (an identity, a device's key or a bare key) and its current devices, as its
        signed key events resolve here (murmur.client.identity_check), never as the server says; refused with
        what to do when it cannot receive a sealed message."""
        return recipient_of(key, await checked_identity(self.api, key, self.inbox, at=now_ms()))

    async def named(self, typed: str) -> Recipient:
        """The recipient a typed word names: the one resolver of a direct message's recipients and a private group's
        invited or removed members. A whole key or identity names itself; a handle or 8+ hex digits of a
        key is resolved by the home server, and the identity it named the first time is remembered on this device,
        so a server (or a look-alike name) that later answers with someone else is caught, never believed."""
        token = typed.strip().removeprefix("@").lower()
        if KEY_HEX.fullmatch(token):
            return await self.recipient(token)
        found = await self.recipient(await key_for(self.api, typed.strip().removeprefix("@")))
        self._pinned(typed, found.identity)
        return found

    async def person(self, typed: str) -> str:
        """The person a typed word names, as ``named`` resolves and pins it, whether or not anything can be sealed
        to them: their identity as its signed key events say on this device (a device's key is taken to it, even
        when a fork disputes the log), or a bare key (or one the home server does not know) itself. What a public
        group's act about someone names, so that it is the person's, every device of theirs, and a name a server
        answers for is the one pinned."""
        token = typed.strip().removeprefix("@").lower()
        key = token if KEY_HEX.fullmatch(token) else await key_for(self.api, typed.strip().removeprefix("@"))
        view = await checked_identity(self.api, key, self.inbox, at=now_ms())
        # a key the home server holds nothing of names itself: every server's fold takes it to its identity once
        # that identity's log arrives
        identity = key if view is None else str(view["identity"])
        if not KEY_HEX.fullmatch(token):
            self._pinned(typed, identity)
        return identity

    def _pinned(self, typed: str, identity: str) -> None:
        """Pin the identity a name (or key prefix) gave the first time; refuse when it now gives another."""
        name = remembered_as(typed)
        before = self.inbox.name(name, identity, now_ms())
        if before is not None:
            raise ConfigError(
                f"{name} named the identity {fingerprint(before)} when you first wrote to it (or invited it),"
                f" and now names"
                f" {fingerprint(identity)}: your server, or someone with a look-alike name, may be"
                f" answering for them. Write to the full identity you mean; `murmur dm forget {name}` takes the"
                " new answer."
            )

    async def audience_for(self, recipients: Sequence[Recipient]) -> str:
        """The narrowest audience reaching every recipient's home server: ``local`` when each has a device that
        is a member here, ``public`` otherwise."""
        members = {m["key"] for m in (await self.api.members())["members"]}
        return "local" if all(set(r.keys) & members for r in recipients) else "public"

    async def send(
        self, keys: Iterable[str], text: str, *, audience: str | None = None, reply_to: str | None = None
    ) -> Sent:
        """Seal ``text`` to every current device of each identity ``keys`` name and every device of mine,
        and hand it to the home server; ``audience`` (``local``, ``public``, a scope) overrides the default."""
        me = self._me()
        if not text.strip():
            raise ConfigError("A direct message needs some text.")
        recipients = [await self.recipient(k) for k in dict.fromkeys(keys)]
        others = [r for r in recipients if r.identity != me]
        mine = await self.recipient(me)
        if not others and len(mine.devices) < 2:
            raise ConfigError("A direct message goes to someone else, or to your other devices; you have none yet.")
        visibility = visibility_for(audience) if audience else await self.audience_for(others or [mine])
        # The sending device is sealed to as well: leaving it out would name it to every relay (docs/encryption.md
        # §9.2); it opens its own copy as one it holds already.
        devices = sorted({d for r in (*others, mine) for d in r.devices} | {public_hex(self.x25519)})
        participants = {me, *(r.identity for r in others)}
        inner = inner_message(participants, me, self.api.identity.public_key, text, now_ms(), reply_to)
        message = seal_direct(inner, self.x25519, devices, visibility)
        check(message)
        result = await self.api.publish(message)
        if result.get("status") == "refused":
            raise Refused(str(result.get("code")), f"Your server refused the message: {result.get('reason')}")
        received = Received(read_inner(canonicalize(inner)), public_hex(self.x25519), message["id"])
        self.inbox.add(_stored(received, unread=False), message["id"], received.inner.participants)
        return Sent(message["id"], inner["id"], received.inner.conversation, len(devices), visibility)

    # -- who is who -----------------------------------------------------------------------------------------------
    async def device_changes(self, identities: Sequence[str]) -> list[DeviceChange]:
        """Read each identity's devices again from its signed events (pinning them, recording any change), and
        give every change seen in them since first pinned; an identity that cannot be read now keeps its pins."""
        self._lookups = Lookups()  # read again now, not as a sync read them
        for identity in identities:
            if identity != self.identity:
                await self._log(identity)
        return self.inbox.device_changes(identities)

    async def safety_number(self, key: str) -> tuple[str, str]:
        """The identity ``key`` names and the safety number of it and me (murmur.client.identity_check)."""
        theirs = await self.recipient(key)
        views = [await checked_identity(self.api, i, self.inbox, at=now_ms()) for i in (self._me(), theirs.identity)]
        mine, other = views
        if mine is None or other is None:
            raise ConfigError("Your server no longer holds one of the two identities' key events; try again later.")
        return theirs.identity, safety_number(mine, other)

    # -- receiving -----------------------------------------------------------------------------------------------
    async def sync(self) -> SyncReport:
        """Fetch the sealed messages the home server holds for my identity since the last sync, open each one here,
        check its sender against their log, and keep it; a refused one is kept with its reason, shown inert. After
        the server's restore the feed is read again from the start (murmur.client.sealed_feed), and what is held
        already is skipped by its outer id (``_take``)."""
        self._me()
        async with self._syncing:
            with self.inbox.batch():
                return await self._sync()

    async def _sync(self) -> SyncReport:
        logs: dict[str, dict[str, Any] | None] = {}
        self._lookups = Lookups()
        opened, refused = 0, []
        now = self._clock()
        tried: set[str] = set()
        # Page through every refusal due: each one tried is refused again later or opened, so the due ones run out.
        while due := [r for r in self.inbox.retried(RETRIED, now) if r.outer_id not in tried]:
            for earlier in due:
                tried.add(earlier.outer_id)
                opened += await self._take(earlier.raw, 0, logs, earlier.arrived, again=True) == "opened"
        server = self.api.base_url
        async for page in pages(self.api, self.inbox.cursor(server)):
            for item in page.items:
                outcome = await self._take(_bytes_of(item.get("message")), int(item["seq"]), logs, page.arrived(item))
                if isinstance(outcome, Refusal):
                    refused.append(outcome)
                opened += outcome == "opened"
            self.inbox.set_cursor(server, page.cursor)
        await self._rejudge(logs)
        return SyncReport(opened, refused)

    async def _rejudge(self, logs: dict[str, dict[str, Any] | None]) -> None:
        """Judge the messages opened here again by their senders' logs (``rejudged``): those this sync looked up,
        and the ``RECHECKS_PER_SYNC`` other senders who wrote last (each a look-up, within the sync's budget). One
        whose device a fork in its sender's log has since disputed is held back, kept but shown nowhere, and shown
        again once the rotation key settles the fork."""
        held = self.inbox.judged()
        newest = sorted({h.sender: h.created_at for h in held}.items(), key=lambda s: -s[1])  # the last message's
        for sender in [s for s, _ in newest if s not in logs][:RECHECKS_PER_SYNC]:
            logs[sender] = await self._log(sender)
        self.inbox.hold(rejudged(held, logs))

    async def _take(
        self,
        raw: bytes,
        seq: int,
        logs: dict[str, dict[str, Any] | None],
        arrived: int | None,
        *,
        again: bool = False,
    ) -> Refusal | str:
        """Open and keep one sealed message: ``"opened"``, ``"seen"`` (looked at before), or its refusal, which is
        kept too. ``arrived``: when it is known to have reached the home server after (``sealed_feed.arrival``);
        its sender's device must have been current then. ``again``: a refusal kept earlier, looked at once more."""
        try:
            outer = check(raw)
        except Refused as refusal:  # its id cannot be trusted: it is known by the digest of what came
            outer_id = hashlib.sha256(raw).hexdigest()
            if not again and self.inbox.seen(outer_id):
                return "seen"
            self.inbox.refuse(outer_id, refusal.code, refusal.message, raw, seq, at=self._clock(), arrived=arrived)
            return Refusal(outer_id, refusal.code, refusal.message, raw, arrived)
        outer_id = outer.id
        if not again and self.inbox.seen(outer_id):
            return "seen"
        try:
            received = open_direct(outer, self.x25519)
            sender = received.inner.sender
            for person in (sender, *sorted(set(received.inner.participants) - {sender, self.identity})):
                if person not in logs:
                    logs[person] = await self._log(person)
            check_sender(received, logs[sender], arrived=arrived)
            if self.identity not in received.inner.participants:
                raise Refused("bad_inner", "It is sealed to this device but does not name you among its participants.")
            check_recipients(received, logs, self.identity, arrived=arrived)
            if not self.inbox.add(_stored(received, unread=sender != self.identity), outer_id,
                                  received.inner.participants):  # fmt: skip
                raise Refused("replayed", "Its direct message was received already, under another sealed message.")
        except Refused as exc:
            refusal = exc
        except MurmurError:  # this device's or its server's fault, not the message's: the sync stops, nothing lost
            raise
        except Exception as exc:  # a fault no rule names: this message's refusal, never every later sync's end
            refusal = unreadable(exc)
        else:
            return "opened"
        if refusal.code == NOT_DIRECT:  # a private group's epoch key: murmur.client.private_groups takes it
            return "seen"
        self.inbox.refuse(outer_id, refusal.code, refusal.message, raw, seq, at=self._clock(), arrived=arrived)
        return Refusal(outer_id, refusal.code, refusal.message, raw, arrived)

    async def _log(self, identity: str) -> dict[str, Any] | None:
        """``identity`` as its signed events resolve here; None when unknown for now (tried again later): its events
        do not make it yet, this sync has looked up as many identities as it may, or the server did not answer
        (rate-limited, failing): one bad answer never ends the sync, so a flood of strangers cannot stop it
        (``murmur.client.lookups``)."""
        try:
            return await self._lookups.budgeted(identity, lambda: checked_identity(self.api, identity, self.inbox,
                                                                                  at=now_ms()))  # fmt: skip
        except (Refused, ApiError):
            return None

    # -- reading (this device only) ------------------------------------------------------------------------------
    def conversations(self) -> list[Conversation]:
        """Every conversation, newest first, with its unread count and last message."""
        return self.inbox.conversations()

    def find(self, typed: str) -> str:
        """The conversation whose id is ``typed`` or starts with it (8+ hex digits); refused otherwise."""
        token = typed.strip().lower()
        found = self.inbox.conversation_ids(token) if len(token) >= 8 else []
        if len(found) != 1:
            how = "is ambiguous" if found else "names no conversation here"
            raise ConfigError(f"{typed[:64]!r} {how}; give 8 or more hex digits of an id from `murmur dm list`.")
        return found[0]

    def messages(self, conversation: str, *, mark_read: bool = True) -> list[Stored]:
        """A conversation's messages, oldest first (newest last); marks them read unless told not to."""
        messages = self.inbox.messages(conversation)
        if mark_read:
            self.inbox.mark_read(conversation)
        return messages

    def search(self, text: str) -> list[Stored]:
        """Opened messages holding every word of ``text``: searched here, never on a server."""
        return self.inbox.search(text)

    def refusals(self) -> list[Refusal]:
        return self.inbox.refusals()


def recipient_of(key: str, view: dict[str, Any] | None) -> Recipient:
    """The recipient ``key`` names, from its identity ``view`` as resolved on this device (None: unknown); refused
    with what to do when it cannot receive a sealed message (``Conversations.recipient``)."""
    if view is None:
        raise ConfigError(
            f"{key[:16]} is no identity or key your server knows; check it, or ask them for their identity"
            " (`murmur whoami`)."
        )
    if view.get("bare"):
        raise ConfigError(
            f"{fingerprint(key)} speaks as a bare key, which cannot receive direct messages: ask them to run"
            " `murmur identity create`, then write again."
        )
    if view.get("fork") is not None:
        raise ConfigError(
            f"The identity {fingerprint(view['identity'])}'s key log is forked (a key of theirs was copied or"
            " stolen): nothing is sealed to it until they settle it with their rotation key."
        )
    devices = _current(view)
    if not devices:
        raise ConfigError(
            f"The identity {fingerprint(view['identity'])} has no current device to seal to: its devices were"
            " all removed. Ask them to add one (`murmur device add`)."
        )
    return Recipient(str(view["identity"]), tuple(d["x25519"] for d in devices), tuple(d["key"] for d in devices))


def remembered_as(typed: str) -> str:
    """How a typed handle or key prefix is remembered (``Conversations.named``): the prefix, or ``@`` and the
    handle as the server compares handles (case and compatibility forms folded: ``murmur.mentions.handle_of``)."""
    token = typed.strip().removeprefix("@")
    return token.lower() if KEY_PREFIX.fullmatch(token) else f"@{handle_of(token)}"


def _stored(received: Received, *, unread: bool) -> Stored:
    i = received.inner
    return Stored(i.id, i.conversation, i.sender, i.device, i.text, i.created_at, i.reply_to, unread)


def _bytes_of(message: object) -> bytes:
    """What the server sent as a sealed message, as bytes for the one validation path to judge."""
    try:
        return canonicalize(message)
    except Refused:  # no canonical form (a float, a lone surrogate): the validation path names the fault
        return json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
