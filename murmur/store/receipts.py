"""What peers answered, signed, about the messages this server pushed them (murmur.receipts): receipts for
deletes, and notices of what they withheld and why."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from murmur.keys import KEY_HEX
from murmur.kinds import shown_sql
from murmur.receipts import STATUSES, verifies
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
            str(r.get("reason") or "")[:500],
            bytes.fromhex(r["sig"]),
            now,
        ))  # fmt: skip
    if rows:
        async with store.writer.transaction() as conn:
            await conn.executemany(
                "INSERT INTO receipts (message, peer, status, code, reason, sig, at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (message, peer) DO UPDATE SET status = excluded.status, code = excluded.code,"
                " reason = excluded.reason, sig = excluded.sig, at = excluded.at",
                rows,
            )
    return len(rows)


async def receipts_for(store: Store, msg_id: str) -> list[Receipt]:
    rows = await select(
        store.conn,
        "SELECT r.peer, coalesce(p.name, ''), r.status, r.code, r.reason, r.sig, r.at FROM receipts r"
        " LEFT JOIN peers p ON p.key = r.peer WHERE r.message = ? ORDER BY r.at, r.peer",
        (bytes.fromhex(msg_id),),
    )
    return [
        Receipt(bytes(k).hex(), str(n), str(s), str(c), str(r), bytes(g).hex(), int(a)) for k, n, s, c, r, g, a in rows
    ]


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
        for m, k, n, s, c, r, g, a in rows:
            found.setdefault(bytes(m).hex(), []).append(
                Receipt(bytes(k).hex(), str(n), str(s), str(c), str(r), bytes(g).hex(), int(a))
            )
    return found


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
