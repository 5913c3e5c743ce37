"""Reading groups: the directory, one group, its people, its timeline and its pinned announcements.

All of it reads the state ``murmur.kinds.group`` keeps (tables ``groups_*``), never the raw messages, except
``log``: the signed messages that state is folded from, for a device to fold them itself. A group whose creation
message is not held here is unknown: not in the directory, and ``group`` answers None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from murmur.kinds import shown_sql
from murmur.kinds.group_fold import MEMBER
from murmur.kinds.group_state import logged_sql, person_sql
from murmur.store import Store, fts_query
from murmur.store.audience import for_anyone
from murmur.store.items import (
    CANDIDATE_COLUMNS,
    ITSELF_SQL,
    Candidate,
    Cursor,
    Page,
    Resolved,
    TimelineItem,
    check_limit,
    paginate,
    resolve,
    resolved_rows,
    select,
    with_items,
)


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: str
    owner: str
    name: str
    description: str
    rules: str
    join: str
    created_at: int
    members: int


@dataclass(frozen=True, slots=True)
class GroupPerson:
    key: str
    status: str  # "member" | "pending" | "removed"
    role: str  # a member's: "owner" | "moderator" | "member"; "" for the others
    since: int


@dataclass(frozen=True, slots=True)
class Hidden:
    by: str
    reason: str
    at: int
    message: str


_GROUP_COLUMNS = "g.id, g.owner, g.name, g.description, g.rules, g.join_mode, g.created_at, g.members"
# A group is known to readers once its creation message is shown (``murmur.kinds.shown_sql``): one a device made
# for an identity whose log is not held here, or that a fork disputes, is no group yet, as its message is no post.
_SHOWN = f"EXISTS (SELECT 1 FROM messages c WHERE c.id = g.id AND {shown_sql('c')})"
_ONE_SQL = f"SELECT {_GROUP_COLUMNS} FROM groups g WHERE g.id = ? AND {_SHOWN}"
_NEWEST_SQL = (
    f"SELECT {_GROUP_COLUMNS} FROM groups g INDEXED BY groups_by_time WHERE {_SHOWN}"
    " ORDER BY g.created_at DESC, g.id DESC LIMIT :n"
)
_SEARCH_SQL = (
    f"SELECT {_GROUP_COLUMNS} FROM groups_fts f CROSS JOIN groups g ON g.rowid = f.rowid"
    f" WHERE groups_fts MATCH :q AND {_SHOWN} ORDER BY f.rank LIMIT :n"
)
# Who a device is in a group: its own key, the identity it currently speaks for (a private group invites
# identities), or another current device of that identity (the one that made the group, say): one person, whatever
# device signed.
_AS = (
    "(SELECT :key UNION SELECT d.identity FROM identity_devices d"
    " WHERE d.device = :key AND d.removed_at IS NULL AND d.disputed_at IS NULL"
    " UNION SELECT o.device FROM identity_devices d CROSS JOIN identity_devices o ON o.identity = d.identity"
    " WHERE d.device = :key AND d.removed_at IS NULL AND d.disputed_at IS NULL"
    " AND o.removed_at IS NULL AND o.disputed_at IS NULL)"
)
_MINE_SQL = (
    f"SELECT /* bounded sort: one person's groups */ {_GROUP_COLUMNS}, p.status, p.role"
    " FROM groups_people p CROSS JOIN groups g ON g.id = p.grp"
    f" WHERE p.key IN {_AS} AND p.status IN ('member', 'pending') AND {_SHOWN}"
    " ORDER BY g.name, g.id, CASE WHEN p.key = :key THEN 0 ELSE 1 END LIMIT :n"
)
_PEOPLE_SQL = (
    "SELECT /* bounded sort: one group's people */ key, status, role, since FROM groups_people WHERE grp = ?"
    " ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END,"
    " CASE status WHEN 'member' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, since, key"
)
_PERSON_SQL = (
    f"SELECT /* bounded sort: one person's places */ key, status, role, since FROM groups_people"
    f" WHERE grp = :grp AND key IN {_AS}"
    " ORDER BY CASE WHEN key = :key THEN 0 ELSE 1 END LIMIT 1"
)
_MODERATORS_SQL = (
    "SELECT key FROM groups_people WHERE grp = ? AND role = 'moderator' AND status = 'member' ORDER BY key"
)


_AUTHOR = person_sql("m.author")  # a device's entry is its identity's: a place in a group is the person's


# Entries (posts, polls, meetups: the kinds shown as themselves) addressed to the group whose author was a member at
# the entry's created_at (groups_spans), newest first. A post from before a removal stays; one written after it
# never enters.
def _timeline_sql(public: bool) -> str:
    audience = _ANYONE if public else ""
    return with_items(
        f"SELECT {CANDIDATE_COLUMNS} FROM groups_posts x CROSS JOIN messages m ON m.seq = x.seq"
        f" WHERE x.grp = :grp AND (x.sort_at, x.seq) < (:at, :seq) AND m.kind IN ({ITSELF_SQL}){audience}"
        f" AND EXISTS (SELECT 1 FROM groups_spans s WHERE s.grp = x.grp AND s.key IN {_AUTHOR}"
        " AND s.start_at <= m.created_at AND (s.end_at IS NULL OR m.created_at < s.end_at))"
        " ORDER BY x.sort_at DESC, x.seq DESC LIMIT :n",
        public,
    )


# Pinned entries that are the group's (addressed to it, by a member then), newest pin first.
def _pinned_sql(audience: str) -> str:
    return (
        f"SELECT /* bounded sort: one group's pins */ {CANDIDATE_COLUMNS}"
        " FROM groups_marks k CROSS JOIN messages m ON m.id = k.post"
        " CROSS JOIN groups_posts x ON x.seq = m.seq AND x.grp = k.grp"
        f" WHERE k.grp = :grp AND k.mark = 'pinned' AND m.kind IN ({ITSELF_SQL}){audience}"
        f" AND EXISTS (SELECT 1 FROM groups_spans s WHERE s.grp = k.grp AND s.key IN {_AUTHOR}"
        " AND s.start_at <= m.created_at AND (s.end_at IS NULL OR m.created_at < s.end_at))"
        " ORDER BY k.at DESC, k.post LIMIT :n"
    )


# Members read the group's posts whole; the web view (``public=True``) what the audience rule lets anyone see.
_ANYONE = f" AND {for_anyone('m')}"
_TIMELINE_SQL = {public: _timeline_sql(public) for public in (False, True)}
_PINNED_SQL = {False: _pinned_sql(""), True: _pinned_sql(_ANYONE)}
MAX_PINNED = 20


def _row(r: Sequence[object]) -> GroupRow:
    return GroupRow(
        bytes(r[0]).hex(),
        bytes(r[1]).hex(),
        str(r[2]),
        str(r[3]),
        str(r[4]),
        str(r[5]),
        int(r[6]),
        int(r[7]),  # type: ignore[arg-type, call-overload]
    )


def _person(r: Sequence[object]) -> GroupPerson:
    status = str(r[1])
    role = str(r[2]) or (MEMBER if status == MEMBER else "")
    return GroupPerson(bytes(r[0]).hex(), status, role, int(r[3]))  # type: ignore[arg-type, call-overload]


async def group(store: Store, group_id: str) -> GroupRow | None:
    rows = await select(store.conn, _ONE_SQL, (bytes.fromhex(group_id),))
    return _row(rows[0]) if rows else None


async def directory(store: Store, *, query: str = "", limit: int = 20) -> list[GroupRow]:
    """Groups whose name or description matches every word of ``query`` (as prefixes), best first; without a
    query, the newest groups."""
    limit = check_limit(limit)
    if not query.strip():
        return [_row(r) for r in await select(store.conn, _NEWEST_SQL, {"n": limit})]
    return [_row(r) for r in await select(store.conn, _SEARCH_SQL, {"q": fts_query(query, prefix=True), "n": limit})]


async def groups_of(store: Store, key: str, *, limit: int = 100) -> list[tuple[GroupRow, str, str]]:
    """The groups ``key`` (or the identity it speaks for, or another of that identity's current devices) is a
    member of or has asked to join, by name: each with their status and role."""
    rows = await select(store.conn, _MINE_SQL, {"key": bytes.fromhex(key), "n": check_limit(limit)})
    found: dict[str, tuple[GroupRow, str, str]] = {}
    for r in rows:  # a place of the key's own comes first, and stands for both
        found.setdefault(_row(r).id, (_row(r), str(r[8]), str(r[9]) or (MEMBER if r[8] == MEMBER else "")))
    return list(found.values())


async def people(store: Store, group_id: str) -> list[GroupPerson]:
    """Everyone the group has a status for: owner, moderators, members, then pending requests and removals."""
    return [_person(r) for r in await select(store.conn, _PEOPLE_SQL, (bytes.fromhex(group_id),))]


_SPANS_SQL = "SELECT key, start_at, end_at FROM groups_spans WHERE grp = ? ORDER BY start_at, key"


async def spans(store: Store, group_id: str) -> list[tuple[str, int, int | None]]:
    """When each person was a member, ``(key, start, end or None)``: who was in the group at each change (what
    a private group's member device needs to check an epoch made at that change, docs/encryption.md §16)."""
    rows = await select(store.conn, _SPANS_SQL, (bytes.fromhex(group_id),))
    return [(bytes(r[0]).hex(), int(r[1]), None if r[2] is None else int(r[2])) for r in rows]


async def log(store: Store, group_id: str) -> list[bytes]:
    """The group's creation message and every membership and moderation message naming it that counts
    (``logged_sql``: those readers are shown), as signed, in the order they came: what a device folds itself to
    know who held which role when (docs/encryption.md §16.5)."""
    sql = f"{logged_sql('m.raw')} ORDER BY l.seq"
    return [bytes(r[0]) for r in await select(store.conn, sql, (bytes.fromhex(group_id),))]


async def person(store: Store, group_id: str, key: str) -> GroupPerson | None:
    """The place ``key`` has in the group: its own, or else that of the identity it speaks for (or of another of
    that identity's current devices)."""
    rows = await select(store.conn, _PERSON_SQL, {"grp": bytes.fromhex(group_id), "key": bytes.fromhex(key)})
    return _person(rows[0]) if rows else None


async def moderators(store: Store, group_id: str) -> list[str]:
    """The keys of the group's moderators (the owner is not one of them)."""
    return [bytes(r[0]).hex() for r in await select(store.conn, _MODERATORS_SQL, (bytes.fromhex(group_id),))]


async def timeline(
    store: Store, group_id: str, *, limit: int = 20, before: str | None = None, public: bool = False
) -> Page:
    """The group's entries (posts, polls, meetups), newest first, cursor-paged like every timeline; hidden ones are
    in it (see ``hidden``). With ``public``, only those anyone may see."""
    grp = bytes.fromhex(group_id)
    sql = _TIMELINE_SQL[public]

    async def fetch(cursor: Cursor, n: int) -> list[Resolved]:
        params = {"grp": grp, "at": cursor.at, "seq": cursor.seq, "n": n}
        return resolved_rows(await select(store.conn, sql, params))

    return await paginate(fetch, limit=limit, before=before)


async def pinned(store: Store, group_id: str, *, public: bool = False) -> list[TimelineItem]:
    rows = await select(store.conn, _PINNED_SQL[public], {"grp": bytes.fromhex(group_id), "n": MAX_PINNED})
    return await resolve(store.conn, [Candidate.from_row(r) for r in rows], public=public)


async def hidden(store: Store, group_id: str, post_ids: Sequence[str]) -> dict[str, Hidden]:
    """Which of ``post_ids`` a moderator hid in the group: by whom, why, when, with which message."""
    wanted = sorted(set(post_ids))
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    sql = (
        "SELECT post, by_key, reason, at, msg FROM groups_marks WHERE grp = ? AND mark = 'hidden'"
        f" AND post IN ({marks})"
    )
    rows = await select(store.conn, sql, [bytes.fromhex(group_id), *(bytes.fromhex(i) for i in wanted)])
    return {bytes(r[0]).hex(): Hidden(bytes(r[1]).hex(), str(r[2]), int(r[3]), bytes(r[4]).hex()) for r in rows}
