"""What the repair set (``murmur.sync.index``) reads of the store: how the log changed, and the
``(created_at, id)`` of the messages a peer may see, by log position.

What a peer may see is the one audience rule (``murmur.store.audience.for_peers``) that push and pull ask too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from murmur.store import Store
from murmur.store.audience import for_peers, kept_back
from murmur.store.items import select

CHUNK = 500  # ids per IN (...) query


async def _scalar(store: Store, sql: str, params: Sequence[Any] = ()) -> int:
    rows = await select(store.conn, sql, params)
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


async def data_version(store: Store) -> int:
    """A number that changes whenever another connection (the writer, another process) commits; reading it costs
    no I/O, so it tells cheaply whether anything needs to be read again."""
    return await _scalar(store, "PRAGMA data_version")


async def last_held_seq(store: Store) -> int:
    """The log position of the newest message held (0 for none); unlike ``Store.last_seq``, a deleted row's
    position does not count."""
    return await _scalar(store, "SELECT max(seq) FROM messages")


async def rows_between(store: Store, after: int, through: int) -> int:
    """How many messages of any audience are held with a log position in (``after``, ``through``]."""
    return await _scalar(store, "SELECT count(*) FROM messages WHERE seq > ? AND seq <= ?", (after, through))


async def last_confined(store: Store) -> tuple[int, int]:
    """The newest rows of the ``confined`` and ``scoped`` tables (murmur.store.audience), 0 for none: rows are
    only ever added."""
    rows = await select(store.conn, "SELECT (SELECT max(rowid) FROM confined), (SELECT max(rowid) FROM scoped)", ())
    return (int(rows[0][0] or 0), int(rows[0][1] or 0))


async def confined_since(store: Store, mark: tuple[int, int], through: int) -> int:
    """How many messages with a log position up to ``through`` were confined or scoped after rows ``mark`` of
    ``confined`` and ``scoped`` (a local or scoped post that arrived after replies to it narrows who may see
    them, already visible)."""
    return await _scalar(
        store,
        "SELECT (SELECT count(*) FROM confined c JOIN messages m ON m.id = c.id WHERE c.rowid > ? AND m.seq <= ?)"
        " + (SELECT count(*) FROM scoped c JOIN messages m ON m.id = c.id WHERE c.rowid > ? AND m.seq <= ?)",
        (mark[0], through, mark[1], through),
    )


FOR_PEERS = for_peers("m")
HELD_FOR_PEER = f"({FOR_PEERS} OR {kept_back('m')})"


def _peer(key: str | None) -> bytes | None:
    return bytes.fromhex(key) if key is not None else None


async def visible_between(store: Store, after: int, through: int, peer: str | None = None) -> list[tuple[int, bytes]]:
    """``(created_at, id)`` of each message the peer ``peer`` (its key; None: a peer with no labels) may see with
    a log position in (``after``, ``through``]."""
    sql = f"SELECT m.created_at, m.id FROM messages m WHERE m.seq > :after AND m.seq <= :through AND {for_peers('m')}"
    params = {"after": after, "through": through, "peer": _peer(peer)}
    return [(int(created_at), bytes(msg_id)) for created_at, msg_id in await select(store.conn, sql, params)]


async def kept_back_through(store: Store, through: int, peer: str | None = None) -> set[bytes]:
    """The ids of the messages with a log position up to ``through`` that the peer may see by their audience but
    the rule keeps from it for now (``murmur.store.audience.kept_back``): few, read from the ``adrift`` and
    ``waiting`` tables."""
    sql = (
        "SELECT m.id FROM messages m WHERE (m.id IN (SELECT id FROM adrift) OR m.id IN (SELECT id FROM waiting))"
        f" AND m.seq <= :through AND {kept_back('m')}"
    )
    return {bytes(row[0]) for row in await select(store.conn, sql, {"through": through, "peer": _peer(peer)})}


async def visible_items(store: Store, ids: Sequence[bytes], peer: str | None = None) -> list[tuple[int, bytes]]:
    """``(created_at, id)`` of each message among ``ids`` that the peer may see."""
    out: list[tuple[int, bytes]] = []
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        marks = ",".join(f":id{n}" for n in range(len(part)))
        sql = f"SELECT m.created_at, m.id FROM messages m WHERE m.id IN ({marks}) AND {for_peers('m')}"
        params: dict[str, Any] = {f"id{n}": item for n, item in enumerate(part)}
        out.extend((int(at), bytes(i)) for at, i in await select(store.conn, sql, {**params, "peer": _peer(peer)}))
    return out


async def _visible(
    store: Store, column: str, ids: Sequence[bytes], peer: str | None, order: str = "", rule: str = FOR_PEERS
) -> list[bytes]:
    """``column`` of each message among ``ids`` that the peer may see, a chunk of ids per query."""
    out: list[bytes] = []
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        marks = ",".join(f":id{n}" for n in range(len(part)))
        sql = f"SELECT m.{column} FROM messages m WHERE m.id IN ({marks}) AND {rule}{order}"
        params: dict[str, Any] = {f"id{n}": item for n, item in enumerate(part)}
        params["peer"] = _peer(peer)
        out.extend(bytes(row[0]) for row in await select(store.conn, sql, params))
    return out


async def visible_raws(store: Store, ids: Sequence[bytes], peer: str | None = None) -> list[bytes]:
    """The raw messages among ``ids`` that a peer may see, in log order per chunk; ids not held (or not for
    peers) are left out."""
    return await _visible(store, "raw", ids, peer, " ORDER BY m.seq")


async def visible_ids(store: Store, ids: Sequence[bytes], peer: str | None = None) -> set[bytes]:
    """The ids among ``ids`` held here that a peer may see (the audience rule): what an offer or a pull of ids
    need not bring. An id held but hidden from the peer is left out like one not held, so that answering a
    peer's offer tells it nothing about what it may not see; one the rule only keeps from it for now (it waits
    for what it leans on or names, ``kept_back``) is held all the same: bringing it again would change nothing."""
    return set(await _visible(store, "id", ids, peer, rule=HELD_FOR_PEER))
