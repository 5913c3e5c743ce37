"""Messages that name a message this server knows nothing of yet: they wait for it before leaving.

The rule narrows a message by what it names, so it can narrow only by what it knows. An edit cannot sign an
audience at all (nor can a ballot, an RSVP or a letter's signature), and an older client signs a reply, reaction,
boost about a scoped post ``public``: arriving before that post (a repair fetch cut between them, a
relay's order), such a message would be judged public and handed to every peer and to anyone. So a stored
message naming an id that is not held here and of which nothing narrows ``waits`` for it: the ``waiting`` table
holds one row ``(id, named)`` for each such id, and the doors leave the message out (``murmur.store.audience.
delivery``) until the named message arrives (stored, or turned away: still narrowed, ``narrow_unstored``,
``confine_refused``). The push cursor keeps its id meanwhile (``kept_back``, ``murmur.store.passed``), so it
goes, once, to the peers its audience then allows.

An id is known here when it is held and does not wait in turn (a reaction to a public-signed reply to a post
not yet held waits with the reply), narrowed (``confined``, ``scoped``), kept as not held (``unheld``), removed
by a moderator, or deleted (a reply arriving after its post was deleted here does not wait for a post that will
never come again; a delete itself never waits, ``WAIT_NEW``). Nothing else: a message naming a post that
never reaches this server waits for good, and reaches that post's readers through the servers that hold it.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from murmur.kinds.base import chunks, execute_each
from murmur.store.audience.scopes import REFERENCES, held

CREATE_WAITING_TABLE = (
    "CREATE TABLE IF NOT EXISTS waiting (id BLOB NOT NULL, named BLOB NOT NULL, PRIMARY KEY (id, named))"
    " WITHOUT ROWID;  -- stored messages naming an id this server knows nothing of yet, and that id\n"
    "CREATE INDEX IF NOT EXISTS waiting_by_named ON waiting (named);\n"
)


def _known(ref: str) -> str:
    """SQL: the id ``ref`` is known here (see the module's docstring). A tombstone counts whoever's delete made it:
    a delete never waits (``WAIT_NEW``)."""
    return (
        f"(({held(ref)} AND NOT EXISTS (SELECT 1 FROM waiting k WHERE k.id = {ref}))"
        f" OR EXISTS (SELECT 1 FROM confined c WHERE c.id = {ref})"
        f" OR EXISTS (SELECT 1 FROM scoped x WHERE x.id = {ref})"
        f" OR EXISTS (SELECT 1 FROM unheld u WHERE u.id = {ref})"
        f" OR EXISTS (SELECT 1 FROM removed r WHERE r.id = {ref})"
        f" OR EXISTS (SELECT 1 FROM tombstones t JOIN messages d ON d.id = t.delete_id WHERE t.target = {ref}))"
    )


def _wait(rows: str) -> tuple[str, ...]:
    """The statements that keep a ``waiting`` row for each id that a ``messages`` row ``n`` matching ``rows``
    names and that is not known here; a delete never waits."""
    return tuple(
        f"INSERT INTO waiting (id, named) SELECT n.id, n.{column} FROM messages n WHERE {rows} AND n.kind <> 'delete'"
        f" AND n.{column} IS NOT NULL AND NOT {_known(f'n.{column}')}"
        " ON CONFLICT DO NOTHING"
        for column in REFERENCES
    )


# After a batch is stored (the rows with seq in [:lo, :hi]), inside its write transaction: what it names that is
# unknown, or held but waiting in turn, waits (``wait_new`` repeats them until the batch's own chains are followed).
# A delete never waits: it carries no words, and its target may never come (deleted where it was written before
# anyone relayed it; a delete waiting for it, and all that names it, would wait for good and the servers never
# converge). So every tombstone counts, this batch's too, and a target deleted now is known from now on.
WAIT_NEW = _wait("n.seq BETWEEN :lo AND :hi")
_WAITING_COUNT = "SELECT count(*) FROM waiting"
_ARRIVED = (
    "SELECT n.id FROM messages n WHERE n.seq BETWEEN :lo AND :hi"
    " AND NOT EXISTS (SELECT 1 FROM waiting w WHERE w.id = n.id)"
    " UNION SELECT d.target FROM messages d WHERE d.seq BETWEEN :lo AND :hi AND d.kind = 'delete'"
    " AND d.target IS NOT NULL"
)


async def wait_new(conn: aiosqlite.Connection, lo: int, hi: int) -> None:
    """Keep what the batch with seqs in [lo, hi] waits for, then settle what waited for what it brought."""
    bounds = {"lo": lo, "hi": hi}
    while True:
        before = (await conn.execute_fetchall(_WAITING_COUNT))[0][0]
        await execute_each(conn, WAIT_NEW, bounds)
        if (await conn.execute_fetchall(_WAITING_COUNT))[0][0] == before:
            break
    await settle(conn, [bytes(row[0]) for row in await conn.execute_fetchall(_ARRIVED, bounds)])


# The migration that adds the table fills it from the whole log once.
CREATE_WAITING = CREATE_WAITING_TABLE + ";\n".join(_wait("TRUE")) + ";"


async def settle(conn: aiosqlite.Connection, ids: Sequence[bytes]) -> None:
    """The ids ``ids`` are known now (stored, or turned away yet narrowed): nothing waits for them, and what
    waited only for them waits no more, transitively (inside the caller's write transaction)."""
    while ids:
        freed: set[bytes] = set()
        for part in chunks(list(ids)):
            marks = ", ".join("?" * len(part))
            rows = await conn.execute_fetchall(f"SELECT DISTINCT id FROM waiting WHERE named IN ({marks})", part)
            await conn.execute(f"DELETE FROM waiting WHERE named IN ({marks})", part)
            freed.update(bytes(row[0]) for row in rows)
        still = set()
        for part in chunks(sorted(freed)):
            marks = ", ".join("?" * len(part))
            rows = await conn.execute_fetchall(f"SELECT DISTINCT id FROM waiting WHERE id IN ({marks})", part)
            still.update(bytes(row[0]) for row in rows)
        ids = sorted(freed - still)


def waits(alias: str) -> str:
    """SQL: the ``messages`` row ``alias`` waits for a message it names that this server knows nothing of yet."""
    return f"EXISTS (SELECT 1 FROM waiting w WHERE w.id = {alias}.id)"
