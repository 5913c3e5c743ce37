"""The state the store keeps for groups, and how a batch of messages changes it.

Every group kind's ``apply`` (and the entries addressed to a group: posts, polls, meetups, every kind a timeline
shows as itself) come through ``record``. It notes each message under its group (``groups_log``,
``groups_posts``), then folds every group the batch touched again
from all of its messages (``murmur.kinds.group_fold``) and replaces that group's rows. Recomputing the whole
group is what makes a late message (an approval older than a removal already held, say) land exactly as if it
had come in time: the result is a function of the set of messages held, never of their arrival order.

Folding the whole group for every message would cost a group of n members n message reads per join, so a
batch whose messages all come after everything the group's rows already hold (``groups_folded``: the last
message folded, in fold order), which is how a live group grows, resumes the fold instead: from the rows of
the people and posts those messages are about, the only state their steps read. Anything older, or the
creation message itself, folds the group again from all of its messages, so the rows are the same either way
(tests/store/test_group_fold_resume.py).

An act counts with the role of the person who signed it (``murmur.kinds.group_speakers``): the device spans the
identity logs in force give (``identity_devices``) are read for the keys a fold looks at, and when a log changes
(a device added or removed, or a log arriving after the group's messages) the groups it (or one of its devices)
holds a role in are folded again (``refold_people``), so the rows follow the logs as they follow the messages.

A message naming a group whose creation message is not held yet is stored and logged; it waits, changing
nothing, and the group is folded with it as soon as the creation message arrives. Entries addressed to such a
group wait the same way: the group's timeline admits them once the fold says their author was a member.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite

from murmur.kinds.base import chunks, select_in
from murmur.kinds.group_fold import MEMBER, STEPS, Folding, GroupState, Mark, Person, apply, fold, order, steps
from murmur.kinds.group_speakers import DeviceSpan, Speakers
from murmur.message import Message

GROUP_KIND = "group"

# The tables, created by the ``group`` kind's migration. Keys and ids are 32-byte BLOBs as everywhere.
SCHEMA = """
CREATE TABLE groups_log (                           -- every group message held, under its group
    grp BLOB NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (grp, seq)
) WITHOUT ROWID;
CREATE INDEX groups_log_by_seq ON groups_log (seq);  -- a batch's messages to their groups (notices)
CREATE TABLE groups (                               -- one row per group whose creation message is held
    id          BLOB PRIMARY KEY,
    owner       BLOB NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    rules       TEXT NOT NULL,
    join_mode   TEXT NOT NULL,                      -- 'open' | 'approval'
    created_at  INTEGER NOT NULL,
    members     INTEGER NOT NULL
);
CREATE INDEX groups_by_time ON groups (created_at, id);  -- the directory, newest first
CREATE VIRTUAL TABLE groups_fts USING fts5 (       -- rowid: the groups row's
    name, description, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE groups_people (                        -- the fold's status and role of each person
    grp    BLOB NOT NULL,
    key    BLOB NOT NULL,
    status TEXT NOT NULL,                           -- 'member' | 'pending' | 'removed'
    role   TEXT NOT NULL,                           -- 'owner' | 'moderator' | ''
    since  INTEGER NOT NULL,
    PRIMARY KEY (grp, key)
) WITHOUT ROWID;
CREATE INDEX groups_people_by_key ON groups_people (key, grp);
CREATE TABLE groups_spans (                         -- when each person was a member: [start_at, end_at)
    grp      BLOB NOT NULL,
    key      BLOB NOT NULL,
    start_at INTEGER NOT NULL,
    end_at   INTEGER,                               -- NULL: still a member
    PRIMARY KEY (grp, key, start_at)
) WITHOUT ROWID;
CREATE TABLE groups_marks (                         -- posts hidden or pinned by a moderator
    grp    BLOB NOT NULL,
    mark   TEXT NOT NULL,                           -- 'hidden' | 'pinned'
    post   BLOB NOT NULL,
    by_key BLOB NOT NULL,
    at     INTEGER NOT NULL,
    msg    BLOB NOT NULL,                           -- the hide or pin message
    reason TEXT NOT NULL,
    PRIMARY KEY (grp, mark, post)
) WITHOUT ROWID;
CREATE TABLE groups_posts (                         -- entries addressed to a group, in timeline order
    grp     BLOB NOT NULL,
    sort_at INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (grp, sort_at, seq)
) WITHOUT ROWID;
CREATE INDEX groups_posts_by_seq ON groups_posts (seq);
"""

# The last message folded into a group's rows, in fold order (a second migration of the ``group`` kind).
FOLDED = "CREATE TABLE groups_folded (grp BLOB PRIMARY KEY, at INTEGER NOT NULL, id BLOB NOT NULL) WITHOUT ROWID;"

# The third: polls and meetups became entries of a group's timeline, as its posts are (``record`` asks the registry
# which kinds a timeline shows as themselves). Those already held are noted under the group their ``group`` tag
# names. History, kept as it ran: the kinds are the ones that were entries besides posts when it was written.
# ``murmur_unhex`` exists while migrating (murmur/store/db.py): SQLite 3.40 has no unhex().
ENTRIES_BACKFILL = """
INSERT INTO groups_posts (grp, sort_at, seq)
    SELECT murmur_unhex(json_extract(t.value, '$[1]')), m.sort_at, m.seq
    FROM messages m CROSS JOIN json_each(CAST(m.raw AS TEXT), '$.tags') t
    WHERE m.kind IN ('poll', 'meetup') AND json_extract(t.value, '$[0]') = 'group'
        AND murmur_unhex(json_extract(t.value, '$[1]')) IS NOT NULL
    ON CONFLICT DO NOTHING;
"""

_CREATE_SQL = "SELECT raw FROM messages WHERE id = ? AND kind = 'group'"


def person_sql(key: str) -> str:
    """SQL naming the keys under which the person signing with ``key`` (a column) has a place in a group: the key
    itself, and the identity whose log lists it as a device (the fold keeps a place under the person,
    ``Folding.who``). Whether the device was current when it signed is the shown rule's to say, not this."""
    return f"(SELECT {key} UNION SELECT pd.identity FROM identity_devices pd WHERE pd.device = {key})"



def logged_sql(columns: str) -> str:
    """SQL selecting ``columns`` of the group's messages (bound to its id) that count: those readers are shown
    (``murmur.kinds.shown_sql``). A join signed by a device whose identity's log is not held, or whose device a
    fork disputes, makes nobody a member until the log says the device speaks for it; the server's fold, a
    device's own fold of the group's log and a poll's recount all read this one set. Built when asked: the
    registry is not whole while this module is imported."""
    from murmur.kinds import shown_sql

    return (
        f"SELECT {columns} FROM groups_log l CROSS JOIN messages m ON m.seq = l.seq"
        f" WHERE l.grp = ? AND {shown_sql('m')}"
    )


# What a step reads of a message, from its columns: a whole fold parses no message again. ``reason`` is a
# hide's; no other step reads its body.
_STEP_COLUMNS = (
    "m.id, m.kind, m.author, m.created_at, m.subject, m.target, json_extract(CAST(m.raw AS TEXT), '$.body.reason')"
)
_CLEAR = (
    "DELETE FROM groups_people WHERE grp = ?",
    "DELETE FROM groups_spans WHERE grp = ?",
    "DELETE FROM groups_marks WHERE grp = ?",
)


def group_of(m: Message) -> str | None:
    """The group a message belongs to: a creation message is its own group; others name theirs."""
    return m.id if m.kind == GROUP_KIND else m.tag("group")


async def record(conn: aiosqlite.Connection, stored: Iterable[tuple[int, Message]]) -> None:
    """Note a batch's group messages and the entries addressed to a group (``Kind.shown_as`` "itself": posts,
    polls, meetups) under their groups, then fold the groups they change."""
    from murmur.kinds import kind_or_unknown  # the registry holds this module

    logged: list[tuple[bytes, int]] = []
    posts: list[tuple[bytes, int]] = []
    touched: dict[str, list[Message]] = {}
    for seq, m in stored:
        group = group_of(m)
        if group is None:
            continue
        if kind_or_unknown(m.kind).shown_as == "itself":
            posts.append((bytes.fromhex(group), seq))
        elif m.kind == GROUP_KIND or m.kind in STEPS:
            logged.append((bytes.fromhex(group), seq))
            touched.setdefault(group, []).append(m)
    await conn.executemany("INSERT OR IGNORE INTO groups_log (grp, seq) VALUES (?, ?)", logged)
    await conn.executemany(
        "INSERT OR IGNORE INTO groups_posts (grp, sort_at, seq) SELECT ?, sort_at, seq FROM messages WHERE seq = ?",
        posts,
    )
    hidden = await _withheld(conn, [seq for seq, m in stored if m.kind in STEPS])
    for group in sorted(touched):
        await refold(conn, group, [m for m in touched[group] if m.id not in hidden])


async def _withheld(conn: aiosqlite.Connection, seqs: Sequence[int]) -> set[str]:
    """The ids of the held messages among ``seqs`` readers are not shown (``murmur.kinds.shown_sql``)."""
    from murmur.kinds import shown_sql

    if not seqs:
        return set()
    sql = f"SELECT m.id FROM messages m WHERE m.seq IN ({{marks}}) AND NOT ({shown_sql('m')})"
    return {bytes(r[0]).hex() for r in await select_in(conn, sql, list(seqs))}


async def reshow(conn: aiosqlite.Connection, seqs: Sequence[int]) -> None:
    """Fold again, from every message of it that counts, each group a message among ``seqs`` belongs to: whether
    readers are shown it changed (its device's identity log came, or a fork settled or disputed the device), or it
    was taken away. What it now does is told as if it had just come (the membership kinds' notices: the owner hears
    of a request to join once it counts)."""
    from murmur.kinds import REGISTRY, shown_sql

    groups = sorted({bytes(r[0]) for r in await select_in(conn, _GROUPS_OF_SQL, list(seqs))})
    for grp in groups:
        await refold(conn, grp.hex(), [], whole=True)
    if not groups:
        return
    shown = f"SELECT m.seq FROM messages m WHERE m.seq IN ({{marks}}) AND {shown_sql('m')}"
    rules = [rule for name in STEPS if name in REGISTRY for rule in REGISTRY[name].notices]
    for (seq,) in await select_in(conn, shown, list(seqs)):
        for rule in rules:
            await conn.execute(rule, {"lo": int(seq), "hi": int(seq)})


_GROUPS_OF_SQL = "SELECT DISTINCT grp FROM groups_log WHERE seq IN ({marks})"


async def refold(conn: aiosqlite.Connection, group: str, arrived: list[Message], *, whole: bool = False) -> None:
    """Bring the group's rows up to date with ``arrived`` (this batch's messages of it that count, already
    logged): resumed when they all come after what the rows hold, else (or when ``whole``: what counts changed, or
    a log a role holder signs by did) folded again from every message of the group that counts (``logged_sql``).
    Nothing while its creation message is not held."""
    from murmur.validate import load_stored  # validation consults the registry, which holds this module

    key = bytes.fromhex(group)
    async with conn.execute(_CREATE_SQL, (key,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return
    create = load_stored(bytes(row[0]))
    async with conn.execute("SELECT at, id FROM groups_folded WHERE grp = ?", (key,)) as cursor:
        folded = await cursor.fetchone()
    new = steps(create, arrived)
    if not whole and folded is not None and all(order(m) > (int(folded[0]), bytes(folded[1]).hex()) for m in new):
        await _resume(conn, create, new)
        last = new[-1] if new else None
    else:
        async with conn.execute(logged_sql(_STEP_COLUMNS), (key,)) as cursor:
            held = [_stepped(group, r) for r in await cursor.fetchall()]
        state = fold(create, held, await speakers_of(conn, [create, *held], []))
        await _write(conn, state)
        ordered = steps(create, held)
        last = ordered[-1] if ordered else create
    if last is not None:
        await conn.execute(
            "INSERT INTO groups_folded (grp, at, id) VALUES (?, ?, ?)"
            " ON CONFLICT (grp) DO UPDATE SET at = excluded.at, id = excluded.id",
            (key, last.created_at, bytes.fromhex(last.id)),
        )


def _stepped(group: str, r: Sequence[Any]) -> Message:
    """A held message of the group as the fold reads it, from its columns (ingest verified it on the way in)."""
    tags = [("group", group)]
    tags += [(name, bytes(value).hex()) for name, value in (("subject", r[4]), ("target", r[5])) if value is not None]
    body = {} if r[6] is None else {"reason": str(r[6])}
    return Message(
        id=bytes(r[0]).hex(), sig="", kind=str(r[1]), author=bytes(r[2]).hex(), created_at=int(r[3]), body=body,
        tags=tuple(tags), raw=b"",
    )  # fmt: skip


_HOLDERS_SQL = "SELECT key FROM groups_people WHERE grp = ? AND role != ''"
_DEVICES_SQL = (
    "SELECT device, identity, added_at, removed_at, disputed_at FROM identity_devices WHERE device IN ({marks})"
)


async def speakers_of(conn: aiosqlite.Connection, messages: Iterable[Message], keys: Iterable[str]) -> Speakers:
    """Whom the authors and subjects of ``messages`` and ``keys`` speak for, by the identity logs held. A key two
    logs list (a device moved) is taken as the one that still lists it, if any."""
    wanted = {k for m in messages for k in (m.author, m.tag("subject")) if k} | set(keys)
    spans: dict[str, DeviceSpan] = {}
    for r in await select_in(conn, _DEVICES_SQL, sorted(bytes.fromhex(k) for k in wanted)):
        span = DeviceSpan(bytes(r[1]).hex(), int(r[2]), _maybe(r[3]), _maybe(r[4]))
        key = bytes(r[0]).hex()
        if key not in spans or (spans[key].removed_at is not None and span.removed_at is None):
            spans[key] = span
    return Speakers(spans)


def speaking_rows(where: str) -> str:
    """SQL: aggregate columns over the device spans of the authors of the held messages ``m`` that ``where``
    selects, which move whenever whom one of them speaks for changes (a key added to an identity, removed from
    it, disputed or settled): for a figure counted per person and remembered (``murmur.kinds.remembered``)."""
    return (
        "SELECT count(*), coalesce(sum(d.added_at), 0), coalesce(sum(d.removed_at), 0), count(d.removed_at),"
        " coalesce(sum(d.disputed_at), 0), count(d.disputed_at)"
        f" FROM messages m CROSS JOIN identity_devices d ON d.device = m.author WHERE {where}"
    )


def _maybe(value: Any) -> int | None:
    return None if value is None else int(value)


_HELD_SQL = "SELECT DISTINCT grp FROM groups_people WHERE role != '' AND key IN ({marks})"
_PLACED_SQL = "SELECT DISTINCT grp FROM groups_people WHERE key IN ({marks})"


async def refold_people(conn: aiosqlite.Connection, keys: Iterable[str], placed: Iterable[str] = ()) -> None:
    """Fold again every group in which one of ``keys`` (an identity and its devices, whose log just changed) holds
    a role, and every group in which one of ``placed`` (the identity and the keys its log now lists or no longer
    does) has a place (a membership, a request, a removal): whose acts count with a role follows the log's times,
    and whose place a key names follows which keys it lists (``Folding.who``). Only those groups: a device of an
    identity with no place in a group changes it only through its own messages, which ``reshow`` folds as they
    are shown."""
    groups = {bytes(r[0]).hex() for r in await select_in(conn, _HELD_SQL, sorted({bytes.fromhex(k) for k in keys}))}
    wanted = sorted({bytes.fromhex(k) for k in placed})
    groups |= {bytes(r[0]).hex() for r in await select_in(conn, _PLACED_SQL, wanted)}
    for group in sorted(groups):
        await refold(conn, group, [], whole=True)


_PEOPLE_OF = "SELECT key, status, role, since FROM groups_people WHERE grp = ? AND key IN ({marks})"
_OPEN_OF = "SELECT key, start_at FROM groups_spans WHERE grp = ? AND end_at IS NULL AND key IN ({marks})"
_MARKS_OF = "SELECT mark, post, by_key, at, msg, reason FROM groups_marks WHERE grp = ? AND post IN ({marks})"


async def _rows(conn: aiosqlite.Connection, sql: str, grp: bytes, keys: list[bytes]) -> list[Any]:
    async with conn.execute(sql.format(marks=",".join("?" * len(keys))), (grp, *keys)) as cursor:
        return list(await cursor.fetchall())


async def _resume(conn: aiosqlite.Connection, create: Message, new: list[Message]) -> None:
    """Apply ``new`` (in fold order, all after what the rows hold) to the rows of the people and posts they
    are about: each step reads and writes only its author's, its subject's and its target's state."""
    if not new:
        return
    grp = bytes.fromhex(create.id)
    holders = [bytes(r[0]) for r in await conn.execute_fetchall(_HOLDERS_SQL, (grp,))]
    s = Folding(owner=create.author, join=str(create.body.get("join", "open")),
                speakers=await speakers_of(conn, [create, *new], [k.hex() for k in holders]))  # fmt: skip
    # the people the steps are about (a device's key stands for its identity's place), and the role holders too:
    # whose role an act has is asked of every one of them (they are few)
    named = {k for m in new for k in (m.author, m.tag("subject"), s.owner) if k}
    keys = sorted({bytes.fromhex(k) for k in named | {s.who(k) for k in named}} | set(holders))
    posts = sorted({bytes.fromhex(t) for m in new if (t := m.tag("target"))})
    for part in chunks(keys):
        for key, status, role, since in await _rows(conn, _PEOPLE_OF, grp, list(part)):
            s.status[bytes(key).hex()], s.since[bytes(key).hex()] = str(status), int(since)
            if role:
                s.role[bytes(key).hex()] = str(role)
        for key, start in await _rows(conn, _OPEN_OF, grp, list(part)):
            s.open_spans[bytes(key).hex()] = int(start)
    for part in chunks(posts):
        for what, post, by, at, msg, reason in await _rows(conn, _MARKS_OF, grp, list(part)):
            marks = s.hidden if what == "hidden" else s.pinned
            marks[bytes(post).hex()] = Mark(bytes(post).hex(), bytes(by).hex(), int(at), bytes(msg).hex(), reason)
    apply(s, new)
    await conn.executemany("DELETE FROM groups_people WHERE grp = ? AND key = ?", [(grp, k) for k in keys])
    await conn.executemany(
        "DELETE FROM groups_spans WHERE grp = ? AND key = ? AND end_at IS NULL", [(grp, k) for k in keys]
    )
    await conn.executemany("DELETE FROM groups_marks WHERE grp = ? AND post = ?", [(grp, p) for p in posts])
    await _insert(
        conn,
        grp,
        [Person(k, status, s.role.get(k, ""), s.since[k]) for k, status in s.status.items()],
        [*s.spans, *((k, start, None) for k, start in s.open_spans.items())],
        [*(("hidden", h) for h in s.hidden.values()), *(("pinned", p) for p in s.pinned.values())],
    )
    await conn.execute(
        "UPDATE groups SET members = (SELECT count(*) FROM groups_people WHERE grp = ?1 AND status = 'member')"
        " WHERE id = ?1",
        (grp,),
    )


async def _write(conn: aiosqlite.Connection, state: GroupState) -> None:
    grp = bytes.fromhex(state.id)
    for sql in _CLEAR:
        await conn.execute(sql, (grp,))
    members = sum(p.status == MEMBER for p in state.people)
    # A group's name and description never change (its creation message is its only source), so they are
    # indexed for search once, under the row's rowid; refolds only move the member count.
    # RETURNING rather than lastrowid: both engines answer it (docs/architecture.md, "Two engines").
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO groups (id, owner, name, description, rules, join_mode, created_at, members)"
        " VALUES (?,?,?,?,?,?,?,?) RETURNING rowid",
        (grp, bytes.fromhex(state.owner), state.name, state.description, state.rules, state.join, state.created_at,
         members),
    )  # fmt: skip
    inserted = await cursor.fetchone()
    if inserted is not None:
        await conn.execute(
            "INSERT INTO groups_fts (rowid, name, description) VALUES (?, ?, ?)",
            (inserted[0], state.name, state.description),
        )
    else:
        await conn.execute("UPDATE groups SET members = ? WHERE id = ?", (members, grp))
    await _insert(
        conn,
        grp,
        state.people,
        state.spans,
        [*(("hidden", h) for h in state.hidden), *(("pinned", p) for p in state.pinned)],
    )


async def _insert(
    conn: aiosqlite.Connection,
    grp: bytes,
    people: Iterable[Person],
    spans: Iterable[tuple[str, int, int | None]],
    marks: Iterable[tuple[str, Mark]],
) -> None:
    await conn.executemany(
        "INSERT INTO groups_people (grp, key, status, role, since) VALUES (?,?,?,?,?)",
        [(grp, bytes.fromhex(p.key), p.status, p.role, p.since) for p in people],
    )
    await conn.executemany(
        "INSERT INTO groups_spans (grp, key, start_at, end_at) VALUES (?,?,?,?)",
        [(grp, bytes.fromhex(k), start, end) for k, start, end in spans],
    )
    await conn.executemany(
        "INSERT INTO groups_marks (grp, mark, post, by_key, at, msg, reason) VALUES (?,?,?,?,?,?,?)",
        [
            (grp, what, bytes.fromhex(k.post), bytes.fromhex(k.by), k.at, bytes.fromhex(k.message), k.reason)
            for what, k in marks
        ],
    )


_SPANS_SQL = "SELECT key, start_at, end_at FROM groups_spans WHERE grp = ?"
_DEVICES_OF_SQL = "SELECT device, identity FROM identity_devices WHERE identity IN ({marks})"


async def member_at(conn: aiosqlite.Connection, group: str) -> Callable[[str, int], bool]:
    """Whether a key (a device's for its identity) was a member of the group at a time (ms), by the spans of
    membership its fold keeps: what a group poll's ballots and a group meetup's RSVPs are counted by, so fresh keys
    cannot stuff them."""
    spans: dict[str, list[tuple[int, int | None]]] = {}
    async with conn.execute(_SPANS_SQL, (bytes.fromhex(group),)) as cursor:
        for key, start, end in await cursor.fetchall():
            spans.setdefault(bytes(key).hex(), []).append((int(start), None if end is None else int(end)))
    identity = {
        bytes(r[0]).hex(): bytes(r[1]).hex()
        for r in await select_in(conn, _DEVICES_OF_SQL, sorted(bytes.fromhex(k) for k in spans))
    }

    def member(key: str, at: int) -> bool:
        held = [*spans.get(key, ()), *(spans.get(identity[key], ()) if key in identity else ())]
        return any(start <= at and (end is None or at < end) for start, end in held)

    return member
