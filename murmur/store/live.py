"""What the live stream reads of a stretch of the log: the messages readers are shown, each at the log position
it came to be shown, the sealed messages with the members each is for (and, for a private group's, its group),
and the notices peers sent of what they withheld, each at the position it was kept at
(``murmur.store.receipts.told_between``).

A message goes out only if readers are shown it (``murmur.kinds.shown_sql``, the rule every reader view applies):
a sealed message never, a device's message not while its identity's log cannot judge it. One a kind held back for
a while and then showed (``Kind.shown_late``: the log arrived, a dispute was settled) goes out then, at the
position that showed it, as a notice derived late does: never at its own seq, which a stream may be past already.
"""

from __future__ import annotations

from dataclasses import dataclass

from murmur.kinds import kind, shown_late, shown_sql
from murmur.kinds.sealed import NAME as SEALED
from murmur.kinds.sealed import group_members_between, members_between
from murmur.store import LogEntry, Store
from murmur.store.items import select
from murmur.store.receipts import Told, told_between

# A page of the log by position, each row with whether readers are shown it now.
_PAGE_SQL = (
    f"SELECT m.seq, m.raw, CASE WHEN {shown_sql('m')} THEN 1 ELSE 0 END FROM messages m"
    " WHERE m.seq > :after AND m.seq <= :high ORDER BY m.seq LIMIT :n"
)
_SHOWN_SQL = f"SELECT m.seq, m.raw FROM messages m WHERE m.seq = :seq AND {shown_sql('m')}"


@dataclass(frozen=True, slots=True)
class Stretch:
    """Log positions (``after``, ``upto``]: ``shown`` holds each message to send with the position it goes out at
    (in that order), ``sealed`` each sealed message sealed to a member, or written to a private group, with its
    group (None: sealed to devices) and the keys of the members it is for; ``withheld`` the notices peers sent of
    messages readers are shown, each at its position (in order); ``full``: the log goes on past ``upto`` already."""

    after: int
    upto: int
    full: bool
    shown: list[tuple[int, LogEntry]]
    sealed: dict[int, tuple[str | None, frozenset[str]]]
    withheld: list[Told]


async def stretch(store: Store, after: int, limit: int) -> Stretch:
    """The log past ``after``, at most ``limit`` messages of it.

    The end of the log is read first: everything committed up to it, messages and what was derived with them (one
    transaction), is then read whole; what commits meanwhile waits for the next stretch. A message shown late is
    placed by position, so it is read once, in the stretch holding the position that showed it.
    """
    high = await store.last_seq()
    rows = await select(store.conn, _PAGE_SQL, {"after": after, "high": high, "n": limit})
    full = len(rows) == limit
    upto = int(rows[-1][0]) if full else max(after, high)
    withheld, last = await told_between(store, after, upto, limit)
    if last is not None:  # a page of notices ends the stretch first: the messages past it wait for the next
        full, upto = True, min(upto, last)
        rows = [r for r in rows if int(r[0]) <= upto]
    late = await _late(store, after, upto)
    shown = [(int(r[0]), LogEntry(int(r[0]), bytes(r[1]))) for r in rows if r[2] and int(r[0]) not in late]
    for seq, at in late.items():
        if after < at <= upto:
            rows = await select(store.conn, _SHOWN_SQL, {"seq": seq})  # not if hidden again, or gone, since
            shown.extend((at, LogEntry(int(r[0]), bytes(r[1]))) for r in rows)
    shown.sort(key=lambda item: (item[0], item[1].seq))
    sealed: dict[int, tuple[str | None, frozenset[str]]] = {}
    if kind(SEALED) is not None and upto > after:
        sealed = {seq: (None, keys) for seq, keys in (await members_between(store, after, upto)).items()}
        sealed.update(await group_members_between(store, after, upto))
    return Stretch(after, upto, full, shown, sealed, withheld)


async def _late(store: Store, after: int, upto: int) -> dict[int, int]:
    """The messages shown late whose seq or showing position is in (``after``, ``upto``], by seq: the position
    each is shown from."""
    sql = shown_late()
    if sql is None or upto <= after:
        return {}
    return {int(r[0]): int(r[1]) for r in await select(store.conn, sql, {"after": after, "upto": upto})}
