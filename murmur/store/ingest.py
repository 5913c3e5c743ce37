"""Batched ingest: validate a list of messages, then store them in one transaction.

Each message ends as one ``IngestResult``: ``stored`` (with its log position), ``duplicate`` (already held),
``deleted`` (its author had already deleted it, so it is not kept) or ``refused`` (with a reason code).

The work is set-based: a batch costs a fixed number of database round trips (look-ups with ``IN (...)``,
inserts with ``executemany``), not a few per message, because each awaited call has a fixed cost that would
otherwise dominate. Order inside a batch still counts: a delete and its target in the same batch behave as
if they had arrived one after the other.

The server stores concurrent requests together: see ``murmur.store.group``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from murmur.errors import Refused
from murmur.kinds import REGISTRY, admitters, derive_rules, kind_or_unknown, notice_rules, watchers
from murmur.kinds.acting import acts_for
from murmur.kinds.base import Kind, execute_each, execute_many, select_in
from murmur.kinds.key_store import SPEAKER_SQL, speakers
from murmur.message import Message, Verified
from murmur.store import gaps, passed, removals
from murmur.store.audience import (
    REFUSED_LOCAL,
    MemberDoor,
    PeerDoor,
    confine,
    confine_refused,
    follow_unheld,
    keep_names,
    mark,
    narrow_unstored,
)
from murmur.store.audience.adrift import drift_from
from murmur.validate import as_verified, check, load_stored
from murmur.verifier import CHUNK as CLAIMS_PER_PART
from murmur.verifier import WORKERS as VERIFY_THREADS
from murmur.verifier import Claim, check_claims
from murmur.verifier import shared as shared_verifier

INLINE_BELOW = 32  # fewer signatures than this are checked right here: a hand-off costs more than it saves

Item = bytes | str | dict[str, Any] | Message
"""One message as an entry point has it: wire bytes or text, a strictly parsed object, or a checked Message
(only a ``Verified`` one is taken as it is; any other is checked again from its bytes)."""

Policy = Callable[[Message], None]
"""An extra rule for one entry point (e.g. peers may not send local posts); raises Refused."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    status: str  # "stored" | "duplicate" | "deleted" | "refused"
    id: str | None = None
    seq: int | None = None
    code: str | None = None
    reason: str | None = None
    message: Message | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        for name in ("id", "seq", "code", "reason"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def _refused(item: object, refusal: Refused, msg_id: str | None = None) -> IngestResult:
    if msg_id is None and isinstance(item, dict):
        msg_id = item.get("id")
    return IngestResult(
        "refused", id=msg_id if isinstance(msg_id, str) else None, code=refusal.code, reason=refusal.message
    )


async def validate_all(
    items: Sequence[Item], *, now: int | None, policy: Policy | None, reader: aiosqlite.Connection | None = None
) -> tuple[list[IngestResult | None], list[tuple[int, Verified]]]:
    """Run the one validation path (and the entry point's policy) over every item.

    Same order of checks as ``check`` for each message: its structure, then its signature, then the policy of
    the door it came in by. Signatures are checked in parts, by ``murmur.verifier``: when that is in worker
    processes, each part is handed over as soon as its structure is checked, so the two overlap. Only a
    ``Verified`` item skips both; a ``Message`` whose signature was never checked is checked from its bytes.
    """
    results: list[IngestResult | None] = [None] * len(items)
    unsigned: list[tuple[int, Message]] = []
    trusted: list[tuple[int, Verified]] = []  # built by murmur.validate, which verified them then
    verifier = shared_verifier()
    overlap = verifier.in_processes(len(items))
    parts: list[tuple[list[Claim], asyncio.Future[bytes]]] = []
    claims: list[Claim] = []
    for index, item in enumerate(items):
        if isinstance(item, Verified):
            trusted.append((index, item))
            continue
        try:
            message = check(item.raw if isinstance(item, Message) else item, now=now, verify=False)
        except Refused as refusal:
            results[index] = _refused(item, refusal)
            continue
        unsigned.append((index, message))
        claims.append((message.author, message.sig, message.signed))
        if overlap and len(claims) == CLAIMS_PER_PART:
            parts.append((claims, verifier.start(claims, total=len(items))))
            claims = []
    if len(unsigned) < INLINE_BELOW:
        oks = check_claims(claims)
    else:
        if overlap:
            parts += [(claims, verifier.start(claims, total=len(items)))] if claims else []
        else:  # threads: one share each, started together once the structure of all is checked
            size = -(-len(claims) // VERIFY_THREADS)
            shares = [claims[i : i + size] for i in range(0, len(claims), size)]
            parts = [(share, verifier.start(share, total=len(items))) for share in shares]
        oks = b"".join([await verifier.finish(part, pending) for part, pending in parts])
    checked: list[tuple[int, Verified]] = []
    for (index, message), ok in zip(unsigned, oks, strict=True):
        try:
            checked.append((index, as_verified(message, bool(ok))))
        except Refused as refusal:  # bad_signature; an object's id is the one its bytes hash to, not its field's
            results[index] = _refused(items[index], refusal, message.id if isinstance(items[index], Message) else None)
    valid: list[tuple[int, Verified]] = []
    for index, message in sorted(trusted + checked, key=lambda pair: pair[0]):
        try:
            if policy is not None:
                policy(message)
        except Refused as refusal:
            results[index] = _refused(items[index], refusal, message.id)  # checked: its id is known
        else:
            valid.append((index, message))
    if isinstance(policy, PeerDoor | MemberDoor) and valid:
        # A peer's door asks, as well, what the messages name as held here; a member's, what they answer (a poll
        # closed by now). ``reader``: the store's connection.
        if reader is None:
            raise ValueError("a peer's or a member's door reads what the messages name: pass the store's connection")
        beyond = await policy.beyond(reader, [message for _, message in valid])
        for index, message in valid:
            if message.id in beyond:
                results[index] = _refused(items[index], beyond[message.id], message.id)
        valid = [(index, message) for index, message in valid if message.id not in beyond]
    return results, valid


def to_write(valid: Sequence[tuple[int, Verified]], results: Sequence[IngestResult | None]) -> bool:
    """Whether a validated batch needs a write: something to store, or a refusal whose id still narrows what
    names it (``confine_refused``), even when every message of the batch was refused."""
    return bool(valid) or any(r is not None and r.code in REFUSED_LOCAL for r in results)


@dataclass
class _Batch:
    """What one transaction will write, gathered in memory first."""

    messages: list[tuple[Any, ...]] = field(default_factory=list)
    mentions: list[tuple[bytes, int, int]] = field(default_factory=list)
    hashtags: list[tuple[str, int, int]] = field(default_factory=list)
    texts: list[tuple[int, str, str]] = field(default_factory=list)
    tombstones: list[tuple[bytes, bytes, bytes]] = field(default_factory=list)
    tallies: list[tuple[bytes, str, bytes, str, int]] = field(default_factory=list)
    remove_stored: list[bytes] = field(default_factory=list)
    remove_with: list[tuple[bytes, bytes]] = field(default_factory=list)  # (target, author) of each delete
    remove_with_people: list[tuple[bytes, str]] = field(default_factory=list)  # (target, identity) of each delete
    stateful: dict[str, list[tuple[int, Message]]] = field(default_factory=dict)  # kind -> what it applies
    counted: list[tuple[bytes, int, bytes]] = field(default_factory=list)  # murmur.store.gaps
    unheld: list[Message] = field(default_factory=list)  # genuine messages not stored: narrowed all the same


async def store_batch(
    conn: aiosqlite.Connection,
    valid: list[tuple[int, Verified]],
    results: list[IngestResult | None],
    origin: str | Sequence[str],
    *,
    received_at: int | None = None,
) -> None:
    """Store validated messages; the caller holds the write transaction. ``origin`` is one for the whole
    batch, or one per message of ``valid`` (a group of batches that came in by different doors).
    ``received_at`` is the arrival time in ms (the receiver's clock, now when not given); timelines never
    place a message above it."""
    origins = [origin] * len(valid) if isinstance(origin, str) else origin
    ids = [bytes.fromhex(m.id) for _, m in valid]
    # One statement: what is held and what a moderator removed, among this batch's messages and what those going
    # with their target are about (a held target among ``existing`` is as true as the rest: it is held).
    existing, removed = await removals.held_or_removed(
        conn, list(dict.fromkeys(ids + _with_targets(m for _, m in valid)))
    )
    refused = await _refused_by_kinds(conn, valid, results, existing)
    # Signed, yet refused by a kind (set aside by an identity's log): its id is narrowed as if held, since it may
    # be held again, and what names it is narrowed alike meanwhile. Narrowing an id never widens anything.
    turned_away = [m for index, m in valid if index in refused]
    if refused:
        kept = [n for n, (index, _) in enumerate(valid) if index not in refused]
        valid, ids, origins = [valid[n] for n in kept], [ids[n] for n in kept], [origins[n] for n in kept]
    tombs: dict[bytes, set[bytes]] = {}
    # Tombstones of this batch's messages, and of what the messages that go with their target are about.
    with_targets = _with_targets(m for _, m in valid)
    # What messages checked against their target (Kind.against_target) are about, as signed.
    checked = list(
        dict.fromkeys(  # once each: a batch of ballots is mostly about one poll
            bytes.fromhex(t) for _, m in valid if kind_or_unknown(m.kind).against_target and (t := m.tag("target"))
        )
    )
    against = {
        bytes(row[0]): load_stored(bytes(row[1]))
        for row in await select_in(conn, "SELECT id, raw FROM messages WHERE id IN ({marks})", checked)
    }
    # A delete speaks for the person (identity) its device spoke for at its time: what any of their devices wrote
    # is theirs to delete, so a tombstone also stands for that person (``_TOMBS``).
    tomb_people: dict[bytes, dict[str, bytes]] = {}  # target -> {identity hex: delete id}
    for target, author, person, delete_id in await select_in(conn, _TOMBS, ids + with_targets + checked):
        tombs.setdefault(target, set()).add(author)
        if person is not None:
            tomb_people.setdefault(target, {})[bytes(person).hex()] = delete_id
    targets = [bytes.fromhex(t) for _, m in valid if kind_or_unknown(m.kind).own_target and (t := m.tag("target"))]
    known = {
        row[0]: (row[1], row[2], row[3] and bytes(row[3]).hex()) for row in await select_in(conn, _TARGETS, targets)
    }
    people = await speakers(conn, [m for _, m in valid])
    since = await mark(conn)  # what this batch narrows, from here on, is carried through what is not held
    await confine_refused(conn, results)
    rows = await conn.execute_fetchall("SELECT seq FROM sqlite_sequence WHERE name = 'messages'")  # one hand-off
    seq = int(rows[0][0]) if rows else 0

    batch = _Batch(unheld=turned_away)
    in_batch: dict[bytes, tuple[int, int, bytes, str]] = {}  # id -> (result index, seq, author, kind)
    going_with: dict[tuple[bytes, bytes], list[bytes]] = {}  # (target, author) -> ids in this batch going with it
    going_with_people: dict[tuple[bytes, str], list[bytes]] = {}  # (target, identity its author spoke for) -> ids
    dropped: set[int] = set()  # seqs of rows in this batch removed by a later delete in the same batch
    if received_at is None:
        received_at = int(time.time() * 1000)
    for (index, message), msg_id, source in zip(valid, ids, origins, strict=True):
        author = bytes.fromhex(message.author)
        if msg_id in existing or msg_id in in_batch:
            prior = existing.get(msg_id) or in_batch[msg_id][1]
            results[index] = IngestResult("duplicate", id=message.id, seq=prior, message=message)
            continue
        if msg_id in removed:
            batch.unheld.append(message)
            reason = removals.refusal(removed[msg_id])
            results[index] = IngestResult("refused", id=message.id, code=removals.CODE, reason=reason)
            continue
        kind = kind_or_unknown(message.kind)
        about = bytes.fromhex(message.tag("target") or "") if kind.with_target else b""
        if about in removed:  # it would go with what a moderator removed, which stays out for good
            batch.unheld.append(message)
            reason = removals.refusal_with(removed[about])
            results[index] = IngestResult("refused", id=message.id, code=removals.CODE, reason=reason)
            continue
        deleted_by = tomb_people.get(msg_id, {}).get(people.get(message.id, ""))
        if deleted_by is not None and author not in tombs.get(msg_id, ()) and kind.removable:
            tombs.setdefault(msg_id, set()).add(author)  # another device of its author's deleted it first
            batch.tombstones.append((msg_id, author, deleted_by))
        if author in tombs.get(msg_id, ()) and kind.removable:
            results[index] = IngestResult(
                "deleted", id=message.id, code="deleted", reason="Its author has deleted this message.", message=message
            )
            continue
        if kind.own_target:
            target = bytes.fromhex(message.tag("target") or "")
            target_author, target_kind, target_person = known.get(target) or (
                (in_batch[target][2], in_batch[target][3], people.get(target.hex()))
                if target in in_batch
                else (None, None, None)
            )
            # The person's, whichever of their devices signed either (a delete, an edit, an update, a new version)
            mine = target_author is not None and acts_for(
                author.hex(), people.get(message.id), bytes(target_author).hex(), target_person
            )
            if target_author is not None and not mine:
                results[index] = IngestResult(
                    "refused",
                    id=message.id,
                    code="not_author",
                    reason=f"A {message.kind} can only be about its author's own message.",
                )
                continue
            if target_kind is not None and kind.target_kinds and target_kind not in kind.target_kinds:
                results[index] = IngestResult(
                    "refused",
                    id=message.id,
                    code="bad_target",
                    reason=f"{message.kind.capitalize()}s can only be about a {' or '.join(kind.target_kinds)};"
                    f" this one is about a {target_kind}.",
                )
                continue
        if kind.against_target is not None:
            target = bytes.fromhex(message.tag("target") or "")
            held = results[in_batch[target][0]] if target in in_batch else None
            try:
                kind.against_target(
                    message,
                    against.get(target) or (held.message if held else None),
                    frozenset(k.hex() for k in tombs.get(target, ())),
                )
            except Refused as refusal:
                results[index] = _refused(message, refusal, message.id)
                continue
        if kind.with_target and message.tag("target"):  # a kind this version does not know may have none
            target = bytes.fromhex(message.tag("target") or "")
            person = people.get(message.id)
            # Its author's delete of the target, from any of their devices (murmur.kinds.acting)
            if author in tombs.get(target, ()) or (person is not None and person in tomb_people.get(target, {})):
                results[index] = IngestResult(
                    "deleted",
                    id=message.id,
                    code="deleted",
                    reason="Its author has deleted the message it is about.",
                    message=message,
                )
                continue
            going_with.setdefault((target, author), []).append(msg_id)
            if person is not None:
                going_with_people.setdefault((target, person), []).append(msg_id)
        if message.kind == "delete":
            tombs.setdefault(target, set()).add(author)
            batch.tombstones.append((target, author, msg_id))
            if (person := people.get(message.id)) is not None:
                tomb_people.setdefault(target, {}).setdefault(person, msg_id)
            if mine and target_author is not None and target_author != author:
                # another device's message: its own key's tombstone too, as its author's delete would leave
                tombs[target].add(target_author)
                batch.tombstones.append((target, target_author, msg_id))
            if mine and target_kind is not None and kind_or_unknown(target_kind).removable:
                if target in in_batch:
                    dropped.add(_take_back(in_batch, results, target, "Deleted by a later message in the same batch."))
                else:
                    batch.remove_stored.append(target)
            # What goes with the target goes now, whether the target is held, still to come, or never will be.
            reason = "Deleted with the message it is about, by a later message in the same batch."
            for owner in {author, target_author} if mine and target_author is not None else {author}:
                for gone in going_with.pop((target, owner), []):
                    if gone in in_batch:
                        dropped.add(_take_back(in_batch, results, gone, reason))
                batch.remove_with.append((target, owner))
            if person is not None:  # and what any device of the person's wrote about it
                for gone in going_with_people.pop((target, person), []):
                    if gone in in_batch:
                        dropped.add(_take_back(in_batch, results, gone, reason))
                batch.remove_with_people.append((target, person))
        seq += 1
        in_batch[msg_id] = (index, seq, author, message.kind)
        results[index] = IngestResult("stored", id=message.id, seq=seq, message=message)
        _collect(batch, message, msg_id, author, seq, source, received_at)

    batch.unheld += [r.message for r in results if r and r.status == "deleted" and r.message is not None]
    # A counted message its author deleted took its place all the same: not a gap (murmur.store.gaps).
    came_in = [r.message for r in results if r and r.status in ("stored", "deleted") and r.message is not None]
    batch.counted = [row for m in came_in for row in gaps.counted_rows(m)]
    await _write(conn, batch, dropped, since)


async def _refused_by_kinds(
    conn: aiosqlite.Connection,
    valid: list[tuple[int, Verified]],
    results: list[IngestResult | None],
    existing: dict[Any, Any],
) -> set[int]:
    """The positions the kinds' batch checks (``Kind.admit``: the identity logs) refuse, each refusal recorded
    in ``results``; a message already held stays a duplicate."""
    fresh = [(index, m) for index, m in valid if bytes.fromhex(m.id) not in existing]
    refused: dict[int, Refused] = {}
    for k in admitters():
        if k.admit is not None and fresh:
            refused.update(await k.admit(conn, fresh))
    for index, m in valid:
        if index in refused:
            results[index] = _refused(m, refused[index], m.id)
    return set(refused)


def _with_targets(messages: Iterable[Message]) -> list[bytes]:
    """What the messages that go with their target (``Kind.with_target``) among ``messages`` are about."""
    return [bytes.fromhex(t) for m in messages if kind_or_unknown(m.kind).with_target and (t := m.tag("target"))]


_TOMBS = (
    "SELECT t.target, t.author, (SELECT w.identity FROM messages d JOIN identity_claims w ON w.seq = d.seq"
    " WHERE d.id = t.delete_id AND w.status = 'valid'), t.delete_id FROM tombstones t WHERE t.target IN ({marks})"
)
_TARGETS = f"SELECT m.id, m.author, m.kind, {SPEAKER_SQL.format(row='m')} FROM messages m WHERE m.id IN ({{marks}})"


def _take_back(
    in_batch: dict[bytes, tuple[int, int, bytes, str]], results: list[IngestResult | None], msg_id: bytes, reason: str
) -> int:
    """A message stored earlier in this batch is deleted by a later one: it is reported deleted; its seq is
    returned, to be left out of what the batch writes."""
    index, seq, _, _ = in_batch.pop(msg_id)
    taken = results[index]
    message = taken.message if taken is not None else None
    results[index] = IngestResult("deleted", id=msg_id.hex(), code="deleted", reason=reason, message=message)
    return seq


def _hex_or_none(value: str | None) -> bytes | None:
    return bytes.fromhex(value) if value else None


def sort_time(created_at: int, received_at: int) -> int:
    """Where a message sits in timelines: its author's time, but never after it arrived here.

    An author's clock can be anything up to 10 minutes ahead (the future-skew rule); clamping keeps a post from
    sitting above posts that arrived after it, and a message dated 1970 stays dated 1970.
    """
    return min(created_at, received_at)


def _collect(batch: _Batch, m: Message, msg_id: bytes, author: bytes, seq: int, origin: str, received_at: int) -> None:
    sort_at = sort_time(m.created_at, received_at)
    batch.messages.append(
        (
            seq, msg_id, author, m.kind, m.created_at, m.visibility,
            _hex_or_none(m.tag("reply")), _hex_or_none(m.tag("root")), _hex_or_none(m.tag("target")),
            _hex_or_none(m.tag("subject")), origin, received_at, sort_at, m.raw,
        )
    )  # fmt: skip
    kind = kind_or_unknown(m.kind)
    if kind.indexed:
        for key in m.tag_values("mention"):
            batch.mentions.append((bytes.fromhex(key), seq, sort_at))
        for tag in m.tag_values("hashtag"):
            batch.hashtags.append((tag, seq, sort_at))
    if kind.tally is not None:
        batch.tallies.append((bytes.fromhex(m.tag("target") or ""), m.kind, author, kind.tally(m), seq))
    if kind.text is not None:
        batch.texts.append((seq, *kind.text(m)))
    if kind.apply is not None:
        batch.stateful.setdefault(m.kind, []).append((seq, m))
    # Kinds that keep state from messages of other kinds carrying a tag (Kind.watches): once each, whatever the
    # number of such tags.
    for watcher in {w for name, _ in m.tags for w in watchers(name) if w != m.kind}:
        batch.stateful.setdefault(watcher, []).append((seq, m))


async def _write(conn: aiosqlite.Connection, batch: _Batch, dropped: set[int], since: tuple[int, int]) -> None:
    def keep(rows: list[tuple[Any, ...]], seq_at: int) -> list[tuple[Any, ...]]:
        return [r for r in rows if r[seq_at] not in dropped] if dropped else rows

    await conn.executemany(
        "INSERT INTO messages (seq, id, author, kind, created_at, visibility, reply_to, root, target, subject,"
        " origin, received_at, sort_at, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        keep(batch.messages, 0),
    )
    if batch.messages:
        # AUTOINCREMENT's high-water mark past every seq this batch handed out, those dropped within it too. SQLite
        # moves it as rows go in; on PostgreSQL this statement is what moves it, once a batch rather than once a
        # row (murmur.store.dialect, ``_autoincrement``).
        high = max(row[0] for row in batch.messages)
        await conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'messages'", (high,))
    await execute_many(
        conn, "INSERT OR IGNORE INTO mentions (key, seq, sort_at) VALUES (?, ?, ?)", keep(batch.mentions, 1)
    )
    await execute_many(
        conn, "INSERT OR IGNORE INTO hashtags (tag, seq, sort_at) VALUES (?, ?, ?)", keep(batch.hashtags, 1)
    )
    await execute_many(conn, "INSERT INTO posts_fts (rowid, text, cw) VALUES (?, ?, ?)", keep(batch.texts, 0))
    await execute_many(
        conn, "INSERT OR IGNORE INTO tombstones (target, author, delete_id) VALUES (?, ?, ?)", batch.tombstones
    )
    await execute_many(
        conn,
        "INSERT OR IGNORE INTO tallies (target, kind, author, emoji, seq) VALUES (?, ?, ?, ?, ?)",
        keep(batch.tallies, 4),
    )
    await gaps.record(conn, batch.counted)
    stored = [r[0] for r in batch.messages if r[0] not in dropped]
    if stored:  # before removals: a delete of a local post must still see that its target stays here
        await confine(conn, min(stored), max(stored))
    # After what this batch stored is narrowed, so that a reply deleted in the batch of its thread takes its scope;
    # then on through what is not held, whichever of them came first (murmur.store.audience.narrowing).
    await narrow_unstored(conn, batch.unheld)
    await follow_unheld(conn, since)
    if batch.remove_stored:
        await remove_messages(conn, batch.remove_stored)
    if batch.remove_with or batch.remove_with_people:
        await remove_messages(conn, await going_with(conn, batch.remove_with, batch.remove_with_people))
    for name, stored_of_kind in batch.stateful.items():
        if dropped:
            stored_of_kind = [(seq, m) for seq, m in stored_of_kind if seq not in dropped]
        apply = REGISTRY[name].apply
        if apply is not None and stored_of_kind:
            await apply(conn, stored_of_kind)
    # Last, once what this batch removed is gone: the places that may now be accounted for.
    tombstoned = await gaps.places_of(conn, [target for target, _, _ in batch.tombstones])
    await gaps.account(conn, [(author, counter) for author, counter, _ in batch.counted] + tombstoned)
    if stored:
        bounds = {"lo": min(stored), "hi": max(stored)}
        await execute_each(conn, (*derive_rules(), *notice_rules(), PLACE_NOTICES), bounds)


# Where the notices this batch derived sit in the order the live stream reads them (schema migration 9): at
# their own message when it is in the batch, else (a notice derived late, e.g. for a reply whose parent just
# arrived) after the batch's last message. The rules leave derived_at NULL; the index finds those rows alone.
PLACE_NOTICES = "UPDATE notices SET derived_at = CASE WHEN seq >= :lo THEN seq ELSE :hi END WHERE derived_at IS NULL"


async def catch_up(conn: aiosqlite.Connection, kinds: Sequence[Kind]) -> None:
    """Give what this file carried of ``kinds`` while it did not know them (an older version stored
    them as kinds it does not know: ``murmur.kinds.unknown``) what ingest gives a known kind's messages: their
    mentions, hashtags, tallies and search text, their kind's state (with the messages carrying a tag it
    watches, such as posts addressed to a group), and what the kind derives. Not their notices: they are old
    news. Run once, in the write transaction that first makes the kinds' tables (``murmur.store.db``).
    """
    names = {k.name for k in kinds}
    watched = sorted({tag for k in kinds for tag in k.watches})
    named = ",".join("?" * len(kinds))
    carrying = (
        f" OR EXISTS (SELECT 1 FROM json_each(CAST(raw AS TEXT), '$.tags') t"
        f" WHERE json_extract(t.value, '$[0]') IN ({','.join('?' * len(watched))}))"
        if watched
        else ""
    )
    sql = f"SELECT seq, raw, origin, received_at FROM messages WHERE kind IN ({named}){carrying} ORDER BY seq"
    async with conn.execute(sql, (*(k.name for k in kinds), *watched)) as cursor:
        rows = await cursor.fetchall()
    if not rows:
        return
    batch = _Batch()
    for seq, raw, origin, received_at in rows:
        m = load_stored(bytes(raw))
        if m.kind in names:
            _collect(batch, m, bytes.fromhex(m.id), bytes.fromhex(m.author), int(seq), str(origin), int(received_at))
        else:  # carried for a tag a caught-up kind watches: only that kind's state hears of it
            tags = {name for name, _ in m.tags}
            for k in kinds:
                if tags & set(k.watches):
                    batch.stateful.setdefault(k.name, []).append((int(seq), m))
    await conn.executemany("INSERT OR IGNORE INTO mentions (key, seq, sort_at) VALUES (?, ?, ?)", batch.mentions)
    await conn.executemany("INSERT OR IGNORE INTO hashtags (tag, seq, sort_at) VALUES (?, ?, ?)", batch.hashtags)
    await conn.executemany("INSERT INTO posts_fts (rowid, text, cw) VALUES (?, ?, ?)", batch.texts)
    await conn.executemany(
        "INSERT OR IGNORE INTO tallies (target, kind, author, emoji, seq) VALUES (?, ?, ?, ?, ?)", batch.tallies
    )
    for k in kinds:
        if k.apply is not None and batch.stateful.get(k.name):
            await k.apply(conn, batch.stateful[k.name])
    bounds = {"lo": int(rows[0][0]), "hi": int(rows[-1][0])}
    for k in kinds:
        for rule in k.derive:
            await conn.execute(rule, bounds)


async def going_with(
    conn: aiosqlite.Connection, deleted: Sequence[tuple[bytes, bytes]], by_people: Sequence[tuple[bytes, str]] = ()
) -> list[bytes]:
    """The stored messages that go with what ``deleted`` (target, delete's author) names: those by that author, and
    with what ``by_people`` (target, the identity the delete spoke for) names, those by any device of that identity.
    A moderator's removal takes the same (``murmur.store.moderation``), its target's author in the delete's place."""
    pairs, people_pairs = set(deleted), set(by_people)
    # Kind names are the registry's own identifiers, never input; kinds this version does not know go with their
    # target too (murmur.kinds.unknown).
    kinds = ",".join(f"'{k.name}'" for k in REGISTRY.values() if k.with_target) or "NULL"
    known = ",".join(f"'{name}'" for name in REGISTRY)
    sql = (
        f"SELECT m.id, m.target, m.author, {SPEAKER_SQL.format(row='m')} FROM messages m WHERE m.target IN ({{marks}})"
        f" AND (m.kind IN ({kinds}) OR m.kind NOT IN ({known}))"
    )
    rows = await select_in(conn, sql, list({target for target, _ in pairs} | {target for target, _ in people_pairs}))
    by_person = [(bytes(r[1]), bytes(r[3]).hex() if r[3] is not None else None) for r in rows]
    return [
        bytes(r[0])
        for r, person in zip(rows, by_person, strict=True)
        if (bytes(r[1]), bytes(r[2])) in pairs or person in people_pairs
    ]


async def remove_messages(conn: aiosqlite.Connection, ids: Sequence[bytes]) -> None:
    """Remove messages and every trace of their content (indexes, search) from the store."""
    await keep_names(conn, ids)  # its id stays narrowed by what it named, whatever arrives later
    seqs = [(r[0],) for r in await select_in(conn, "SELECT seq FROM messages WHERE id IN ({marks})", ids)]
    await conn.executemany("DELETE FROM posts_fts WHERE rowid = ?", seqs)
    await conn.executemany("DELETE FROM mentions WHERE seq = ?", seqs)
    await conn.executemany("DELETE FROM hashtags WHERE seq = ?", seqs)
    await conn.executemany("DELETE FROM notices WHERE seq = ?", seqs)
    await conn.executemany("DELETE FROM tallies WHERE seq = ?", seqs)
    await conn.executemany("DELETE FROM messages WHERE seq = ?", seqs)
    await drift_from(conn, ids)
    await passed.forget_removed(conn, ids)
    await gaps.unaccount(conn, ids)
