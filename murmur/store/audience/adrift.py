"""The messages whose narrowing does not reach a peer by itself, kept as they are stored and removed.

A message signed wider than its audience (a public-signed reply, reaction, boost or delete about a scoped post,
from a client that did not know) is narrowed by the scoped messages it names. A peer that never held them would
take it as signed, so it goes to a peer only with what narrows it (``murmur.store.audience.delivery``). What
narrows it *reaches* a peer by itself when it is held here and either signs its own audience or is narrowed in
turn by what reaches: then it goes first (or with it), and the peer narrows the message itself. Otherwise the
message is **adrift**: the ``adrift`` table holds one row ``(id, narrower)`` for each scoped message ``narrower``
that the held message ``id``, signed wider than its scopes, names and that does not reach: not held here (deleted,
or arrived after its delete), or adrift in turn. A message with no row is anchored: every peer of its audience
may have it. Only what leans on a deleted scoped message is adrift, so the table is small, and the scans that hand
out the log read one index probe a message instead of walking the chain each time.

The rows of a message depend only on what it names, transitively, so they are computed again for the messages
that name, transitively, what changed: a batch as it is stored (a parent arriving after its replies included),
a message removed (a delete, a moderator), an id narrowed without being stored (``narrow_unstored``). Only
scoped messages can be adrift, so only they are walked. Whether a given peer may have an adrift message depends on
what that peer confirmed (``blocked``), and is read from this table once per scan.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from murmur.kinds.base import chunks, execute_each
from murmur.store.audience.scopes import held, named, names, signs_its_scopes

CREATE_ADRIFT_TABLE = (
    "CREATE TABLE IF NOT EXISTS adrift (id BLOB NOT NULL, narrower BLOB NOT NULL, PRIMARY KEY (id, narrower))"
    " WITHOUT ROWID;  -- held messages signed wider than their audience, and what they lean on that does not reach\n"
    "CREATE INDEX IF NOT EXISTS adrift_by_narrower ON adrift (narrower);\n"
)


def leaning(alias: str, *, stored: bool = True) -> str:
    """SQL: the ``scoped`` row ``s`` is of a message that the row ``alias`` (a ``messages`` row, or with
    ``stored=False`` an ``UNSENT`` one) names and leans on without it reaching a peer by itself, the row being
    signed wider than its scopes: not held here, or adrift. The one definition of an ``adrift`` row: what the
    table keeps for a stored message (computed in dependency order by ``_refresh``), and what an unsent one is
    judged by."""
    adrift = "EXISTS (SELECT 1 FROM adrift e WHERE e.id = s.id)"
    return f"s.id IN ({named(alias)}) AND NOT {signs_its_scopes(alias, stored)} AND (NOT {held('s.id')} OR {adrift})"


def _down(seeds: str) -> str:
    """SQL: the CTE ``down (id)``: the scoped ids among ``seeds`` (a SELECT of ids) and every scoped message naming
    one of them, transitively: whose rows may have changed."""
    return (
        f"down (id) AS (SELECT x.id FROM scoped x WHERE x.id IN ({seeds})"
        f" UNION SELECT m.id FROM down d JOIN messages m ON {names('m', 'd.id')}"
        " WHERE EXISTS (SELECT 1 FROM scoped x WHERE x.id = m.id))"
    )


def _refresh(seeds: str) -> tuple[str, str]:
    """The statements that compute again the rows of the messages ``_down`` finds from ``seeds``: their old rows
    go, then the least set of new ones (the rows of messages outside that set did not change): a message leaning
    on what is not held, or on what is adrift outside it (``leaning``), and in turn what names such a message
    (``leaning`` again, the message it names being adrift from this very statement)."""
    forget = f"WITH RECURSIVE {_down(seeds)} DELETE FROM adrift WHERE id IN (SELECT id FROM down)"
    compute = (
        f"WITH RECURSIVE {_down(seeds)}, drift (id, narrower) AS ("
        f"SELECT m.id, s.id FROM down d JOIN messages m ON m.id = d.id JOIN scoped s ON {leaning('m')}"
        f" UNION SELECT m.id, r.id FROM drift r JOIN messages m ON {names('m', 'r.id')}"
        f" WHERE NOT {signs_its_scopes('m')})"
        " INSERT INTO adrift (id, narrower) SELECT id, narrower FROM drift WHERE TRUE ON CONFLICT DO NOTHING"
    )
    return forget, compute


# After a batch is stored (the rows with seq in [:lo, :hi]), inside its write transaction.
DRIFT_NEW = _refresh("SELECT n.id FROM messages n WHERE n.seq BETWEEN :lo AND :hi")

# The migration that adds the table fills it from the whole log once.
FILL_ADRIFT = _refresh("SELECT id FROM scoped")[1]
CREATE_ADRIFT = CREATE_ADRIFT_TABLE + FILL_ADRIFT + ";"


async def drift_from(conn: aiosqlite.Connection, ids: Sequence[bytes]) -> None:
    """Compute again the rows of what names ``ids``, transitively: messages just removed, or ids just narrowed
    without being stored (inside the caller's write transaction)."""
    for part in chunks(list(ids)):
        marks = ", ".join(f":i{n}" for n in range(len(part)))
        await execute_each(conn, _refresh(marks), {f"i{n}": item for n, item in enumerate(part)})


def blocked(acknowledged: str) -> str:
    """SQL: the held message ``j.id``, adrift, may not go to a peer: it leans on a message not held here, or on a
    message blocked in turn, that the peer did not confirm (``acknowledged``: an SQL condition on the id
    ``e.narrower``, the peer's signed answer). Read from the adrift table, never the log, once per statement:
    a peer that confirmed nothing any adrift message leans on (the usual case) may have none of them, and only
    otherwise is the set walked, forward from what is not held."""
    confirmed_any = f"EXISTS (SELECT 1 FROM adrift e WHERE {acknowledged})"
    # The step's join is a range, not an equality, so that neither engine plans it as a hash or merge join over
    # the whole table, once for each step of a long chain, but as one index probe a row it reaches.
    walk = (
        "WITH RECURSIVE blocked (id) AS (SELECT e.id FROM adrift e"
        f" WHERE NOT {held('e.narrower')} AND NOT {acknowledged}"
        " UNION SELECT e.id FROM blocked b JOIN adrift e ON e.narrower >= b.id AND e.narrower <= b.id"
        f" WHERE NOT {acknowledged}) SELECT id FROM blocked"
    )
    return f"(NOT {confirmed_any} OR j.id IN ({walk}))"
