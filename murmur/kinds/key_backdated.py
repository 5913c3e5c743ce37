"""Device removals dated before what this server acknowledged to its members (docs/protocol.md §13.4).

A thief holding a current device key need not fork the log: it can append, at its end, a removal of the owner's
other devices dated just after the last event and before the owner's recent messages, which the owner's server had
already told the owner it accepted. Nothing in the events tells that removal from the owner removing a stolen
device, so a device key may not take back what a server acknowledged: a removal in force that would refuse such a
message is recorded here as *backdated*, and resolving holds it as a fork's branch against the log as acknowledged
(``murmur.kinds.key_log.resolve``), both devices disputed, until the rotation key settles it. A recovery, signed by
the rotation key, is the owner's word and stands. Messages from peers and files are judged by the log alone, so
that servers fed in any order converge; what a server acknowledged to its own members is its own history, kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import aiosqlite

from murmur.kinds.base import select_in
from murmur.kinds.key_log import DEVICE_REMOVE, Event, Log

if TYPE_CHECKING:  # the store imports the registry, and so this module
    from murmur.store import Store

BACKDATED_TABLE = (
    "CREATE TABLE identity_backdated (identity BLOB NOT NULL, event BLOB NOT NULL, PRIMARY KEY (identity, event));"
)
BACKDATED_SQL = "SELECT identity, event FROM identity_backdated WHERE identity IN ({marks})"

# What this server acknowledged to its own members as an identity's: published here (the members' door, not a
# peer's or a file's), by a device the log made current when it came (shown from its own seq), and still shown.
_ACKNOWLEDGED_SQL = (
    "SELECT c.device, max(c.created_at) FROM identity_claims c CROSS JOIN messages m ON m.seq = c.seq"
    " WHERE c.identity = ? AND c.status = 'valid' AND c.shown_at = c.seq AND m.origin = 'local' GROUP BY c.device"
)


async def contest_backdated(
    conn: aiosqlite.Connection,
    identity: str,
    log: Log | None,
    held: Callable[[], Awaitable[Mapping[str, Sequence[Event]]]],
) -> bool:
    """Record as backdated each device's removal in force in ``log`` dated at or before a message of the removed
    device this server acknowledged to its member as the identity's; True when any was found, and the log is to be
    resolved again. ``held`` reads the identity's events, asked only when some acknowledged message is at stake."""
    if log is None or not any(d.removed_at is not None for d in log.state.devices.values()):
        return False
    async with conn.execute(_ACKNOWLEDGED_SQL, (bytes.fromhex(identity),)) as cursor:
        latest = {bytes(r[0]).hex(): int(r[1]) for r in await cursor.fetchall()}
    if not latest:
        return False
    events = {e.id: e for e in (await held())[identity]}
    found = [
        i for i in log.chain
        if events[i].kind == DEVICE_REMOVE and events[i].created_at <= latest.get(events[i].body["key"], -1)
    ]  # fmt: skip
    await conn.executemany(
        "INSERT INTO identity_backdated (identity, event) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(bytes.fromhex(identity), bytes.fromhex(i)) for i in found],
    )
    return bool(found)


async def backdated_removals(store: Store, identity: str) -> list[str]:
    """The ids of the removals this server found backdated in the identity's log: what a device resolving the signed
    events itself needs besides them to see the log as the server holds it (``GET .../events``)."""
    rows = await select_in(store.conn, BACKDATED_SQL, [bytes.fromhex(identity)])
    return sorted(bytes(r[1]).hex() for r in rows)
