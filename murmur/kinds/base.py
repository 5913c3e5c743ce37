"""What a kind of message is: the shape every kind module fills in, and helpers kind modules share.

A kind says everything that differs from one kind of message to the next: its body and tags (validation), what
the store indexes and keeps for it (search text, tallies, its own state and tables), whom it notifies and
whether a delete removes it. Validation, the store, the notices and the renderers consult ``murmur.kinds``
instead of naming kinds, so adding a kind is one module (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from murmur.errors import Refused
from murmur.message import LONGEST_VISIBILITY, Message, check_visibility

CHUNK = 500  # parameters per IN (...) query, well under SQLite's limit

Tags = tuple[tuple[str, str], ...]
Rule = Callable[[Mapping[str, Any], Tags], None]

"""A check across a message's members once each is valid on its own; raises ``Refused``."""
AgainstTarget = Callable[[Message, Message | None, frozenset[str]], None]
"""A check of a message against the one its ``target`` names (None when not held) and the keys that deleted
that target; raises ``Refused``."""
Apply = Callable[[aiosqlite.Connection, list[tuple[int, Message]]], Awaitable[None]]
"""The state a kind keeps: called in the write transaction with the batch's stored (seq, message) of the kind."""
Admit = Callable[[aiosqlite.Connection, Sequence[tuple[int, Message]]], Awaitable[dict[int, Refused]]]
Upgrade = Callable[[aiosqlite.Connection, int], Awaitable[None]]
Reshow = Callable[[aiosqlite.Connection, Sequence[int]], Awaitable[None]]
"""A check of a whole batch against what the store holds, before it is stored: refusals by the batch's positions."""


@dataclass(frozen=True, slots=True)
class Field:
    """A body member: a string of at most ``longest`` code points, one of ``allowed`` when given."""

    required: bool
    longest: int
    allowed: tuple[str, ...] | None = None


def visibility_rule(body: Mapping[str, Any], tags: Tags) -> None:
    """A signed visibility, where a body has one, is ``public``, ``local`` or ``scope:LABEL``."""
    if "visibility" in body:
        check_visibility(body["visibility"])


# What a reaction, a boost or a delete signs of its target's audience when it is narrower than public (the
# client signs it as a reply does), so a server that never saw the target still narrows it; left out for public.
VISIBILITY_FIELD = {"visibility": Field(False, LONGEST_VISIBILITY)}


# How old a message of a kind handed in fresh (``Kind.handed_in_fresh``: a ballot, an RSVP, a signature, a sealed
# message) may be when a member hands it in: a sealed message's coarse window (10 min: its time is rounded down)
# and the clock skew validation allows either way (murmur.validate.MAX_FUTURE_SKEW_MS, also 10 min). Peers relay
# older ones (a message may take long between servers): the window binds a member's own door only
# (``murmur.store.audience.MemberDoor``).
HANDED_IN_WITHIN_MS = 20 * 60 * 1000


def check_fresh(message: Message, now: int) -> None:
    """Refuse a message of a kind handed in fresh (``Kind.handed_in_fresh``) that a member hands in dated more than
    ``HANDED_IN_WITHIN_MS`` before ``now``: its author could otherwise place it before a poll's close, ahead of
    others in a meetup's line, or before a device was removed (docs/encryption.md §9.4)."""
    if message.created_at < now - HANDED_IN_WITHIN_MS:
        minutes = HANDED_IN_WITHIN_MS // 60_000
        raise Refused(
            "too_old",
            f"This {message.kind} message is dated {utc(message.created_at)}, more than {minutes} minutes before it"
            f" reached this server ({utc(now)}): a {message.kind} message is handed in within {minutes} minutes of"
            " the time it carries, because what it means depends on that time. Make it again now; if this keeps"
            " happening, set your device's clock right.",
        )


def utc(ms: int) -> str:
    """A time in ms since the epoch, as a person reads it in a refusal: UTC, to the second."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Kind:
    """One kind of signed message. Only ``name`` is needed; every other member says what differs from nothing.

    ``own_target``: the ``target`` tag names the author's own message (a delete, an edit): refused with
    ``not_author`` when the target is held and someone else's; stored and waiting when it is not held yet.
    ``target_kinds`` (with ``own_target``): what the target may be; a held target of another kind is refused
    with ``bad_target``. ``with_target``: it goes with its target; a delete of the target by the same author
    removes it too (stored, waiting, or earlier in the same batch), and once that delete is held it is not kept.
    ``notices`` are SQL statements deriving ``notices`` rows for the messages whose seq is in [:lo, :hi];
    ``derive`` likewise keeps state that other kinds' messages change too (run before the notices).
    ``migrations`` create the kind's own tables, forward only, recorded per kind in ``kind_schema``.
    ``indexed``: its ``mention`` and ``hashtag`` tags are indexed (mentions timeline, hashtag timelines).
    ``shown_as``: how an API item shows it: ``"itself"`` (a post: a timeline and thread entry of its own),
    ``"target"`` (a boost: the entry shows the message its ``target`` names), None (not an entry: counted,
    told or applied elsewhere). Clients hold the matching renderers (``murmur.client.kinds``).
    ``notice_about``: for each kind of notice its ``notices`` derive, the tag naming the notified member's own
    message it is about (a reply's ``reply``, a reaction's ``target``); a notice kind not named is about no
    message of theirs (a mention, a follow).
    ``notice_holds``: for a kind of notice, the SQL condition (over the notice ``n`` and the message ``m`` that
    caused it) under which it still stands when read: what was true at ingest may have stopped being true since
    (a follow undone, a reacted-to post deleted). A notice kind not named always stands.
    ``watches``: tag names; ``apply`` also gets every stored message, of any kind, that carries one of them (a
    group's state is folded from its own messages and sees the posts addressed to it), once per batch.
    ``against_target``: the store checks each message of the kind against the message its ``target`` names, as
    signed (held, or earlier in the same batch; None when not), and the keys whose delete of that target it holds:
    a ballot against its poll. What it raises is the message's refusal.
    ``shown_join``: for a kind that makes new versions of a post (an edit), ``shown_join(post, alias)`` is the SQL
    ``LEFT JOIN``-ing, as ``alias``, the version readers see of the ``messages`` row ``post``, no row when there is
    none. Items and notifications ask the registry for it (``murmur.kinds.shown_join``), never the kind's module,
    so a program without that kind shows posts as signed.
    ``admit``: a check of every valid message of a batch (of any kind) against what the store holds, before
    the batch is stored, answering refusals by position: the identity log's (``murmur.kinds.key_store``).
    ``withheld``: ``withheld(row)`` is an SQL condition true when the held message ``row`` (of any kind) is not
    shown to readers yet: a device's message its identity's log cannot judge yet. Items ask the registry for it
    (``murmur.kinds.shown_sql``).
    ``shown_late``: for a kind whose ``withheld`` holds messages back for a while, SQL selecting ``seq, at``: each
    held message it showed late (from log position ``at``, past its own ``seq``) whose ``at`` or ``seq`` is in
    (:after, :upto]. The live stream sends such a message at ``at``, never at its seq (``murmur.kinds.shown_late``).
    ``shown_from``: for a kind whose ``withheld`` holds messages back for a while, ``shown_from(row)`` is the SQL
    log position from which the held message ``row`` (any row with its ``seq``) is shown: NULL while it is withheld
    (or when this kind never withheld it), and a message shown again is shown from a position past every earlier
    one. A figure remembered from many messages fingerprints it (``murmur.kinds.shown_fingerprint``).
    ``coarse_ms``: its ``created_at`` is a whole multiple of this many ms (``bad_value`` otherwise), so that a
    message whose time would tell on its sender carries only a coarse one (a sealed message).
    ``one_time_author``: signed by a key made for that one message, never a member's or a device's (a sealed
    message): a member's own door takes it whoever signed it (``murmur.store.audience.signed_by``).
    ``handed_in_fresh``: what it means depends on its ``created_at`` (a ballot before its poll's close, an RSVP's
    place in line, a signature before a letter's deadline, a sealed message before a device was removed), which
    is its author's word. A member's own door takes it only dated within ``HANDED_IN_WITHIN_MS`` of when it is
    handed in (``too_old``), and checks it against its target (``against_target``) as if dated then as well (a
    ballot handed in after the close is ``poll_closed``, whatever it is dated), and a ``delete`` of it likewise (a
    withdrawn signature): ``murmur.store.audience.MemberDoor``.
    Peers still relay older ones, accepted at their author's door (docs/protocol.md, "Messages dated by their
    author").
    ``reshow``: ``reshow(conn, seqs)`` runs, in the write transaction, when whether readers are shown the held
    messages ``seqs`` changed (a kind's ``withheld`` now holds them back, or no longer does) or they were taken
    away: state the kind keeps from messages counts only those shown (a group's members: a join a device signed
    counts once its identity's log says the device speaks for it), so it is brought up to date
    (``murmur.kinds.reshown``).
    ``upgrade``: ``upgrade(conn, had)`` runs when a file that had the kind's first ``had`` migrations (some, not
    all) has just had the rest, in the same transaction: where a new rule judges again what the file holds.
    """

    name: str
    body: Mapping[str, Field] = field(default_factory=dict)
    tags: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    removable: bool = False
    own_target: bool = False
    target_kinds: tuple[str, ...] = ()
    with_target: bool = False
    text: Callable[[Message], tuple[str, str]] | None = None
    tally: Callable[[Message], str] | None = None
    apply: Apply | None = None
    notices: tuple[str, ...] = ()
    derive: tuple[str, ...] = ()
    migrations: tuple[str, ...] = ()
    indexed: bool = True
    shown_as: str | None = None
    notice_about: Mapping[str, str] = field(default_factory=dict)
    notice_holds: Mapping[str, str] = field(default_factory=dict)
    watches: tuple[str, ...] = ()
    shown_join: Callable[[str, str], str] | None = None
    against_target: AgainstTarget | None = None
    admit: Admit | None = None
    withheld: Callable[[str], str] | None = None
    shown_late: str | None = None
    shown_from: Callable[[str], str] | None = None
    coarse_ms: int | None = None
    one_time_author: bool = False
    handed_in_fresh: bool = False
    upgrade: Upgrade | None = None
    reshow: Reshow | None = None


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a post: the post itself or a later version of it (an edit), as signed."""

    id: str
    created_at: int
    raw: bytes

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Version:
        """From an ``(id, created_at, raw)`` row of ``messages``."""
        return cls(bytes(row[0]).hex(), int(row[1]), bytes(row[2]))


def later(a: Message, b_created_at: int, b_id: bytes) -> bool:
    """Latest-wins order: larger created_at wins; equal times are broken by the larger id."""
    return (a.created_at, bytes.fromhex(a.id)) > (b_created_at, b_id)


def newest(messages: Iterable[Message], key: Callable[[Message], Any]) -> dict[Any, Message]:
    """The latest-wins message of each ``key`` among ``messages``."""
    out: dict[Any, Message] = {}
    for m in messages:
        k = key(m)
        current = out.get(k)
        if current is None or later(m, current.created_at, bytes.fromhex(current.id)):
            out[k] = m
    return out


def newest_per_person(messages: Iterable[Message], person: Callable[[str, int], str | None]) -> dict[str, Message]:
    """The latest-wins message of each person among ``messages``, by person (``person``: whom a message signed with
    a key at a time counts for, ``murmur.kinds.group_speakers.Speakers.person``; None: no one, left out)."""
    held = [(who, m) for m in messages if (who := person(m.author, m.created_at)) is not None]
    people = {m.id: who for who, m in held}
    return newest((m for _, m in held), key=lambda m: people[m.id])


def answers_held(
    answer: Message, target: Message | None, deleted_by: frozenset[str], kind: str, *, deleted: Refused, wrong: Refused
) -> bool:
    """The store's check of an answer to someone's message (a ballot to a poll, an RSVP to a meetup), which names
    the target's author as its ``subject``: ``wrong`` when the held target is not of ``kind`` or not the subject's,
    ``deleted`` when the subject's delete of it is held. Whether the target is held (when not, the answer waits)."""
    if target is None:
        if answer.tag("subject") in deleted_by:
            raise deleted
        return False
    if target.kind != kind or target.author != answer.tag("subject"):
        raise wrong
    return True


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def select_in(conn: aiosqlite.Connection, sql: str, keys: Sequence[Any], *, times: int = 1) -> list[Any]:
    """Rows of ``sql`` (which holds ``{marks}`` inside ``IN (...)``, ``times`` times: each gets the same keys) for
    every key, a chunk at a time."""
    rows: list[Any] = []
    for part in chunks(keys):
        marks = ",".join("?" * len(part))
        rows.extend(await conn.execute_fetchall(sql.format(marks=marks), tuple(part) * times))  # one hand-off
    return rows


async def execute_many(conn: aiosqlite.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``executemany``, with no hand-off to the database thread for no rows: most batches have no mention,
    hashtag, delete, reaction or counter, and each hand-off wakes that thread and then the event loop while the
    batch holds the write turn."""
    if rows:
        await conn.executemany(sql, rows)


async def execute_each(conn: aiosqlite.Connection, statements: Sequence[str], params: Mapping[str, Any]) -> None:
    """Run statements whose outcome nobody reads, in order: on PostgreSQL in one pipeline (a round trip for all,
    ``murmur.store.postgres.Connection.execute_each``), on the store's SQLite writer in one hand-off to its thread
    (``murmur.store.db.WriteConnection``), on any other connection one call each."""
    each = getattr(conn, "execute_each", None)
    if each is not None:
        await each(statements, params)
        return
    for statement in statements:
        await conn.execute(statement, params)
