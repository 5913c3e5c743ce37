"""What narrows a message, kept as messages arrive: the ``confined`` and ``scoped`` tables.

The order messages arrive in must not matter, so the store keeps the ids of everything that stays here in the
``confined`` table, and the scopes of everything scoped in ``scoped``, both kept at ingest from both ends: a
new message that names a confined (scoped) id is confined (scoped alike), and a new local (scoped) post
confines (scopes) the stored messages that already name it. A row is never taken out, not even when a delete
removes the message: a reply that arrives after its local parent was deleted still stays here; and a local or
scoped post that arrives after its own delete, never stored, is narrowed all the same (``narrow_unstored``).
A reply that was already sent to peers before its parent turned out to be local or scoped cannot be called
back, but from that moment on it is never pushed, served, repaired or exported again beyond its audience.

How the messages of one batch are cut up, and in what order they came, must not matter either, yet a message
that is not held (deleted, removed by a moderator, arriving after either) is not in ``messages`` for the walks to
follow. So the ``unheld`` table keeps, for each such message, the ids it names (``keep_names``, as it is removed or
turned away), and ``follow_unheld`` carries what this batch narrowed on through them: a reply deleted before its
scoped thread arrived, or in the same batch, takes the thread's scope all the same, and so does what names it.

What leans on a scoped message that does not reach a peer by itself is kept alongside, in the same
transactions (``murmur.store.audience.adrift``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import aiosqlite

from murmur.kinds.base import chunks, execute_each
from murmur.message import SCOPE_PREFIX, Message
from murmur.store.audience.adrift import DRIFT_NEW, drift_from
from murmur.store.audience.doors import REFUSED_LOCAL
from murmur.store.audience.scopes import REFERENCES, named, named_ids, names, scope_of
from murmur.store.audience.waiting import settle, wait_new

if TYPE_CHECKING:  # the store imports ingest, which imports this module
    from murmur.store import Store


def _confine(seeds: str) -> str:
    """The statement that confines ``seeds`` (a SELECT of ids) and every stored message naming one of them,
    transitively. A message already confined is not walked again: what named it then was confined then."""
    return (
        f"WITH RECURSIVE stay (id) AS ({seeds}"
        " UNION SELECT m.id FROM stay s JOIN messages m ON "
        + names("m", "s.id")
        + " WHERE NOT EXISTS (SELECT 1 FROM confined c WHERE c.id = m.id))"
        " INSERT OR IGNORE INTO confined (id) SELECT id FROM stay"
    )


# Seeds among the rows with seq in [:lo, :hi]: local posts, and messages naming a confined id.
_NEW_SEEDS = (
    "SELECT n.id FROM messages n WHERE n.seq BETWEEN :lo AND :hi AND (n.visibility = 'local'"
    " OR EXISTS (SELECT 1 FROM confined c WHERE c.id IN (" + named("n") + ")))"
)
CONFINE_NEW = _confine(_NEW_SEEDS)

# The migration that adds the table fills it from the whole log once.
CREATE_CONFINED = (
    "CREATE TABLE IF NOT EXISTS confined (id BLOB PRIMARY KEY);  -- what stays on this server\n"
    + _confine("SELECT id FROM messages WHERE visibility = 'local'")
    + ";"
)


async def confine(conn: aiosqlite.Connection, lo: int, hi: int) -> None:
    """Apply the rule to messages just stored with seq in [lo, hi] (inside the caller's write transaction)."""
    await execute_each(conn, BATCH_RULES, {"lo": lo, "hi": hi})
    await wait_new(conn, lo, hi)


def _scope(seeds: str) -> str:
    """The statement that gives ``seeds`` (a SELECT of ``id, scope``) and every stored message naming one of
    them, transitively, that scope. A message already in the scope is not walked again."""
    return (
        f"WITH RECURSIVE reach (id, scope) AS ({seeds}"
        " UNION SELECT m.id, r.scope FROM reach r JOIN messages m ON "
        + names("m", "r.id")
        + " WHERE NOT EXISTS (SELECT 1 FROM scoped x WHERE x.id = m.id AND x.scope = r.scope))"
        " INSERT INTO scoped (id, scope) SELECT id, scope FROM reach WHERE true ON CONFLICT DO NOTHING"
    )


# Seeds among the rows with seq in [:lo, :hi]: scoped posts, and messages naming a scoped id.
SCOPE_NEW = _scope(
    f"SELECT n.id, substr(n.visibility, {len(SCOPE_PREFIX) + 1}) FROM messages n"
    f" WHERE n.seq BETWEEN :lo AND :hi AND n.visibility LIKE '{SCOPE_PREFIX}%'"
    " UNION SELECT n.id, x.scope FROM messages n JOIN scoped x ON x.id IN ("
    + named("n")
    + ") WHERE n.seq BETWEEN :lo AND :hi"
)

# What each ingest batch runs over its seqs, in order (``confine``; ``bench.pg_plans`` explains them).
BATCH_RULES = (CONFINE_NEW, SCOPE_NEW, *DRIFT_NEW)

CREATE_SCOPED = (
    "CREATE TABLE IF NOT EXISTS scoped (id BLOB NOT NULL, scope TEXT NOT NULL, PRIMARY KEY (id, scope));"
    "  -- what goes only to peers carrying the scope's label\n"
)


# Migration 18: what each message not held here names (murmur.store.schema), so narrowing walks through it.
CREATE_UNHELD = (
    "CREATE TABLE IF NOT EXISTS unheld (named BLOB NOT NULL, id BLOB NOT NULL, PRIMARY KEY (named, id));"
    "  -- an id not held here, and one it names\n"
)


async def keep_names(conn: aiosqlite.Connection, ids: Sequence[bytes]) -> None:
    """Remember what the stored messages ``ids``, about to be removed, name (inside the caller's transaction)."""
    for part in chunks(list(ids)):
        marks = ", ".join("?" * len(part))
        for column in REFERENCES:
            await conn.execute(
                f"INSERT INTO unheld (named, id) SELECT {column}, id FROM messages"
                f" WHERE id IN ({marks}) AND {column} IS NOT NULL ON CONFLICT DO NOTHING",
                part,
            )


async def mark(conn: aiosqlite.Connection) -> tuple[int, int]:
    """Where the ``confined`` and ``scoped`` tables end now: ``follow_unheld`` starts from there."""
    rows = await conn.execute_fetchall(  # one hand-off to the database thread, not two: every batch asks
        "SELECT (SELECT coalesce(max(rowid), 0) FROM confined), (SELECT coalesce(max(rowid), 0) FROM scoped)"
    )
    return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)


_UNHELD_CONFINED = (
    "SELECT DISTINCT u.id FROM confined c JOIN unheld u ON u.named = c.id WHERE c.rowid > :confined"
    " AND NOT EXISTS (SELECT 1 FROM confined d WHERE d.id = u.id)"
)
_UNHELD_SCOPED = (
    "SELECT DISTINCT u.id, x.scope FROM scoped x JOIN unheld u ON u.named = x.id WHERE x.rowid > :scoped"
    " AND NOT EXISTS (SELECT 1 FROM scoped y WHERE y.id = u.id AND y.scope = x.scope)"
)


async def follow_unheld(conn: aiosqlite.Connection, since: tuple[int, int]) -> None:
    """Narrow the unheld ids naming what was narrowed after ``since`` (a ``mark``), and what names them in turn,
    until nothing more changes: the walks of ``confine`` follow only held messages."""
    while True:
        bounds = {"confined": since[0], "scoped": since[1]}
        confined = [bytes(r[0]) for r in await conn.execute_fetchall(_UNHELD_CONFINED, bounds)]
        scoped = [(bytes(r[0]), str(r[1])) for r in await conn.execute_fetchall(_UNHELD_SCOPED, bounds)]
        if not confined and not scoped:
            return
        since = await mark(conn)
        for msg_id in confined:
            await _narrow_id(conn, msg_id, True, set())
        for msg_id, scope in scoped:
            await _narrow_id(conn, msg_id, False, {scope})
        await drift_from(conn, list(dict.fromkeys(msg_id for msg_id, _ in scoped)))


async def _narrow_id(conn: aiosqlite.Connection, msg_id: bytes, confined: bool, scopes: set[str]) -> None:
    """Confine the id ``msg_id`` and give it ``scopes``, with every stored message naming it, transitively."""
    own = {"id": msg_id}
    if confined:
        await conn.execute("INSERT INTO confined (id) VALUES (:id) ON CONFLICT DO NOTHING", own)
        await conn.execute(_CONFINE_ONE, own)
    for scope in sorted(scopes):
        await conn.execute(
            "INSERT INTO scoped (id, scope) VALUES (:id, :scope) ON CONFLICT DO NOTHING", {**own, "scope": scope}
        )
    if scopes:
        await conn.execute(_SCOPE_ONE, own)


class IngestResultLike(Protocol):
    """What confine_refused reads of an ingest result (murmur.store.ingest imports this module)."""

    code: str | None
    id: str | None


CONFINE_SINCE = _confine("SELECT id FROM confined WHERE rowid > :mark")
_CONFINE_ONE = _confine("SELECT id FROM confined WHERE id = :id")
_SCOPE_ONE = _scope("SELECT id, scope FROM scoped WHERE id = :id")


async def confine_refused(conn: aiosqlite.Connection, results: Sequence[IngestResultLike | None]) -> None:
    """Remember the local posts a door refused (a peer's, a bundle's): they are not stored, but whatever names
    them, before or after, stays here all the same. Their signatures were checked, so an id confined this way
    is that of a genuine local post, and only messages naming that very post are held back."""
    ids = [(bytes.fromhex(r.id),) for r in results if r is not None and r.code in REFUSED_LOCAL and r.id]
    if not ids:
        return
    async with conn.execute("SELECT coalesce(max(rowid), 0) FROM confined") as cursor:
        row = await cursor.fetchone()
    await conn.executemany("INSERT OR IGNORE INTO confined (id) VALUES (?)", ids)
    await conn.execute(CONFINE_SINCE, {"mark": row[0] if row else 0})
    await settle(conn, [item for (item,) in ids])


async def narrow_unstored(conn: aiosqlite.Connection, messages: Sequence[Message]) -> None:
    """Remember the audience of messages not stored (their signatures were checked): deleted by their author,
    before or within their batch, removed by a moderator, set aside by an identity's log. Such an id stays
    narrowed like any other (see the module's docstring), so what names it, held now or still to come, goes no
    further than it could have; and what it names is kept (``unheld``), for what narrows that later. A post
    arriving after its delete still narrows the reply that came first."""
    narrowed: list[bytes] = []
    for message in messages:
        named = [bytes.fromhex(v) for v in named_ids(message)]
        await conn.executemany(
            "INSERT INTO unheld (named, id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(n, bytes.fromhex(message.id)) for n in dict.fromkeys(named)],
        )
        marks = ", ".join("?" * len(named))
        confined = message.visibility == "local"
        scopes = {s for s in (scope_of(message.visibility),) if s is not None}
        if named:
            async with conn.execute(f"SELECT 1 FROM confined WHERE id IN ({marks})", named) as cursor:
                confined = confined or await cursor.fetchone() is not None
            async with conn.execute(f"SELECT DISTINCT scope FROM scoped WHERE id IN ({marks})", named) as cursor:
                scopes.update(str(row[0]) for row in await cursor.fetchall())
        await _narrow_id(conn, bytes.fromhex(message.id), confined, scopes)
        if scopes:
            narrowed.append(bytes.fromhex(message.id))
    await drift_from(conn, narrowed)
    await settle(conn, [bytes.fromhex(message.id) for message in messages])


async def scoped_among(store: Store, ids: Sequence[str]) -> set[str]:
    """Those of the message ids ``ids`` that are in a scope here (signed so, or narrowed by what they name)."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        part = [bytes.fromhex(i) for i in ids[start : start + 500]]
        sql = f"SELECT DISTINCT id FROM scoped WHERE id IN ({', '.join('?' * len(part))})"
        found.update(bytes(row[0]).hex() for row in await store.conn.execute_fetchall(sql, part))
    return found
