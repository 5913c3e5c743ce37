"""What peers answered, signed, about the messages this server pushed them (murmur.receipts): receipts for
deletes, and notices of what they withheld and why."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
import orjson

from murmur.keys import KEY_HEX
from murmur.kinds import shown_sql
from murmur.receipts import STATUSES, keepable, verifies
from murmur.store import Store
from murmur.store.audience import for_peers
from murmur.store.items import select

CHUNK = 500  # ids per IN (...)

log = logging.getLogger("murmur.federation")


@dataclass(frozen=True, slots=True)
class Receipt:
    peer: str
    name: str
    status: str  # stored | duplicate | deleted | refused
    code: str
    reason: str
    sig: str
    at: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.peer, "name": self.name, "status": self.status, "code": self.code, "reason": self.reason,
            "sig": self.sig, "at": self.at,
        }  # fmt: skip


def _receipt(peer: bytes, name: str, status: str, code: str, reason: str, sig: bytes, at: int) -> Receipt:
    return Receipt(bytes(peer).hex(), str(name), str(status), str(code), str(reason), bytes(sig).hex(), int(at))


def sent_ids(raws: Sequence[bytes]) -> frozenset[str]:
    """The ids of the stored messages ``raws`` (what a push sent): the only ids its answers may speak of."""
    return frozenset(str(orjson.loads(raw)["id"]) for raw in raws)


async def note(store: Store, peer_key: str, sent: Collection[str], results: Sequence[dict[str, Any]]) -> int:
    """Keep the answers that verify against the peer's key about messages it was just sent (``sent``: their
    ids), with a status a push answer may have; the newest answer per message and peer wins. Any other answer
    is logged against the peer and not kept: a peer must not pin a signed "withheld" notice to a message it
    was never sent (a local post, someone else's scoped post), where readers would be shown it."""
    now = int(time.time() * 1000)
    rows = []
    for r in results:
        if not (isinstance(r.get("id"), str) and KEY_HEX.fullmatch(r["id"]) and verifies(peer_key, r)):
            continue
        if not keepable(r):  # cut short, it would no longer verify
            log.warning("peer %s answered about %s with a code or reason too long to keep whole: not kept",
                        peer_key[:8], r["id"][:16], extra={"peer": peer_key, "message_id": r["id"]})  # fmt: skip
            continue
        if r["id"] not in sent or r.get("status") not in STATUSES:
            log.warning(
                "peer %s answered about %s, which it was not sent, or with the unknown status %r: not kept",
                peer_key[:8], r["id"][:16], r.get("status"),
                extra={"peer": peer_key, "message_id": r["id"], "status": str(r.get("status"))},
            )  # fmt: skip
            continue
        rows.append((
            bytes.fromhex(r["id"]),
            bytes.fromhex(peer_key),
            str(r["status"]),
            str(r.get("code") or ""),
            str(r.get("reason") or ""),
            bytes.fromhex(r["sig"]),
            now,
        ))  # fmt: skip
    if rows:
        async with store.writer.transaction() as conn:
            told = await _take_position(conn) if any(row[2] == "refused" for row in rows) else None
            await conn.executemany(
                "INSERT INTO receipts (message, peer, status, code, reason, sig, at, told)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (message, peer) DO UPDATE SET status = excluded.status, code = excluded.code,"
                " reason = excluded.reason, sig = excluded.sig, at = excluded.at,"
                # the same answer again (a repair pushing the message anew) is no news: told where it first was
                " told = CASE WHEN receipts.status = excluded.status AND receipts.code = excluded.code"
                " AND receipts.reason = excluded.reason THEN receipts.told ELSE excluded.told END",
                [(*row, told if row[2] == "refused" else None) for row in rows],
            )
    return len(rows)


async def _take_position(conn: aiosqlite.Connection) -> int | None:
    """A log position of its own for the notices kept in this write (``told``), handed out past every message's
    seq as ingest hands them out, in the same write lock: the live stream reads notices and messages by the one
    position, so a stream resuming from a cursor gets what was kept after it, once (``told_between``). None
    only before any message was ever stored (no notice can then be of a message sent)."""
    await conn.execute("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'messages'")
    row = await (await conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'")).fetchone()
    return int(row[0]) if row else None


async def leaned_on(store: Store, ids: Collection[str]) -> bool:
    """Whether a message kept from some peer for now may lean on one of ``ids`` (``murmur.store.audience.adrift``):
    a peer's confirmation of it may let that message go."""
    every = [bytes.fromhex(i) for i in ids]
    for start in range(0, len(every), CHUNK):
        part = every[start : start + CHUNK]
        sql = f"SELECT 1 FROM adrift WHERE narrower IN ({','.join('?' * len(part))}) LIMIT 1"
        if await select(store.conn, sql, part):
            return True
    return False


async def receipts_for(store: Store, msg_id: str) -> list[Receipt]:
    rows = await select(
        store.conn,
        "SELECT r.peer, coalesce(p.name, ''), r.status, r.code, r.reason, r.sig, r.at FROM receipts r"
        " LEFT JOIN peers p ON p.key = r.peer WHERE r.message = ? ORDER BY r.at, r.peer",
        (bytes.fromhex(msg_id),),
    )
    return [_receipt(*row) for row in rows]


async def withheld(store: Store, msg_id: str) -> list[Receipt]:
    """The peers that refused the message, signed: what readers are told as "withheld by X: reason"."""
    return [r for r in await receipts_for(store, msg_id) if r.status == "refused"]


async def withheld_among(store: Store, ids: Sequence[str], *, shown: bool = False) -> dict[str, list[Receipt]]:
    """``withheld`` for many messages at once (a thread's), keyed by id; ids nothing was withheld of are absent.
    ``shown``: only of messages held here that readers are shown (``murmur.kinds.shown_sql``), for a view that does
    not already hold the messages it asks about (the live stream, told only ids)."""
    held = f" JOIN messages m ON m.id = r.message AND {shown_sql('m')}" if shown else ""
    found: dict[str, list[Receipt]] = {}
    for start in range(0, len(ids), CHUNK):
        part = [bytes.fromhex(i) for i in ids[start : start + CHUNK]]
        marks = ",".join("?" * len(part))
        rows = await select(
            store.conn,
            "SELECT r.message, r.peer, coalesce(p.name, ''), r.status, r.code, r.reason, r.sig, r.at FROM receipts r"
            f" LEFT JOIN peers p ON p.key = r.peer{held} WHERE r.status = 'refused' AND r.message IN ({marks})"
            " ORDER BY r.at, r.peer",
            part,
        )
        for m, *row in rows:
            found.setdefault(bytes(m).hex(), []).append(_receipt(*row))
    return found


@dataclass(frozen=True, slots=True)
class Told:
    """Notices kept of the message ``id`` (one readers are shown), told at log position ``at``: every notice of it
    kept up to there (``notices``), so the event stands for all of them."""

    at: int
    id: str
    notices: list[Receipt]


# The log positions of notices kept in (:after, :high], a page of them: each position is one write of a peer's
# answers, so a page holds a bounded number of notices.
_TOLD_AT = (
    "SELECT DISTINCT told FROM receipts WHERE status = 'refused' AND told > :after AND told <= :high"
    " ORDER BY told LIMIT :n"
)


async def told_between(store: Store, after: int, high: int, limit: int) -> tuple[list[Told], int | None]:
    """What the live stream tells of withheld messages in log positions (``after``, ``high``], at most ``limit``
    positions of it: one ``Told`` per message readers are shown (``murmur.kinds.shown_sql``, as for its message
    events; never a sealed message's) with notices kept then, at the newest of their positions, in log order. And
    the last position read when the page is full (the stretch ends there), else None."""
    positions = [int(r[0]) for r in await select(store.conn, _TOLD_AT, {"after": after, "high": high, "n": limit})]
    if not positions:
        return [], None
    upto = positions[-1]
    rows = await select(
        store.conn,
        "SELECT r.message, r.peer, coalesce(p.name, ''), r.status, r.code, r.reason, r.sig, r.at, r.told"
        f" FROM receipts r JOIN messages m ON m.id = r.message AND {shown_sql('m')} LEFT JOIN peers p ON p.key = r.peer"
        " WHERE r.status = 'refused' AND (r.told IS NULL OR r.told <= :upto) AND r.message IN"
        " (SELECT message FROM receipts WHERE status = 'refused' AND told > :after AND told <= :upto)"
        " ORDER BY r.at, r.peer",
        {"after": after, "upto": upto},
    )
    at: dict[str, int] = {}
    notices: dict[str, list[Receipt]] = {}
    for m, *row, t in rows:
        msg_id = bytes(m).hex()
        notices.setdefault(msg_id, []).append(_receipt(*row))
        if t is not None and int(t) > after:
            at[msg_id] = max(at.get(msg_id, 0), int(t))
    told = sorted((Told(at[i], i, notices[i]) for i in at), key=lambda t: (t.at, t.id))
    return told, (upto if len(positions) == limit else None)


async def owed(store: Store, msg_id: str) -> list[tuple[str, str]]:
    """``(key, name)`` of every peer the message may go to (the audience rule): those a receipt is owed by."""
    rows = await select(
        store.conn,
        f"SELECT p.key, p.name FROM peers p JOIN messages m ON m.id = :id WHERE {for_peers('m', 'p.key')}"
        " ORDER BY p.name, p.key",
        {"id": bytes.fromhex(msg_id)},
    )
    return [(bytes(k).hex(), str(n)) for k, n in rows]


async def own_delete_of(store: Store, author: str, typed: str) -> str | None:
    """The id of ``author``'s delete of the message ``typed`` names (its full id or 8+ hex digits), or of the
    delete ``typed`` names itself."""
    rows = await select(
        store.conn, "SELECT target, delete_id FROM tombstones WHERE author = ?", (bytes.fromhex(author),)
    )
    for target, delete_id in rows:
        if bytes(target).hex().startswith(typed) or bytes(delete_id).hex().startswith(typed):
            return bytes(delete_id).hex()
    return None
