"""Trusted peer servers: the allowlist, each peer's replication state, and what may be sent to it.

The outbound queue of a peer is its ``push_cursor`` over the append-only log: everything after it that the
peer should have is pending. Storing a message therefore enqueues it for every peer in the same transaction
(it *is* the same row), adding a peer backfills everything public, and an acknowledged batch is never sent
again because the cursor only moves forward once the peer has answered. What the cursor passes that the
audience rule keeps from the peer for now is kept aside as it moves, and released when the rule allows it
(``murmur.store.passed``, ``released``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import aiosqlite

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.store import Store, passed
from murmur.store.audience import PeerDoor, for_peers, kept_back, refuse_local
from murmur.store.audience import from_peer as audience_from_peer
from murmur.store.trust import EVERY_FIELD, label_in, labels_by_peer, refuse_drift, sign_changes
from murmur.validate import check_key

MODES = ("push-pull", "pull-only", "serve-only")
MAX_QUEUED_COUNT = 100_000
ALERT_AFTER_MS = 15 * 60 * 1000  # failing this long shows the peer as unreachable


@dataclass(frozen=True, slots=True)
class Peer:
    key: str
    name: str
    url: str
    mode: str
    proxy: str
    added_at: int
    push_cursor: int
    pull_cursor: int
    last_contact: int | None
    last_error: str
    failures: int
    failing_since: int | None
    labels: frozenset[str] = frozenset()  # from the trust manifest (murmur.store.trust): the scopes it may have

    @property
    def origin(self) -> str:
        return peer_origin(self.key)

    @property
    def dials(self) -> bool:
        """Whether this server opens connections to the peer (never for serve-only peers)."""
        return self.mode != "serve-only"


def peer_state(p: Peer, now_ms: int | None = None) -> str:
    """How deliveries to the peer go: "new" (never reached), "ok", "retrying", or "unreachable" (failing for
    longer than ALERT_AFTER_MS)."""
    now = _now_ms() if now_ms is None else now_ms
    if p.failing_since is not None and now - p.failing_since > ALERT_AFTER_MS:
        return "unreachable"
    if p.failures:
        return "retrying"
    return "ok" if p.last_contact is not None else "new"


PEER_STATES = ("new", "ok", "retrying", "unreachable")


def peer_origin(key: str) -> str:
    return f"peer:{key}"


_COLUMNS = (
    "key, name, url, mode, proxy, added_at, push_cursor, pull_cursor, last_contact, last_error, failures, failing_since"
)


def _peer(row: tuple[object, ...], labels: dict[str, frozenset[str]]) -> Peer:
    key, name, url, mode, proxy, added_at, push, pull, contact, err, failures, since = row
    return Peer(
        bytes(key).hex(),  # type: ignore[arg-type]
        str(name),
        str(url),
        str(mode),
        str(proxy),
        int(added_at),  # type: ignore[call-overload]
        int(push),  # type: ignore[call-overload]
        int(pull),  # type: ignore[call-overload]
        None if contact is None else int(contact),  # type: ignore[call-overload]
        str(err),
        int(failures),  # type: ignore[call-overload]
        None if since is None else int(since),  # type: ignore[call-overload]
        labels.get(bytes(key).hex(), frozenset()),  # type: ignore[arg-type]
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise Refused("bad_value", f"mode must be one of {', '.join(MODES)}; got {mode!r}.")
    return mode


def check_peer(key: str, url: str, mode: str) -> None:
    """A peer's key, mode and URL (which only a peer this server dials needs) are well-formed, or Refused."""
    check_key(key, "peer key")
    check_mode(mode)
    if mode != "serve-only" and not url.startswith(("http://", "https://")):
        raise Refused("bad_value", f"The peer URL must start with http:// or https://; got {url!r}.")


async def add_peer(
    store: Store,
    key: str,
    url: str,
    *,
    name: str = "",
    mode: str = "push-pull",
    proxy: str = "",
    signer: Identity | None = None,
    labels: Iterable[str] = (),
) -> Peer:
    """Trust a peer server, pinned by its key. Adding an existing key updates its URL, name, mode and proxy. With
    ``signer``, the peer gains ``labels`` and the change is signed into the trust manifest in the same write
    transaction: a peer added but not yet signed is never seen (two `peer add` at once would take it for drift),
    and a change refused as drift adds nothing."""
    check_peer(key, url, mode)
    async with store.writer.transaction() as conn:
        await conn.execute(
            "INSERT INTO peers (key, name, url, mode, proxy, added_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET name = excluded.name, url = excluded.url, mode = excluded.mode,"
            " proxy = excluded.proxy",
            (bytes.fromhex(key), name, url.rstrip("/"), mode, proxy, _now_ms()),
        )
        if signer is not None:
            await label_in(store, signer, conn, key, labels, add=True)
    peer = await get_peer(store, key)
    assert peer is not None
    return peer


async def remove_peer(store: Store, key_or_name: str, signer: Identity | None = None) -> bool:
    """Remove a peer; with ``signer``, the removal is signed into the trust manifest in the same transaction,
    refused first if the tables differ from the signed version in anything else (``trust.refuse_drift``)."""
    peer = await find_peer(store, key_or_name)
    if peer is None:
        return False
    async with store.writer.transaction() as conn:
        if signer is not None:
            await refuse_drift(store, signer.public_key, conn, {peer.key: EVERY_FIELD})
        await conn.execute("DELETE FROM peers WHERE key = ?", (bytes.fromhex(peer.key),))
        await conn.execute("DELETE FROM peer_labels WHERE peer = ?", (bytes.fromhex(peer.key),))
        await passed.forget_peers(conn)
        if signer is not None:
            await sign_changes(store, signer, conn)
    return True


async def get_peer(store: Store, key: str) -> Peer | None:
    try:
        raw = bytes.fromhex(key)
    except ValueError:
        return None
    async with store.conn.execute(f"SELECT {_COLUMNS} FROM peers WHERE key = ?", (raw,)) as cursor:
        row = await cursor.fetchone()
    return _peer(tuple(row), await labels_by_peer(store.conn)) if row else None


async def find_peer(store: Store, key_or_name: str) -> Peer | None:
    """A peer by its full key, its name, or a unique key prefix of at least 8 hex digits."""
    for peer in await list_peers(store):
        if key_or_name in (peer.key, peer.name) and key_or_name:
            return peer
    matches = [p for p in await list_peers(store) if len(key_or_name) >= 8 and p.key.startswith(key_or_name)]
    return matches[0] if len(matches) == 1 else None


def same_server(a: str, b: str) -> bool:
    """Whether two URLs name one server: scheme, host (in any case) and port (the scheme's own when not given)
    agree, and so does the path, but for a trailing slash."""
    x, y = urlsplit(a.strip()), urlsplit(b.strip())
    try:
        ports = [u.port or {"http": 80, "https": 443}.get(u.scheme.lower()) for u in (x, y)]
    except ValueError:  # a port that is no number names no server
        return False
    return (
        x.scheme.lower() == y.scheme.lower()
        and bool(x.hostname)
        and x.hostname == y.hostname
        and ports[0] == ports[1]
        and x.path.rstrip("/") == y.path.rstrip("/")
    )


async def home_trust(store: Store, home: str, own_url: str) -> str:
    """How this server stands to an identity's home (docs/protocol.md §13): ``here``, ``peer`` (a server it
    already trusts and exchanges with, so the identity's messages keep coming), or ``not_peer`` (nothing is
    fetched from a server an admin did not add: its followers here are told so)."""
    if same_server(home, own_url):
        return "here"
    peers = await list_peers(store)
    return "peer" if any(p.url and same_server(home, p.url) for p in peers) else "not_peer"


async def list_peers(store: Store) -> list[Peer]:
    labels = await labels_by_peer(store.conn)
    async with store.conn.execute(f"SELECT {_COLUMNS} FROM peers ORDER BY added_at, key") as cursor:
        return [_peer(tuple(row), labels) for row in await cursor.fetchall()]


async def record_success(
    store: Store,
    key: str,
    *,
    push_cursor: int | None = None,
    pull_cursor: int | None = None,
    clear_failures: bool = True,
    passed_over: Sequence[bytes] = (),
) -> None:
    """The peer answered: move cursors forward (never back) and, unless told otherwise (another exchange with
    the peer is still failing), clear the failure state. ``passed_over``: what the push cursor moves past that
    the audience rule keeps from the peer for now (``Outbound.passed``), kept to be asked again."""
    async with store.writer.transaction() as conn:
        await note_success(conn, key, push_cursor=push_cursor, pull_cursor=pull_cursor, clear_failures=clear_failures)
        await passed.pass_over(conn, key, passed_over)


async def note_success(
    conn: aiosqlite.Connection,
    key: str,
    *,
    push_cursor: int | None = None,
    pull_cursor: int | None = None,
    clear_failures: bool = True,
) -> None:
    """``record_success`` in a transaction the caller holds (a pull's cursor, written with the next batch)."""
    clear = " last_error = '', failures = 0, failing_since = NULL," if clear_failures else ""
    await conn.execute(
        "UPDATE peers SET push_cursor = max(push_cursor, COALESCE(?, push_cursor)),"
        f" pull_cursor = max(pull_cursor, COALESCE(?, pull_cursor)),{clear} last_contact = ? WHERE key = ?",
        (push_cursor, pull_cursor, _now_ms(), bytes.fromhex(key)),
    )


async def set_push_cursor(store: Store, key: str, cursor: int, passed_over: Sequence[bytes] = ()) -> None:
    """Move the push cursor past log rows the peer must not get (nothing was sent, nothing to acknowledge), keeping
    those it may get later (``passed_over``, as ``record_success``)."""
    async with store.writer.transaction() as conn:
        await conn.execute(
            "UPDATE peers SET push_cursor = max(push_cursor, ?) WHERE key = ?", (cursor, bytes.fromhex(key))
        )
        await passed.pass_over(conn, key, passed_over)


async def record_contact(store: Store, key: str) -> None:
    """The peer reached us (a push or a pull): remember when, without touching our own dialing state."""
    async with store.writer.transaction() as conn:
        await conn.execute("UPDATE peers SET last_contact = ? WHERE key = ?", (_now_ms(), bytes.fromhex(key)))


async def record_failure(store: Store, key: str, error: str) -> int:
    """The peer could not be reached or failed; returns the number of failures in a row."""
    async with store.writer.transaction() as conn:
        await conn.execute(
            "UPDATE peers SET failures = failures + 1, last_error = ?, failing_since = COALESCE(failing_since, ?)"
            " WHERE key = ?",
            (error[:300], _now_ms(), bytes.fromhex(key)),
        )
        async with conn.execute("SELECT failures FROM peers WHERE key = ?", (bytes.fromhex(key),)) as cursor:
            row = await cursor.fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True, slots=True)
class Outbound:
    """A page of the log as one peer may see it. ``next_cursor`` passes rows the peer must not get."""

    entries: list[tuple[int, bytes]]
    next_cursor: int
    more: bool
    ids: list[bytes]  # the id of each entry, in the same order
    local: list[bool]  # whether each entry was stored here first (a member's post, an import), not relayed
    kinds: list[str]  # the kind of each entry, from its row: the push path never parses a body to learn it
    passed: list[bytes] = field(default_factory=list)  # ids the rule keeps from the peer for now (kept_back)


def _key(peer: str | None) -> bytes | None:
    return bytes.fromhex(peer) if peer is not None else None


async def outbound(
    store: Store, *, after: int, limit: int, exclude_origin: str | None, to: str | None = None
) -> Outbound:
    """The messages after ``after`` that the peer ``to`` (its key; None: a peer with no labels) may see
    (``murmur.store.audience.for_peers``), leaving out what came from that peer itself (so no message is sent
    back where it came from); and the ids of those the rule keeps from it for now (``passed``)."""
    async with store.conn.execute(
        f"SELECT m.seq, m.raw, m.origin, {for_peers('m')}, m.id, {kept_back('m')}, m.kind"
        " FROM messages m WHERE m.seq > :after ORDER BY m.seq LIMIT :limit",
        {"after": after, "limit": limit, "peer": _key(to)},
    ) as cursor:
        rows = await cursor.fetchall()
    next_cursor = int(rows[-1][0]) if rows else after
    return _page([row for row in rows if row[2] != exclude_origin], next_cursor, more=len(rows) == limit)


def _page(rows: Sequence[Sequence[Any]], next_cursor: int, *, more: bool) -> Outbound:
    """The page of rows ``(seq, raw, origin, may go, id, kept back, kind)``."""
    kept = [row for row in rows if row[3]]
    return Outbound(
        [(int(row[0]), bytes(row[1])) for row in kept], next_cursor, more=more,
        ids=[bytes(row[4]) for row in kept], local=[not str(row[2]).startswith("peer:") for row in kept],
        kinds=[str(row[6]) for row in kept],
        passed=[bytes(row[4]) for row in rows if row[5]],
    )  # fmt: skip


async def released(store: Store, peer: Peer, limit: int) -> Outbound:
    """What the push cursor passed that the audience rule now lets go to ``peer`` (``murmur.store.passed``), as a
    page of the log in log order; its cursor is the peer's, which it does not move."""
    async with store.conn.execute(
        f"SELECT m.seq, m.raw, m.origin, TRUE, m.id, FALSE, m.kind FROM passed_over p JOIN messages m ON m.id = p.id"
        f" WHERE p.peer = :peer AND m.origin != :origin AND {for_peers('m')} ORDER BY m.seq LIMIT :limit",
        {"peer": bytes.fromhex(peer.key), "origin": peer.origin, "limit": limit},
    ) as cursor:
        rows = await cursor.fetchall()
    return _page(rows, peer.push_cursor, more=len(rows) == limit)


async def pulled(store: Store, peer: Peer, *, after: int, limit: int) -> Outbound:
    """What ``peer``'s pull of our log after ``after`` is answered. First what the audience rule now lets go that
    an earlier pull or push passed (``released``), forgotten as it is served (one lost on its way is the next
    repair's to find), its cursor left at ``after`` and ``more`` set, so the peer asks again at once; else the
    page of the log, whose passed ids are kept (``passed_over``) as the push cursor keeps them: a peer this server
    never dials learns what is released to it by its next pull, not only by a repair."""
    freed = await released(store, peer, limit)
    if freed.entries:
        await forget_released(store, peer, freed.ids)
        return replace(freed, next_cursor=after, more=True)
    page = await outbound(store, after=after, limit=limit, exclude_origin=peer.origin, to=peer.key)
    if page.passed:
        async with store.writer.transaction() as conn:
            await passed.pass_over(conn, peer.key, page.passed)
    return page


async def forget_released(store: Store, peer: Peer, ids: Sequence[bytes]) -> None:
    """The peer was offered the released ``ids`` (``released``): they wait no longer."""
    async with store.writer.transaction() as conn:
        await passed.forget(conn, peer.key, ids)


async def queued(store: Store, peer: Peer) -> int:
    """How many messages wait for this peer (counted up to MAX_QUEUED_COUNT), those the rule now lets go that its
    cursor passed included (``released``)."""
    async with store.conn.execute(
        f"SELECT (SELECT count(*) FROM (SELECT 1 FROM messages m WHERE m.seq > :after AND {for_peers('m')}"
        " AND m.origin != :origin LIMIT :most) q) + (SELECT count(*) FROM passed_over p JOIN messages m"
        f" ON m.id = p.id WHERE p.peer = :peer AND m.origin != :origin AND {for_peers('m')})",
        {"after": peer.push_cursor, "peer": bytes.fromhex(peer.key), "origin": peer.origin, "most": MAX_QUEUED_COUNT},
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def oldest_queued(store: Store, peer: Peer) -> int | None:
    """When (ms, our clock) the oldest message still waiting for this peer arrived here; None when none waits."""
    async with store.conn.execute(
        f"SELECT m.received_at FROM messages m WHERE m.seq > :after AND {for_peers('m')} AND m.origin != :origin"
        " ORDER BY m.seq LIMIT 1",
        {"after": peer.push_cursor, "peer": bytes.fromhex(peer.key), "origin": peer.origin},
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else None


def from_peer(peer: Peer) -> PeerDoor:
    """The ingest policy for messages a peer brings (push, pull, repair): no local post, no scoped post unless
    this server labels the peer with its scope (``murmur.store.audience.from_peer``)."""
    return audience_from_peer(peer.labels)


refuse_local_from_peer = refuse_local("peer")
"""Policy for messages arriving from peers: a local post never leaves its own server."""
