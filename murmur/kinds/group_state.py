"""The state the store keeps for groups, and how a batch of messages changes it.

Every group kind's ``apply`` (and the posts addressed to a group) come through ``record``. It notes each
message under its group (``groups_log``, ``groups_posts``), then folds every group the batch touched again
from all of its messages (``murmur.kinds.group_fold``) and replaces that group's rows. Recomputing the whole
group is what makes a late message (an approval older than a removal already held, say) land exactly as if it
had come in time: the result is a function of the set of messages held, never of their arrival order.

A message naming a group whose creation message is not held yet is stored and logged; it waits, changing
nothing, and the group is folded with it as soon as the creation message arrives. Posts addressed to such a
group wait the same way: the group's timeline admits them once the fold says their author was a member.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite

from murmur.kinds.group_fold import MEMBER, STEPS, GroupState, fold
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
CREATE TABLE groups_posts (                         -- posts addressed to a group, in timeline order
    grp     BLOB NOT NULL,
    sort_at INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (grp, sort_at, seq)
) WITHOUT ROWID;
CREATE INDEX groups_posts_by_seq ON groups_posts (seq);
"""

_CREATE_SQL = "SELECT raw FROM messages WHERE id = ? AND kind = 'group'"
_LOGGED_SQL = "SELECT m.raw FROM groups_log l CROSS JOIN messages m ON m.seq = l.seq WHERE l.grp = ?"
_CLEAR = (
    "DELETE FROM groups_people WHERE grp = ?",
    "DELETE FROM groups_spans WHERE grp = ?",
    "DELETE FROM groups_marks WHERE grp = ?",
)


def group_of(m: Message) -> str | None:
    """The group a message belongs to: a creation message is its own group; others name theirs."""
    return m.id if m.kind == GROUP_KIND else m.tag("group")


async def record(conn: aiosqlite.Connection, stored: Iterable[tuple[int, Message]]) -> None:
    """Note a batch's group messages and group posts under their groups, then fold the groups they change."""
    logged: list[tuple[bytes, int]] = []
    posts: list[tuple[bytes, int]] = []
    touched: set[str] = set()
    for seq, m in stored:
        group = group_of(m)
        if group is None:
            continue
        if m.kind == "post":
            posts.append((bytes.fromhex(group), seq))
        elif m.kind == GROUP_KIND or m.kind in STEPS:
            logged.append((bytes.fromhex(group), seq))
            touched.add(group)
    await conn.executemany("INSERT OR IGNORE INTO groups_log (grp, seq) VALUES (?, ?)", logged)
    await conn.executemany(
        "INSERT OR IGNORE INTO groups_posts (grp, sort_at, seq) SELECT ?, sort_at, seq FROM messages WHERE seq = ?",
        posts,
    )
    for group in sorted(touched):
        await refold(conn, group)


async def refold(conn: aiosqlite.Connection, group: str) -> None:
    """Fold the group again from every message of it held, and replace its rows; nothing while its creation
    message is not held."""
    from murmur.validate import load_stored  # validation consults the registry, which holds this module

    key = bytes.fromhex(group)
    async with conn.execute(_CREATE_SQL, (key,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return
    async with conn.execute(_LOGGED_SQL, (key,)) as cursor:
        messages = [load_stored(bytes(r[0])) for r in await cursor.fetchall()]
    await _write(conn, fold(load_stored(bytes(row[0])), messages))


async def _write(conn: aiosqlite.Connection, state: GroupState) -> None:
    grp = bytes.fromhex(state.id)
    for sql in _CLEAR:
        await conn.execute(sql, (grp,))
    members = sum(p.status == MEMBER for p in state.people)
    # A group's name and description never change (its creation message is its only source), so they are
    # indexed for search once, under the row's rowid; refolds only move the member count.
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO groups (id, owner, name, description, rules, join_mode, created_at, members)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (grp, bytes.fromhex(state.owner), state.name, state.description, state.rules, state.join, state.created_at,
         members),
    )  # fmt: skip
    if cursor.rowcount == 1:
        await conn.execute(
            "INSERT INTO groups_fts (rowid, name, description) VALUES (?, ?, ?)",
            (cursor.lastrowid, state.name, state.description),
        )
    else:
        await conn.execute("UPDATE groups SET members = ? WHERE id = ?", (members, grp))
    await conn.executemany(
        "INSERT INTO groups_people (grp, key, status, role, since) VALUES (?,?,?,?,?)",
        [(grp, bytes.fromhex(p.key), p.status, p.role, p.since) for p in state.people],
    )
    await conn.executemany(
        "INSERT INTO groups_spans (grp, key, start_at, end_at) VALUES (?,?,?,?)",
        [(grp, bytes.fromhex(k), start, end) for k, start, end in state.spans],
    )
    marks = [("hidden", h) for h in state.hidden] + [("pinned", p) for p in state.pinned]
    await conn.executemany(
        "INSERT INTO groups_marks (grp, mark, post, by_key, at, msg, reason) VALUES (?,?,?,?,?,?,?)",
        [
            (grp, what, bytes.fromhex(k.post), bytes.fromhex(k.by), k.at, bytes.fromhex(k.message), k.reason)
            for what, k in marks
        ],
    )
