"""Who is told an identity moved home, and how, by where the move stands in its resolved log (docs/protocol.md
§13.2): ``move`` once it is in force, ``move_disputed`` while it sits on a branch of a fork, nothing while it
waits or once it is superseded. Derived whenever the log is resolved again (``murmur.kinds.key_store.settle``),
not as a Kind.notices rule, which every batch of every kind would run.
"""

from __future__ import annotations

import aiosqlite

from murmur.kinds.key_log import MOVE, Log

# Where each move stands in its log (Log.standing), as its followers were last told: a migration of the
# inception kind (murmur.kinds.key_store.MIGRATIONS). Moves held before it were all told as in force.
STANDING_COLUMN = (
    f"ALTER TABLE key_events ADD COLUMN standing TEXT; UPDATE key_events SET standing = 'chain' WHERE kind = '{MOVE}';"
)
NOTICES = {"chain": "move", "contested": "move_disputed"}

# Whoever follows the identity, or one of its devices' keys (its profile then says whether this server trusts the
# new home); never the device that signed the move.
_TELL = (
    "INSERT INTO notices (key, seq, kind) SELECT DISTINCT f.follower, :seq, :kind FROM follows f"
    " WHERE f.following = 1 AND f.follower != :author AND (f.subject = :identity"
    " OR f.subject IN (SELECT d.device FROM identity_devices d WHERE d.identity = :identity)) ON CONFLICT DO NOTHING"
)


async def tell_moves(conn: aiosqlite.Connection, ident: bytes, log: Log | None) -> None:
    """Tell followers of each move whose standing changed what it now is, taking back what they were told
    before: a move on one branch of a fork is not news of a settled move. A changed notice is news again: it is
    placed where the live stream reads this batch (ingest's PLACE_NOTICES)."""
    sql = f"SELECT id, seq, signer, standing FROM key_events WHERE identity = ? AND kind = '{MOVE}'"
    async with conn.execute(sql, (ident,)) as cursor:
        moves = [(bytes(r[0]).hex(), int(r[1]), bytes(r[2]), r[3]) for r in await cursor.fetchall()]
    for event, seq, signer, was in moves:
        now = None if log is None else log.standing(event)
        if now == was:
            continue
        await conn.execute("UPDATE key_events SET standing = ? WHERE id = ?", (now, bytes.fromhex(event)))
        await conn.execute("DELETE FROM notices WHERE seq = ? AND kind IN ('move', 'move_disputed')", (seq,))
        if now is not None:
            await conn.execute(_TELL, {"seq": seq, "kind": NOTICES[now], "author": signer, "identity": ident})
