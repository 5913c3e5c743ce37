"""Where identities live in the store: key events, what their logs resolve to, and the messages devices sign.

Two steps of ingest, for every door (publish, push, pull, repair, bundle import):

- ``admit``, before a batch is stored: a key event its log refuses (a stolen device key trying to rotate, a
  removed device adding one) and a message whose device the log says did not speak for the identity at its time
  (removed before, added after) are refused, with the log's reason. The batch's own key events count, so a
  removal and a later message in one batch are judged as if they came one after the other.
- ``record``, in the write transaction (the inception kind's ``apply``, which watches the ``identity`` tag):
  key events and device-signed messages are recorded, and each identity whose log changed is resolved again.
  The state tables are rewritten from the resolution, so they are the same whatever order the events came in;
  a key event that turns out to follow a refused one is removed. A device-signed message the log refuses (at
  admit, or once held) is set aside rather than forgotten, since a fork arriving later may dispute the removal
  that refuses it: it is then stored as any arrival is, so every server ends with the same set.

The resolution itself is ``murmur.kinds.key_log`` (no SQL). SQL here is portable: standard ``ON CONFLICT``,
no engine-specific functions, ``?`` placeholders.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import aiosqlite

from murmur.errors import Refused
from murmur.keys import fingerprint
from murmur.kinds.base import select_in
from murmur.kinds.key_aside import ASIDE_TABLE, release, set_aside
from murmur.kinds.key_backdated import BACKDATED_SQL, BACKDATED_TABLE, contest_backdated
from murmur.kinds.key_log import (
    EVENT_KINDS,
    INCEPTION,
    Device,
    Event,
    Log,
    Verdict,
    device_verdict,
    resolve,
    verdict,
)
from murmur.kinds.key_moves import STANDING_COLUMN, tell_moves
from murmur.message import Message

if TYPE_CHECKING:  # the store imports the registry, and so this module
    from murmur.store import Store

MIGRATIONS = (
    """
    CREATE TABLE key_events (
        id BLOB PRIMARY KEY, identity BLOB NOT NULL, prior BLOB, kind TEXT NOT NULL, signer BLOB NOT NULL,
        created_at INTEGER NOT NULL, body TEXT NOT NULL, seq INTEGER NOT NULL
    );
    CREATE INDEX key_events_by_identity ON key_events (identity);
    CREATE TABLE identities (
        identity BLOB PRIMARY KEY, head BLOB NOT NULL, length INTEGER NOT NULL, next_key BLOB NOT NULL,
        home TEXT, fork_at BLOB
    );
    CREATE TABLE identity_devices (
        identity BLOB NOT NULL, device BLOB NOT NULL, name TEXT NOT NULL, x25519 BLOB NOT NULL,
        added_at INTEGER NOT NULL, removed_at INTEGER, PRIMARY KEY (identity, device)
    );
    CREATE INDEX identity_devices_by_device ON identity_devices (device);
    CREATE TABLE identity_forks (identity BLOB NOT NULL, event BLOB NOT NULL, place BLOB NOT NULL,
        PRIMARY KEY (identity, event));
    CREATE TABLE identity_claims (
        seq INTEGER PRIMARY KEY, identity BLOB NOT NULL, device BLOB NOT NULL, created_at INTEGER NOT NULL,
        status TEXT NOT NULL
    );
    CREATE INDEX identity_claims_by_identity ON identity_claims (identity, status);
    """,
    "ALTER TABLE identity_devices ADD COLUMN disputed_at INTEGER;",
    STANDING_COLUMN,
    ASIDE_TABLE,
    """
    ALTER TABLE identity_claims ADD COLUMN shown_at INTEGER;
    UPDATE identity_claims SET shown_at = seq WHERE status = 'valid';
    CREATE INDEX identity_claims_by_shown ON identity_claims (shown_at);
    """,
    BACKDATED_TABLE,
    # With the rule that a device's x25519 is its key's X25519 form (``upgrade``); the sealed feeds join on it.
    "CREATE INDEX identity_devices_by_x25519 ON identity_devices (x25519);",
)
X25519_RULE = len(MIGRATIONS) - 1  # a file with fewer migrations resolved its logs before that rule


async def upgrade(conn: aiosqlite.Connection, had: int) -> None:
    """Resolve every identity held again when the file resolved them before the x25519 rule (docs/protocol.md
    §13.2): a log listing a key its device does not hold is refused there as at any door, so no one keeps being
    sealed to, or routed, someone else's key from before."""
    if had > X25519_RULE:
        return
    async with conn.execute("SELECT DISTINCT identity FROM key_events") as cursor:
        identities = [bytes(r[0]).hex() for r in await cursor.fetchall()]
    for identity in identities:
        await settle(conn, identity)
# A device-signed message is shown from a log position on (``shown_at``, NULL while it is not): its own seq when
# its log judged it valid on arrival, else the position of the batch that released it (its identity's log came,
# or a dispute was settled), placed as a late notice is (murmur.store.ingest.PLACE_NOTICES). The live stream
# sends such a message then (``Kind.shown_late``).
PLACE_SHOWN = (
    "UPDATE identity_claims SET shown_at = CASE WHEN seq >= :lo THEN seq ELSE :hi END"
    " WHERE shown_at IS NULL AND status = 'valid'"
)
SHOWN_LATE = (
    "SELECT seq, shown_at FROM identity_claims WHERE shown_at > seq AND shown_at > :after AND shown_at <= :upto"
    " UNION SELECT seq, shown_at FROM identity_claims WHERE shown_at > seq AND seq > :after AND seq <= :upto"
)


def waiting(row: str) -> str:
    """SQL: the message ``row`` speaks for an identity whose log cannot judge it yet, or whose fork disputes its
    device (§13.5): readers are not shown it, so that nobody's post is shown as an identity's before its log says
    so (``Kind.withheld``)."""
    return f"EXISTS (SELECT 1 FROM identity_claims w WHERE w.seq = {row}.seq AND w.status != 'valid')"


def shown_from(row: str) -> str:
    """SQL: the log position the message ``row`` is shown from (``shown_at``), NULL while its log withholds it or
    when no device signed it for an identity (``Kind.shown_from``)."""
    return f"(SELECT w.shown_at FROM identity_claims w WHERE w.seq = {row}.seq)"


def identity_named(m: Message) -> str | None:
    """The identity a message speaks for: its ``identity`` tag, or, for an inception, its own id."""
    return m.id if m.kind == INCEPTION else m.tag("identity")


_EVENTS_SQL = "SELECT id, kind, signer, created_at, identity, prior, body FROM key_events WHERE identity IN ({marks})"


def _event(row: Sequence[Any]) -> Event:
    prior = None if row[5] is None else bytes(row[5]).hex()
    return Event(bytes(row[0]).hex(), str(row[1]), bytes(row[2]).hex(), int(row[3]), bytes(row[4]).hex(), prior,
                 json.loads(row[6]))  # fmt: skip


async def held_events(conn: aiosqlite.Connection, identities: Iterable[str]) -> dict[str, list[Event]]:
    """The key events held for each of ``identities``."""
    out: dict[str, list[Event]] = {i: [] for i in identities}
    for row in await select_in(conn, _EVENTS_SQL, [bytes.fromhex(i) for i in out]):
        e = _event(row)
        out[e.identity].append(e)
    return out


_Resolution = tuple[str, frozenset[str], frozenset[str]]  # an identity, the ids of its events, its backdated removals
_RESOLVED: OrderedDict[_Resolution, Log | None] = OrderedDict()
CACHED_LOGS = 1024
_IDS_SQL = "SELECT identity, id FROM key_events WHERE identity IN ({marks})"


def _remember(key: _Resolution, log: Log | None) -> Log | None:
    _RESOLVED[key] = log
    if len(_RESOLVED) > CACHED_LOGS:
        _RESOLVED.popitem(last=False)
    return log


async def logs_of(
    conn: aiosqlite.Connection, identities: Iterable[str], extra: Sequence[Event] = ()
) -> dict[str, Log | None]:
    """Each identity's log as the events held (and ``extra``, a batch's own) resolve it, with the removals found
    backdated here; None when its inception is not among them. Remembered by the sets of ids: ids are digests of
    the events, so the same sets are the same log in any store, and while a log stands a device's message costs a
    look-up of ids, not a fold."""
    ids: dict[str, set[str]] = {i: set() for i in identities}
    backdated: dict[str, set[str]] = {i: set() for i in identities}
    keys = [bytes.fromhex(i) for i in ids]
    for found, sql in ((ids, _IDS_SQL), (backdated, BACKDATED_SQL)):
        for identity, event in await select_in(conn, sql, keys):
            found[bytes(identity).hex()].add(bytes(event).hex())
    for e in extra:
        ids[e.identity].add(e.id)
    out: dict[str, Log | None] = {}
    missing = []
    for identity, held in ids.items():
        key = (identity, frozenset(held), frozenset(backdated[identity]))
        if key in _RESOLVED:
            _RESOLVED.move_to_end(key)
            out[identity] = _RESOLVED[key]
        else:
            missing.append(identity)
    if missing:
        events = await held_events(conn, missing)
        for e in extra:
            if e.identity in events:
                events[e.identity].append(e)
        for identity in missing:
            log = resolve(identity, events[identity], backdated[identity])
            out[identity] = _remember((identity, frozenset(ids[identity]), frozenset(backdated[identity])), log)
    return out


async def resolved(conn: aiosqlite.Connection, identity: str) -> Log | None:
    """The identity's log as the events held resolve it; None when its inception is not held."""
    return (await logs_of(conn, [identity]))[identity]


async def admit(conn: aiosqlite.Connection, batch: Sequence[tuple[int, Message]]) -> dict[int, Refused]:
    """Refusals, by position, for the key events and device-signed messages of ``batch`` the logs say no to."""
    _ADMITTED.pop(id(conn), None)
    named = {index: i for index, m in batch if (i := identity_named(m)) is not None}
    if not named:
        return {}
    extra = [Event.of(m) for index, m in batch if m.kind in EVENT_KINDS and index in named]
    logs = await logs_of(conn, {e.identity for e in extra}, extra) if extra else {}
    verdicts = await _judged(conn, [m for index, m in batch if index in named and m.kind not in EVENT_KINDS], logs)
    # record() finds these logs once the batch is written, in the same transaction on the same connection: it
    # records the batch's messages with these verdicts without judging them again.
    _ADMITTED[id(conn)] = verdicts
    out: dict[int, Refused] = {}
    for index, m in batch:
        if index not in named:
            continue
        if m.kind in EVENT_KINDS:
            log = logs[named[index]]
            refusal = log.refused.get(m.id) if log is not None else None
            if refusal is not None:
                out[index] = Refused(refusal.code, refusal.reason)
        elif (judged := verdicts[m.id]).status == "refused":
            out[index] = Refused(judged.code or "", judged.reason or "")
    await set_aside(conn, [m for index, m in batch if index in out and m.kind not in EVENT_KINDS])
    return out


async def speakers(conn: aiosqlite.Connection, messages: Sequence[Message]) -> dict[str, str]:
    """The identity each of ``messages`` speaks for, by id, when the log in force at its time says its device did
    (valid): the person behind it, whichever device signed it. The verdicts admit() just gave this batch, else the
    devices' spans; a message naming no identity, or whose log cannot say yet, speaks for no one but its key."""
    named = [m for m in messages if m.kind not in EVENT_KINDS and identity_named(m) is not None]
    admitted = _ADMITTED.get(id(conn), {})
    rest = [m for m in named if m.id not in admitted]
    verdicts = {**admitted, **(await _judged(conn, rest, {}) if rest else {})}
    return {m.id: identity_named(m) or "" for m in named if verdicts[m.id].status == "valid"}


# The identity a held message ``{row}`` speaks for (its claim valid), NULL when none: ``speakers`` of the held.
SPEAKER_SQL = "(SELECT w.identity FROM identity_claims w WHERE w.seq = {row}.seq AND w.status = 'valid')"


_ADMITTED: dict[int, dict[str, Verdict]] = {}  # connection -> the verdicts admit() gave its current batch, by id
_SPANS_SQL = (
    "SELECT identity, device, added_at, removed_at, disputed_at FROM identity_devices WHERE device IN ({marks})"
)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


async def _judged(
    conn: aiosqlite.Connection, messages: Sequence[Message], logs: Mapping[str, Log | None]
) -> dict[str, Verdict]:
    """Each device-signed message's verdict, by id: by ``logs`` for an identity there (its events are in the
    batch), else by ``identity_devices``, which ``settle`` rewrites from the resolution whenever the identity's
    events change, so it says what the log held says: an indexed look-up per batch, not a fold per identity."""
    rest = {bytes.fromhex(m.author) for m in messages if identity_named(m) not in logs}
    spans = {
        (bytes(r[0]).hex(), bytes(r[1]).hex()): (int(r[2]), _int(r[3]), _int(r[4]))
        for r in (await select_in(conn, _SPANS_SQL, sorted(rest)) if rest else [])
    }
    out: dict[str, Verdict] = {}
    for m in messages:
        identity = identity_named(m) or ""
        if identity in logs:
            out[m.id] = verdict(logs[identity], m.author, m.created_at)
        else:
            out[m.id] = device_verdict(spans.get((identity, m.author)), m.author, m.created_at)
    return out


async def record(conn: aiosqlite.Connection, stored: list[tuple[int, Message]]) -> None:
    """Record the batch's key events and device-signed messages, and resolve again each log that changed."""
    admitted = _ADMITTED.pop(id(conn), {})
    events, claims = [], []
    for seq, m in stored:
        identity = identity_named(m)
        if identity is None:
            continue
        if m.kind in EVENT_KINDS:
            prior = m.tag("prior")
            events.append((bytes.fromhex(m.id), bytes.fromhex(identity), bytes.fromhex(prior) if prior else None,
                           m.kind, bytes.fromhex(m.author), m.created_at, json.dumps(m.body), seq))  # fmt: skip
        else:
            claims.append((seq, m))
    if events:
        await conn.executemany(
            "INSERT INTO key_events (id, identity, prior, kind, signer, created_at, body, seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            events,
        )
    for identity in {bytes(e[1]).hex() for e in events}:
        await settle(conn, identity)
    if claims:
        await _judge_new(conn, claims, admitted)


async def _judge_new(
    conn: aiosqlite.Connection, claims: list[tuple[int, Message]], admitted: dict[str, Verdict]
) -> None:
    """Record the batch's device-signed messages with their verdict: one insert, and a look-up of the devices
    unless admit() just made it (a file catching up has no admit; its events are settled by now)."""
    unjudged = [m for _, m in claims if m.id not in admitted]
    verdicts = {**admitted, **(await _judged(conn, unjudged, {}) if unjudged else {})}
    rows, gone = [], []
    for seq, m in claims:
        status = verdicts[m.id].status
        if status == "refused":  # only a file catching up gets here: ingest refused such messages
            gone.append(seq)
        else:
            ident = bytes.fromhex(identity_named(m) or "")
            shown_at = seq if status == "valid" else None
            rows.append((seq, ident, bytes.fromhex(m.author), m.created_at, status, shown_at))
    await conn.executemany(
        "INSERT INTO identity_claims (seq, identity, device, created_at, status, shown_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        rows,
    )
    if gone:
        await _remove_seqs(conn, gone)
    # state another kind kept from this batch before its claims were here (a group's fold) leaves out the withheld
    await _reshown(conn, [row[0] for row in rows if row[4] != "valid"])


async def _reshown(conn: aiosqlite.Connection, seqs: Sequence[int]) -> None:
    from murmur.kinds import reshown  # the registry holds this module

    await reshown(conn, seqs)


async def _remove_seqs(conn: aiosqlite.Connection, seqs: Sequence[int]) -> None:
    """Set aside held device-signed messages the log now refuses, and remove them from the store."""
    from murmur.store.ingest import remove_messages  # ingest consults the registry, which imports this module
    from murmur.validate import load_stored

    rows = await select_in(conn, "SELECT id, raw FROM messages WHERE seq IN ({marks})", seqs)
    await set_aside(conn, [load_stored(bytes(r[1])) for r in rows])
    ids = [bytes(r[0]) for r in rows]
    await conn.executemany("DELETE FROM identity_claims WHERE seq = ?", [(s,) for s in seqs])
    await remove_messages(conn, ids)
    await _reshown(conn, seqs)


async def settle(conn: aiosqlite.Connection, identity: str) -> None:
    """Resolve the identity's log again after its events changed and judge its messages again: the state tables
    are rewritten from the resolution; what it now refuses goes (events after a refused one; messages of a
    removed device, set aside), and what it no longer refuses comes back, so every server ends holding the same
    set whatever order things came in."""
    from murmur.store.ingest import remove_messages

    ident = bytes.fromhex(identity)
    log = await resolved(conn, identity)
    # a device's removal that would take back what this server acknowledged is contested instead (§13.4)
    if await contest_backdated(conn, identity, log, lambda: held_events(conn, [identity])):
        log = await resolved(conn, identity)
    refused = [bytes.fromhex(i) for i in log.refused] if log is not None else []
    if log is not None and identity in log.refused:  # its inception is refused (x25519_not_derived): as if not held
        log = None
    async with conn.execute("SELECT device FROM identity_devices WHERE identity = ?", (ident,)) as cursor:
        listed = [bytes(r[0]).hex() for r in await cursor.fetchall()]
    await _write_state(conn, ident, log)
    await tell_moves(conn, ident, log)
    if refused:
        await conn.executemany("DELETE FROM key_events WHERE id = ?", [(g,) for g in refused])
        await remove_messages(conn, refused)
    sql = "SELECT seq, device, created_at, status FROM identity_claims WHERE identity = ?"
    async with conn.execute(sql, (ident,)) as cursor:
        claims = [(int(r[0]), bytes(r[1]).hex(), int(r[2]), str(r[3])) for r in await cursor.fetchall()]
    status: dict[str, list[tuple[int]]] = {"valid": [], "waiting": [], "disputed": [], "refused": []}
    released, shown_again = [], []
    for seq, device, created_at, was in claims:
        now = verdict(log, device, created_at).status
        status[now].append((seq,))
        if now == "valid" and was != "valid":
            released.append((seq,))
        if (now == "valid") != (was == "valid") and now != "refused":
            shown_again.append(seq)
    for name in ("valid", "waiting", "disputed"):
        await conn.executemany(f"UPDATE identity_claims SET status = '{name}' WHERE seq = ?", status[name])
    # A message now shown is news now: it, and its notices (derived when it came, hidden since), are placed again
    # where the live stream reads what this batch derived (PLACE_SHOWN; murmur.store.ingest.PLACE_NOTICES), as a
    # reply whose parent arrives late is. One hidden again is shown from nowhere until it is released again.
    hidden = status["waiting"] + status["disputed"]
    await conn.executemany("UPDATE identity_claims SET shown_at = NULL WHERE seq = ?", released + hidden)
    await conn.executemany("UPDATE notices SET derived_at = NULL WHERE seq = ?", released)
    if status["refused"]:
        await _remove_seqs(conn, [seq for (seq,) in status["refused"]])
    await _reshown(conn, shown_again)
    await release(conn, ident, log)
    # a group role is its identity's, acted on through its devices in force: their groups follow the log
    from murmur.kinds.group_state import refold_people  # the registry holds both modules

    # and a place in a group is its identity's, by which keys the log lists: their groups follow a change of those
    now = set(log.state.devices if log is not None else ())
    moved = sorted(now.symmetric_difference(listed))
    await refold_people(conn, [identity, *listed, *now], placed=[*moved, identity] if moved else [])


async def _write_state(conn: aiosqlite.Connection, ident: bytes, log: Log | None) -> None:
    for table in ("identities", "identity_devices", "identity_forks"):
        await conn.execute(f"DELETE FROM {table} WHERE identity = ?", (ident,))  # table names are ours, not input
    if log is None:
        return
    s = log.state
    fork_at = bytes.fromhex(log.fork.place) if log.fork else None
    await conn.execute(
        "INSERT INTO identities (identity, head, length, next_key, home, fork_at) VALUES (?, ?, ?, ?, ?, ?)",
        (ident, bytes.fromhex(s.head), s.length, bytes.fromhex(s.next), s.home, fork_at),
    )
    await conn.executemany(
        "INSERT INTO identity_devices (identity, device, name, x25519, added_at, removed_at, disputed_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(ident, bytes.fromhex(d.key), d.name, bytes.fromhex(d.x25519), d.added_at, d.removed_at, d.disputed_at)
         for d in s.devices.values()],
    )  # fmt: skip
    if log.fork is not None:
        await conn.executemany(
            "INSERT INTO identity_forks (identity, event, place) VALUES (?, ?, ?)",
            [(ident, bytes.fromhex(b), bytes.fromhex(log.fork.place)) for b in log.fork.branches],
        )


def _device_view(d: Device) -> dict[str, Any]:
    return {"key": d.key, "name": d.name, "x25519": d.x25519, "added_at": d.added_at, "removed_at": d.removed_at,
            "disputed_at": d.disputed_at}  # fmt: skip


async def identity_view(conn: aiosqlite.Connection, identity: str) -> dict[str, Any] | None:
    """What readers are shown of an identity: its devices, home, where its log is, and any fork; a key with no
    log held is a bare identity with one device (docs/protocol.md §13.5); None when neither is known."""
    log = await resolved(conn, identity)
    if log is None:
        async with conn.execute(
            "SELECT min(created_at) FROM messages WHERE author = ?", (bytes.fromhex(identity),)
        ) as c:
            row = await c.fetchone()
        if row is None or row[0] is None:
            return None
        bare = {"key": identity, "name": "", "x25519": None, "added_at": int(row[0]), "removed_at": None,
                "disputed_at": None}  # fmt: skip
        return {"identity": identity, "fingerprint": fingerprint(identity), "bare": True, "devices": [bare],
                "head": None, "length": 0, "home": None, "fork": None, "superseded": [], "waiting": 0}  # fmt: skip
    return log_view(identity, log)


def log_view(identity: str, log: Log) -> dict[str, Any]:
    """An identity's resolved log as ``GET /api/v1/identities/{id}`` shows it; a device resolving the signed events
    itself (murmur.client.identity_check) builds the same view."""
    s = log.state
    fork = None if log.fork is None else {"place": log.fork.place, "branches": list(log.fork.branches),
                                          "backdated": log.fork.backdated}  # fmt: skip
    return {
        "identity": identity, "fingerprint": fingerprint(identity), "bare": False,
        "devices": [_device_view(d) for d in sorted(s.devices.values(), key=lambda d: (d.added_at, d.key))],
        "head": s.head, "length": s.length, "home": s.home, "fork": fork, "superseded": list(log.superseded),
        "waiting": len(log.waiting),
    }  # fmt: skip


async def event_ids(store: Store, identity: str) -> list[str]:
    """The ids of the key events held for ``identity``, oldest first."""
    sql = "SELECT id FROM key_events WHERE identity = ? ORDER BY created_at, id"
    async with store.conn.execute(sql, (bytes.fromhex(identity),)) as cursor:
        return [bytes(r[0]).hex() for r in await cursor.fetchall()]


async def identity_of(store: Store, key: str) -> dict[str, Any] | None:
    """``identity_view`` when ``key`` is an identity whose log is held; None for a key (bare or a device's)."""
    view = await identity_view(store.conn, key)
    return None if view is None or view["bare"] else view


async def profile_author(store: Store, identity: str) -> str | None:
    """The device whose newest profile speaks for the identity (made while the log made it a device), if any:
    an identity's name and bio are what any of its devices last set."""
    sql = (
        "SELECT /* bounded sort: one profile per device of one identity */ p.author"
        " FROM identity_devices d CROSS JOIN profiles p ON p.author = d.device WHERE d.identity = ?"
        " AND p.created_at >= d.added_at AND (d.removed_at IS NULL OR p.created_at < d.removed_at)"
        " AND (d.disputed_at IS NULL OR p.created_at < d.disputed_at)"
        " ORDER BY p.created_at DESC, p.author LIMIT 1"
    )
    async with store.conn.execute(sql, (bytes.fromhex(identity),)) as cursor:
        row = await cursor.fetchone()
    return None if row is None else bytes(row[0]).hex()


_IDENTITY_NAMES_SQL = (
    "SELECT d.identity, p.name, p.created_at, p.author"
    " FROM identity_devices d CROSS JOIN profiles p ON p.author = d.device WHERE d.identity IN ({marks})"
    " AND p.name != '' AND p.created_at >= d.added_at AND (d.removed_at IS NULL OR p.created_at < d.removed_at)"
    " AND (d.disputed_at IS NULL OR p.created_at < d.disputed_at)"
)


async def identity_names(store: Store, identities: Sequence[str]) -> dict[str, str]:
    """The display name of each of ``identities`` that has one: its ``profile_author``'s, in a few queries however
    many (a group's members listed by identity)."""
    newest: dict[str, tuple[int, str, str]] = {}
    wanted = sorted({bytes.fromhex(i) for i in identities if len(i) == 64})
    for identity, name, at, author in await select_in(store.conn, _IDENTITY_NAMES_SQL, wanted):
        key, found = bytes(identity).hex(), (int(at), bytes(author).hex(), str(name))
        if key not in newest or (-found[0], found[1]) < (-newest[key][0], newest[key][1]):  # profile_author's order
            newest[key] = found
    return {key: name for key, (_, _, name) in newest.items()}


async def identities_of_device(store: Store, device: str) -> list[tuple[str, int | None]]:
    """The identities whose logs make ``device`` a device, each with when it was removed (None: current)."""
    sql = "SELECT identity, removed_at FROM identity_devices WHERE device = ?"
    async with store.conn.execute(sql, (bytes.fromhex(device),)) as cursor:
        return [(bytes(r[0]).hex(), None if r[1] is None else int(r[1])) for r in await cursor.fetchall()]


_CURRENT_OF_SQL = "SELECT device, identity FROM identity_devices WHERE removed_at IS NULL AND device IN ({marks})"


async def spoken_for(store: Store, keys: Sequence[str]) -> dict[str, str]:
    """Whom each of ``keys`` speaks for, as readers group people: the identity whose log makes it a current device
    (when exactly one does), else the key itself, a bare identity (docs/protocol.md §13.5)."""
    found: dict[str, list[str]] = {}
    for device, identity in await select_in(store.conn, _CURRENT_OF_SQL, sorted({bytes.fromhex(k) for k in keys})):
        found.setdefault(bytes(device).hex(), []).append(bytes(identity).hex())
    return {k: found[k][0] if len(found.get(k, ())) == 1 else k for k in keys}


async def identity_named_by(store: Store, name: str) -> dict[str, Any] | None:
    """``identity_view`` of what ``name`` names: an identity, a current device's key (its identity), or a bare
    key; None when nothing by that name is held."""
    current = [i for i, removed in await identities_of_device(store, name) if removed is None]
    return await identity_view(store.conn, current[0] if len(current) == 1 else name)


DEVICE_STANDING = (
    "SELECT coalesce(d.removed_at, d.disputed_at) AS removed, m.role AS role FROM identity_devices d"
    " LEFT JOIN identity_devices o ON o.identity = d.identity"
    " LEFT JOIN members m ON m.key = o.device WHERE d.device = ?"
)
"""What the identity logs say of one device (bound to its key): a row per device of each identity naming it, with
the device's removal (or dispute) and that other device's members role. Read by ``standing_role``."""


def standing_role(rows: Sequence[Sequence[Any]]) -> str | None:
    """``member_by_identity``'s answer from the rows of ``DEVICE_STANDING``."""
    if any(r[0] is not None for r in rows):
        return ""
    return next((str(r[1]) for r in rows if r[1] is not None), None)


_DISPUTED_MEMBER = (
    "SELECT DISTINCT d.identity FROM identity_devices d CROSS JOIN identity_devices o ON o.identity = d.identity"
    " CROSS JOIN members m ON m.key = o.device WHERE d.device = ? AND d.disputed_at IS NOT NULL"
    " AND d.removed_at IS NULL"
)


async def disputed_member(store: Store, device: str) -> frozenset[str]:
    """The identities whose logs hold ``device`` disputed by a fork, not removed, and that a device of which joined
    this server: where the owner, holding the rotation key on that device, may settle the fork from it."""
    rows = await store.conn.execute_fetchall(_DISPUTED_MEMBER, (bytes.fromhex(device),))
    return frozenset(bytes(r[0]).hex() for r in rows)


async def member_by_identity(conn: aiosqlite.Connection, device: str) -> str | None:
    """A device speaks as a member when a device (current or not) of its identity joined: the role of that
    member; "" when the device was removed from an identity, or a fork's branch removes it (what it signs is no
    longer the identity's, and a server does not take it from it); None when no identity says anything of it."""
    return standing_role(list(await conn.execute_fetchall(DEVICE_STANDING, (bytes.fromhex(device),))))


async def device_names(store: Store, devices: Sequence[str]) -> dict[str, str]:
    """The name each of ``devices`` goes by in an identity's log (when several logs name it, any one)."""
    sql = "SELECT device, name FROM identity_devices WHERE device IN ({marks})"
    rows = await select_in(store.conn, sql, [bytes.fromhex(d) for d in devices])
    return {bytes(r[0]).hex(): str(r[1]) for r in rows}
