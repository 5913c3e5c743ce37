"""The doors that let messages in, as the audience rule sees them: who may bring a local or a scoped post.

A local post comes in only from its author, on the server where the author is a member (``signed_by``); a
scoped post only from a peer this server counts in that scope (``from_peer``), and never in a bundle, which may be
carried anywhere (``refuse_local``). What a door refuses for its audience is not stored, but its id still narrows
whatever names it (``REFUSED_LOCAL``, ``murmur.store.audience.narrowing.confine_refused``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import aiosqlite

from murmur.errors import Refused
from murmur.kinds import kind, kind_or_unknown
from murmur.kinds.base import check_fresh, chunks, utc
from murmur.kinds.key_log import BY_ROTATION_KEY
from murmur.message import Message, now_ms
from murmur.store.audience.scopes import named_ids, scope_of
from murmur.validate import load_stored

Policy = Callable[[Message], None]

# Who may not bring a local post in, and what they are told: peers never, bundles only through the author.
_DOORS = {
    "peer": ("local_from_peer", "A local post never leaves its server; a peer may not send one."),
    "bundle": (
        "local_post",
        "A local post stays on its server; only its author may bring it to a new home, with `murmur import --mine`.",
    ),
}


class MemberDoor:
    """The ingest policy of a member's own door (publish, ``POST /api/v1/import``), made by ``signed_by`` and
    ``moved_in``: called on each message as signed, then asked (``beyond``) of what the messages answer, as this
    server holds it. Only messages the member signed, of kinds this server knows: peers and bundles may bring a kind
    it does not know (``murmur.kinds.unknown``), which it carries; but a home server answers for what its members
    publish, and it could neither show them such a message nor know its audience (a newer kind may be meant for
    fewer people than ``public``).

    A kind whose meaning depends on its time (``Kind.handed_in_fresh``) is judged as of when it is handed in, as
    well as by the time it carries, which is its author's word: dated more than ``HANDED_IN_WITHIN_MS`` before now
    it is refused ``too_old``; answering what closed before now (a ballot on a poll closed by this server's clock)
    it is refused by its kind's own check (``poll_closed``, ``letter_closed``), whatever it is dated. Peers relay
    older ones: their author's door took them (docs/protocol.md, "Messages dated by their author").

    The moving door (``moved_in``) brings a person's history from their old home, which took each message when it
    was handed in there: older than the move by nature, so no ``too_old``. When it was handed in there, this
    server cannot tell (nothing in a message proves it), so a message its held target would refuse as of now (a
    ballot on a poll closed since) is refused as it would be at publish, saying so: counting it here would let
    anyone move a ballot in dated before any close. What its target does not refuse as of now comes along (a
    ballot on a poll still open, a signature before the deadline, an RSVP, and any whose target is not held)."""

    def __init__(self, key: str, *, moving: bool = False) -> None:
        self.key = key
        self.moving = moving

    def __call__(self, message: Message) -> None:
        # A rotation or a recovery is signed by the identity's offline rotation key, never by a device: the log
        # alone says whether it may stand (docs/protocol.md §13.3), so a member may bring one.
        known = kind(message.kind)
        # A sealed message is signed by a key made for it alone: naming its sender would defeat the sealing
        # (docs/encryption.md §6); its home server knows only which member handed it in.
        one_time = known is not None and known.one_time_author
        if message.author != self.key and message.kind not in BY_ROTATION_KEY and not one_time:
            raise Refused("wrong_author", "The message is signed by a key other than the one making the request.")
        if known is None:
            raise Refused(
                "unknown_kind",
                f"This server does not know the kind {message.kind!r}, so it cannot take it from its members;"
                " it may need upgrading.",
            )
        if known.handed_in_fresh and not self.moving:
            check_fresh(message, now_ms())
        if self.moving:
            _refuse_scoped(message, "its scope here is another server's label, which may name other servers")

    async def beyond(self, reader: aiosqlite.Connection, messages: Sequence[Message]) -> dict[str, Refused]:
        """The messages among ``messages`` that their target (held here) refuses as of now, though not as dated: a
        ballot handed in after its poll closed, dated before the close; by id. A delete of such a message (a
        signature withdrawn) is dated by its author as well: it is judged as the message it deletes would be if
        dated when the delete is handed in, and refused ``too_old`` past the window. One whose target is not held
        is left to the store, which keeps it waiting as it keeps any."""
        now = now_ms()
        # Only what may be dated by its author is looked up: a reaction, a boost or an edit costs no read here.
        asked = [
            m.tag("target") for m in messages if (m.kind == "delete" or _handed_in_fresh(m)) and m.created_at < now
        ]
        if not asked:
            return {}
        targets = await _held(reader, asked)
        judged: list[tuple[Message, Message]] = []  # (what is handed in, the dated message it stands for)
        refused: dict[str, Refused] = {}
        for message in messages:
            target = targets.get(message.tag("target") or "")
            if message.kind == "delete" and target is not None and _handed_in_fresh(target):
                try:
                    if not self.moving:
                        check_fresh(message, now)
                except Refused as refusal:
                    refused[message.id] = refusal
                    continue
                judged.append((message, replace(target, created_at=message.created_at)))
            elif _handed_in_fresh(message) and message.created_at < now:
                judged.append((message, message))
        answered = {**targets, **await _held(reader, [d.tag("target") for m, d in judged if m is not d])}
        for message, dated in judged:
            target = answered.get(dated.tag("target") or "")
            check = kind_or_unknown(dated.kind).against_target
            if target is None or check is None:
                continue
            try:
                check(dated, target, frozenset())
            except Refused:
                continue  # refused as dated: the store says why, as for a message from any door
            try:
                check(replace(dated, created_at=now), target, frozenset())
            except Refused as refusal:
                what = dated.kind if message is dated else f"{message.kind} of a {dated.kind}"
                refused[message.id] = Refused(refusal.code, f"{refusal.message} {self._late(what, now)}")
        return refused


    def _late(self, what: str, now: int) -> str:
        """Why a message refused as of now, though not as dated, is refused, for the person handing it in."""
        if not self.moving:
            return (
                f"This {what} reached this server at {utc(now)}, after that: it counts as of when it is handed in,"
                " whatever time it carries."
            )
        return (
            f"This {what} is moved from another server at {utc(now)}, after that, and this server cannot tell when it"
            " was handed in there: it counts where it was, and this server cannot count it by the time it carries."
        )


async def _held(reader: aiosqlite.Connection, ids: Sequence[str | None]) -> dict[str, Message]:
    """The messages of ``ids`` this server holds, as signed, by id."""
    held: dict[str, Message] = {}
    for part in chunks(sorted({bytes.fromhex(i) for i in ids if i})):
        marks = ", ".join("?" * len(part))
        rows = await reader.execute_fetchall(f"SELECT id, raw FROM messages WHERE id IN ({marks})", part)
        held.update((bytes(row[0]).hex(), load_stored(bytes(row[1]))) for row in rows)
    return held


def _handed_in_fresh(message: Message) -> bool:
    known = kind(message.kind)
    return known is not None and known.handed_in_fresh and known.against_target is not None


def signed_by(key: str) -> MemberDoor:
    """The policy of a member's own door (publish, ``POST /api/v1/import``): ``MemberDoor``."""
    return MemberDoor(key)


OUT_OF_AUDIENCE = "out_of_audience"
SCOPED_IN_BUNDLE = "scoped_post"

# Codes whose message is not stored but whose id confines whatever names it (confine_refused): a reply to a
# post this server may not hold must not travel further than that post was meant to.
REFUSED_LOCAL = frozenset({*(code for code, _ in _DOORS.values()), OUT_OF_AUDIENCE, SCOPED_IN_BUNDLE})


def _refuse_local_post(code: str, reason: str, message: Message) -> None:
    # Any kind signed local (a post, or a reaction, boost or delete about one) stays where it was written.
    if message.visibility == "local":
        raise Refused(code, reason)


def refuse_local(door: str) -> Policy:
    """The ingest policy of a door through which a local post may not come in (``peer`` or ``bundle``). A bundle
    can be carried anywhere, so it may not bring a scoped post either."""
    code, reason = _DOORS[door]

    def policy(message: Message) -> None:
        _refuse_local_post(code, reason, message)
        if door == "bundle":
            _refuse_scoped(message, "a bundle may be carried anywhere")

    return policy


def _refuse_scoped(message: Message, carried: str) -> None:
    # A file carries no manifest: whoever reads it reads the scope's name against their own labels.
    scope = scope_of(message.visibility)
    if scope is not None:
        raise Refused(
            SCOPED_IN_BUNDLE,
            f"This post is addressed to the scope {scope!r}: it goes only to servers trusted with that scope,"
            f" and {carried}.",
        )


def moved_in(key: str) -> MemberDoor:
    """The policy of a member's moving door (``POST /api/v1/import``, ``murmur import --mine``): what ``signed_by``
    takes, but no scoped message. A scope is a label of the manifest of the server it was written on; the new
    home's scope of that name is whoever that server labels so (maybe another organisation), so a scoped post
    does not move by file (the moving export leaves it out: ``moves_with_author``)."""
    return MemberDoor(key, moving=True)


class PeerDoor:
    """The ingest policy of a peer's door (push, pull, repair), made by ``from_peer``: called on each message as
    signed, then asked (``beyond``) of what the messages name, as this server holds it."""

    def __init__(self, labels: frozenset[str]) -> None:
        self.labels = labels

    def __call__(self, message: Message) -> None:
        code, reason = _DOORS["peer"]
        _refuse_local_post(code, reason, message)
        scope = scope_of(message.visibility)
        if scope is not None and scope not in self.labels:
            raise Refused(
                OUT_OF_AUDIENCE,
                f"This post is addressed to the scope {scope!r}, and this server does not label the peer that"
                f" sent it {scope!r}: a scoped post travels only through peers carrying its label.",
            )

    async def beyond(self, reader: aiosqlite.Connection, messages: Sequence[Message]) -> dict[str, Refused]:
        """The messages among ``messages`` that name (``reply``, ``root``, ``target``) a message this server holds
        narrower than the peer may have: kept here (local, or naming what is), or in a scope this server does not
        label the peer with. Whatever the message signs itself (``public``, by an older client), the peer should
        never have held it, so it relayed it beyond its audience: refused ``out_of_audience``, by id."""
        named = {m.id: named_ids(m) for m in messages}
        ids = sorted({bytes.fromhex(v) for values in named.values() for v in values})
        if not ids:
            return {}
        kept: set[str] = set()
        scopes: dict[str, set[str]] = {}
        for part in chunks(ids):
            marks = ", ".join("?" * len(part))
            rows = await reader.execute_fetchall(f"SELECT id FROM confined WHERE id IN ({marks})", part)
            kept.update(bytes(row[0]).hex() for row in rows)
            rows = await reader.execute_fetchall(f"SELECT id, scope FROM scoped WHERE id IN ({marks})", part)
            for msg_id, scope in rows:
                scopes.setdefault(bytes(msg_id).hex(), set()).add(str(scope))
        refused: dict[str, Refused] = {}
        for msg_id, values in named.items():
            if any(v in kept for v in values):
                refused[msg_id] = Refused(
                    OUT_OF_AUDIENCE,
                    "This message names a message that stays on this server (local): no peer may have held it.",
                )
                continue
            lacking = sorted({s for v in values for s in scopes.get(v, ()) if s not in self.labels})
            if lacking:
                audience = " and ".join(repr(s) for s in lacking)
                refused[msg_id] = Refused(
                    OUT_OF_AUDIENCE,
                    f"This message names a message addressed to the scope {audience}, and this server does not label"
                    " the peer that sent it so: what names a scoped message travels only through peers carrying its"
                    " label, whatever it signs itself.",
                )
        return refused


def from_peer(labels: frozenset[str]) -> PeerDoor:
    """The ingest policy of a peer's door (push, pull, repair): no local post, and a scoped post (or what names
    one held here) only from a peer carrying its label here (onward only through peers carrying the same label).
    What it refuses for its audience is recorded against the peer by ``murmur.store.trust.note_refusals``."""
    return PeerDoor(labels)
