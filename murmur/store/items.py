"""What the read queries hand out: timeline items, pages, cursors, and the code that turns candidate rows into
items.

A timeline query finds *candidates* (rows of the messages table, newest first by ``(sort_at, seq)``: the
author's time clamped to the arrival time, then the log position) that become
``TimelineItem``s: a boost becomes the post it boosts (or is dropped when that post is not held), and every
item gets its reply, reaction and boost counts. Timelines do both in one statement (``with_items`` wraps the
candidate query), so a page is one round trip to the database; ``resolve`` does the second half alone for
candidates found otherwise (threads, search).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiosqlite

from murmur.errors import Refused
from murmur.kinds import REGISTRY, shown_join, shown_sql
from murmur.kinds.base import Version
from murmur.store.audience import for_anyone

if TYPE_CHECKING:
    from murmur.store import Store

MAX_LIMIT = 200  # the most items one page may ask for
MAX_SEQ = 2**63 - 1
MAX_TIME = 2**53 - 1  # the largest created_at (docs/protocol.md), so no sort_at is larger
FILL_ROUNDS = 5  # extra reads to fill a page whose candidates were dropped (boosts of posts not held)

# How each kind shows as an item (murmur.kinds.base.Kind.shown_as): the kinds that are entries of their own
# (posts), and those whose entry shows the message their target names (boosts). Kind names are the registry's
# identifiers (lowercase ASCII), never input, so they are written into the SQL.
SHOWN_ITSELF = tuple(k.name for k in REGISTRY.values() if k.shown_as == "itself")
SHOWN_TARGET = tuple(k.name for k in REGISTRY.values() if k.shown_as == "target")
ITSELF_SQL = ", ".join(f"'{name}'" for name in SHOWN_ITSELF)
_TARGET_SQL = ", ".join(f"'{name}'" for name in SHOWN_TARGET)

# Columns every candidate query selects, in this order (see ``Candidate``).
CANDIDATE_COLUMNS = "m.seq, m.id, m.author, m.kind, m.created_at, m.target, m.origin, m.raw, m.sort_at"


# Counts of what refers to a post ``p``; deleted messages are removed from the tables, so they never count. Its
# replies are the entries (posts) that answer it, as its thread shows them: a kind this server does not know
# may name it in a reply tag too (murmur.kinds.unknown), and is neither shown nor counted.
# The one definition of a post's replies, reactions and boosts, for timeline items and for ``post_counts``. A
# person counts once per emoji they reacted with and once as a booster, however many identical messages they
# signed (see schema.FIRST_TALLY) and from whichever of their devices (``_PERSON``): distinct values, so every
# server that holds the same messages and identity logs agrees.
# Counted for a member, every message held that readers are shown (murmur.kinds.shown_sql: a device's message
# waiting for its identity's log, or disputed by a fork in it, counts for nothing until it is shown); for anyone
# (``public``, the web view and the feeds): only what the audience rule lets anyone see besides, or a page would
# tell of local and scoped replies it does not show.
# Whom a tally ``r`` counts for: the identity whose log lists its author as a device (the one still listing it, for a
# key moved between two), else its author, as a place in a group is the person's whenever the key was added. Unlike
# a ballot (``murmur.kinds.group_speakers.Speakers.person``), a removed device's later reaction still counts for
# its identity: it adds nothing beside the person's own, and a tally row carries no time to tell before from after.
# Two probes of its index rather than a sort, so that no sort is left unbounded in a timeline's query plan.
_PERSON = (
    "coalesce((SELECT d.identity FROM identity_devices d WHERE d.device = r.author AND d.removed_at IS NULL LIMIT 1),"
    " (SELECT d.identity FROM identity_devices d WHERE d.device = r.author LIMIT 1), r.author)"
)


def _count_columns(public: bool) -> str:
    replies = f" AND {shown_sql('r')}" + (f" AND {for_anyone('r')}" if public else "")
    tallied = f" AND {shown_sql('r')}" + (
        f" AND EXISTS (SELECT 1 FROM messages t WHERE t.seq = r.seq AND {for_anyone('t')})" if public else ""
    )
    return (
        f"(SELECT count(*) FROM messages r WHERE r.reply_to = p.id AND r.kind IN ({ITSELF_SQL}){replies}),"
        f" (SELECT count(*) FROM (SELECT DISTINCT {_PERSON}, r.emoji FROM tallies r WHERE r.target = p.id"
        f" AND r.kind = 'reaction'{tallied})),"
        f" (SELECT count(DISTINCT {_PERSON}) FROM tallies r WHERE r.target = p.id AND r.kind = 'boost'{tallied})"
    )


# The version readers see of the shown post (``v``, Kind.shown_join): an edited post is shown as its author last
# wrote it (murmur.kinds.edit); a program without such a kind shows posts as signed.
def _shown_columns(public: bool) -> str:
    return f"p.id, p.author, p.kind, p.created_at, p.raw, {_count_columns(public)}, p.origin, v.raw, v.created_at"


_NEWEST = shown_join("p")
_VERSION_SQL = f"SELECT v.id, v.created_at, v.raw FROM messages p {_NEWEST} WHERE p.id = ?"
_COUNTS_SQL = (
    f"SELECT p.id, {_count_columns(False)} FROM messages p WHERE p.kind IN ({ITSELF_SQL}) AND p.id IN ({{marks}})"
)
MAX_COUNT_IDS = 100  # posts one ``post_counts`` call may ask about
_RESOLVE_SQL = {
    public: f"SELECT {_shown_columns(public)} FROM messages p {_NEWEST} WHERE p.id IN ({{marks}}) AND {shown_sql('p')}"
    for public in (False, True)
}


# Appended to a WITH clause that defines ``c`` (candidate rows, CANDIDATE_COLUMNS, at most :n of them): each
# candidate with the post it shows, in the candidates' order. The sort is of those few rows only.
# A boost shows its post once per booster: a later twin (same booster, same post) of one shown shows nothing, as a
# boost of a post not held shows nothing; nor does a candidate, or the post it shows, that a kind withholds from readers
# (murmur.kinds.shown_sql: a device's message waiting for its identity's log).
def items_tail(public: bool = False) -> str:
    return (
        f"SELECT /* bounded sort: at most :n candidates */ c.*, {_shown_columns(public)} FROM c"
        f" LEFT JOIN messages p ON p.id = CASE WHEN c.kind IN ({_TARGET_SQL}) THEN c.target ELSE c.id END"
        f" AND {shown_sql('p')} AND {shown_sql('c')}"
        f" AND (c.kind NOT IN ({_TARGET_SQL}) OR NOT EXISTS (SELECT 1 FROM tallies u WHERE u.target = c.target"
        f" AND u.kind = c.kind AND u.author = c.author AND u.seq < c.seq AND {shown_sql('u')})) {_NEWEST}"
        " ORDER BY c.sort_at DESC, c.seq DESC"
    )


ITEMS_TAIL = items_tail()


def with_items(candidates_sql: str, public: bool = False) -> str:
    """One statement giving each candidate of ``candidates_sql`` with what ``resolve`` would add to it; with
    ``public``, counted as anyone may see them."""
    return f"WITH c AS ({candidates_sql}) {items_tail(public)}"


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One entry of a timeline.

    ``seq``, ``sort_at`` and ``kind`` describe the entry (its place in the log; its place in time, its author's
    time clamped to its arrival; "post" or "boost"). ``raw``, ``id``, ``author``, ``created_at`` and ``origin``
    (how it came in) describe the post shown: for a boost that is the boosted post, and
    ``boosted_by``/``boost_raw``/``boost_origin`` describe the boost itself. The counts are of the shown post's
    stored replies, reactions and boosts. For an edited post, ``edit_raw`` is its newest edit as signed and
    ``edited_at`` that edit's created_at; both None for a post never edited.
    """

    seq: int
    raw: bytes
    kind: str
    boosted_by: str | None
    boost_raw: bytes | None
    replies: int
    reactions: int
    boosts: int
    origin: str
    id: str
    author: str
    created_at: int
    sort_at: int
    boost_origin: str | None = None
    edit_raw: bytes | None = None
    edited_at: int | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a timeline, newest first. Pass ``next_cursor`` as ``before`` for the next (older) page.

    ``next_cursor`` is None when nothing older exists. A timeline's is a ``Cursor`` in its text form; the
    notifications' is a seq. A page can hold fewer than ``limit`` items and still have a cursor when many
    candidates were dropped (boosts of posts this server does not hold).
    """

    items: list[Any]
    next_cursor: str | int | None


_CURSOR_TEXT = re.compile(r"([0-9]{1,16})\.([0-9]{1,19})")  # [0-9], not \d: other scripts' digits are refused


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """Where a timeline page stopped: the ``(sort_at, seq)`` of the last entry looked at.

    Timelines are ordered by that pair, newest first, and the next page holds exactly the entries that sort
    below it. Entries that arrive later sort either above the first page (new posts) or among older pages by
    their time (a backlog): none is shown twice or skipped. Written ``<sort_at>.<seq>`` (docs/api.md); clients
    pass it back as they got it.
    """

    at: int
    seq: int

    def __str__(self) -> str:
        return f"{self.at}.{self.seq}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        """The cursor a page handed out, or the top of the timeline for None; refused as ``bad_cursor``."""
        if text is None:
            return TOP
        match = _CURSOR_TEXT.fullmatch(text)
        if match is None or int(match[1]) > MAX_TIME or not 0 < int(match[2]) <= MAX_SEQ:
            raise Refused("bad_cursor", "before must be a next_cursor returned by a previous page of this timeline.")
        return cls(int(match[1]), int(match[2]))


TOP = Cursor(MAX_TIME, MAX_SEQ)
"""Above every entry: where the first page starts."""


@dataclass(frozen=True, slots=True)
class Candidate:
    seq: int
    id: bytes
    author: bytes
    kind: str
    created_at: int
    target: bytes | None
    origin: str
    raw: bytes
    sort_at: int

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Candidate:
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bytes(row[7]), row[8])

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.sort_at, self.seq)


Resolved = tuple[Candidate, "TimelineItem | None"]
"""A candidate and its item, None when it shows nothing (a boost of a post not held)."""
Fetch = Callable[[Cursor, int], Awaitable[list[Resolved]]]
"""Candidates sorting below ``before``, newest first, at most ``n``, each with its item: ``fetch(before, n)``."""


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise Refused("bad_value", f"limit must be between 1 and {MAX_LIMIT}; got {limit}.")
    return limit


def key_bytes(key_hex: str, what: str = "key") -> bytes:
    """A key or message id from its hex form, refused with a clear sentence when it is not one."""
    if len(key_hex) != 64:
        raise Refused("bad_key", f"The {what} must be 64 hex digits; got {len(key_hex)} characters.")
    try:
        return bytes.fromhex(key_hex)
    except ValueError as exc:
        raise Refused("bad_key", f"The {what} must be 64 hex digits.") from exc


async def select(conn: aiosqlite.Connection, sql: str, params: Sequence[Any] | dict[str, Any]) -> list[Any]:
    # One hand-off to the connection's thread: execute, fetch and close are three when done one by one, and each
    # costs the event loop a wake-up (a tenth of a member's publish went to such hand-offs, docs/performance.md).
    return list(await conn.execute_fetchall(sql, params))


async def resolve(
    conn: aiosqlite.Connection, candidates: Sequence[Candidate], *, public: bool = False
) -> list[TimelineItem]:
    """Items for candidates, in their order; boosts whose post is not held (or was deleted) are dropped. With
    ``public``, counted as anyone may see them."""
    if not candidates:
        return []
    wanted = {_shows(c) for c in candidates}
    wanted.discard(None)
    marks = ",".join("?" * len(wanted))
    shown = {row[0]: row for row in await select(conn, _RESOLVE_SQL[public].format(marks=marks), list(wanted))}
    items = (_item(c, shown.get(_shows(c))) for c in candidates)
    return [item for item in items if item is not None]


@dataclass(frozen=True, slots=True)
class Counts:
    replies: int
    reactions: int
    boosts: int


async def post_counts(store: Store, ids_hex: Sequence[str]) -> dict[str, Counts]:
    """The counts of each post held among ``ids_hex`` (at most ``MAX_COUNT_IDS``); others are left out."""
    if len(ids_hex) > MAX_COUNT_IDS:
        raise Refused("bad_request", f"Ask about at most {MAX_COUNT_IDS} posts at a time; got {len(ids_hex)}.")
    ids = list(dict.fromkeys(key_bytes(i, "message id") for i in ids_hex))
    if not ids:
        return {}
    rows = await select(store.conn, _COUNTS_SQL.format(marks=",".join("?" * len(ids))), ids)
    return {bytes(row[0]).hex(): Counts(row[1], row[2], row[3]) for row in rows}


async def shown_version(store: Store, msg_id: bytes) -> Version | None:
    """The version readers see of a held message when that is not the message as signed (a post's newest edit),
    else None."""
    rows = await select(store.conn, _VERSION_SQL, (msg_id,))
    return Version.from_row(rows[0]) if rows and rows[0][0] is not None else None


def _shows(c: Candidate) -> bytes | None:
    """The id of the message a candidate's entry shows: its own, or its target's (a boost)."""
    return c.target if c.kind in SHOWN_TARGET else c.id


def _item(c: Candidate, row: Sequence[Any] | None) -> TimelineItem | None:
    """The item of a candidate given the row of the message it shows (``_SHOWN_COLUMNS``), if that is an entry
    of its own (a post); a boost of anything else, or a kind that is no entry, shows nothing."""
    if row is None or row[2] not in SHOWN_ITSELF:
        return None
    boost = c.kind in SHOWN_TARGET
    return TimelineItem(
        seq=c.seq,
        raw=bytes(row[4]),
        kind=c.kind,
        boosted_by=c.author.hex() if boost else None,
        boost_raw=c.raw if boost else None,
        replies=row[5],
        reactions=row[6],
        boosts=row[7],
        origin=row[8],
        id=row[0].hex(),
        author=row[1].hex(),
        created_at=row[3],
        sort_at=c.sort_at,
        boost_origin=c.origin if boost else None,
        edit_raw=bytes(row[9]) if row[9] is not None else None,
        edited_at=row[10],
    )


def resolved_rows(rows: Sequence[Sequence[Any]]) -> list[Resolved]:
    """Rows of a ``with_items`` statement as (candidate, item) pairs."""
    out: list[Resolved] = []
    for row in rows:
        candidate = Candidate.from_row(row)
        out.append((candidate, _item(candidate, row[9:] if row[9] is not None else None)))
    return out


async def paginate(fetch: Fetch, *, limit: int, before: str | None) -> Page:
    """Fill one page from ``fetch``, reading further (more each round, a few rounds at most) past dropped
    candidates. ``before`` is a previous page's ``next_cursor`` (None for the first page).

    The cursor is that of the last candidate looked at, so the next page starts exactly where this one stopped,
    however many messages arrived since.
    """
    limit = check_limit(limit)
    cursor = Cursor.parse(before)
    items: list[TimelineItem] = []
    for round_ in range(FILL_ROUNDS):
        want = limit - len(items)
        n = want if round_ == 0 else min(want * 4**round_, 4 * MAX_LIMIT)
        rows = await fetch(cursor, n + 1)
        more = len(rows) > n
        rows = rows[:n]
        for index, (candidate, item) in enumerate(rows):
            if item is not None:
                items.append(item)
                if len(items) == limit:
                    return Page(items, str(candidate.cursor) if more or index < len(rows) - 1 else None)
        if not more:
            return Page(items, None)
        cursor = rows[-1][0].cursor
    return Page(items, str(cursor))
