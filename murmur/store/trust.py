"""The trust manifest in the store: peers' labels, every signed version, and what peers sent beyond an audience.

The ``peers`` and ``peer_labels`` tables are what delivery reads; every change to them made through here is
signed as a new version of the manifest (``murmur.manifest``) in the same transaction, so the newest signed
version always describes what delivery does. ``diff`` against it shows anything changed behind its back.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiosqlite

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.manifest import Manifest, PeerEntry, Previous, check_label, check_signatures, diff, parse
from murmur.store import Store, passed
from murmur.store.audience import OUT_OF_AUDIENCE, UNSENT, for_peers, scope_of, unsent
from murmur.store.items import select


def _now_ms() -> int:
    return int(time.time() * 1000)


async def labels_by_peer(conn: aiosqlite.Connection) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    async with conn.execute("SELECT peer, label FROM peer_labels") as cursor:
        for peer, label in await cursor.fetchall():
            found.setdefault(bytes(peer).hex(), set()).add(str(label))
    return {key: frozenset(labels) for key, labels in found.items()}


async def known_labels(store: Store) -> list[str]:
    """Every label a peer carries here: the scopes a post may be addressed to on this server."""
    return [
        str(row[0]) for row in await select(store.conn, "SELECT DISTINCT label FROM peer_labels ORDER BY label", ())
    ]


async def live(store: Store, server_key: str, conn: aiosqlite.Connection | None = None) -> Manifest:
    """The manifest the tables describe now (unsigned, numbered after the newest signed version)."""
    conn = conn or store.conn
    labels = await labels_by_peer(conn)
    async with conn.execute("SELECT key, name, url, mode FROM peers") as cursor:
        rows = await cursor.fetchall()
    peers = {
        bytes(key).hex(): PeerEntry(
            bytes(key).hex(), str(name), str(url), str(mode), labels.get(bytes(key).hex(), frozenset())
        )
        for key, name, url, mode in rows
    }
    newest = await latest(store, conn)
    admins = newest.admins if newest is not None else frozenset()
    return Manifest(server_key, (newest.version + 1) if newest is not None else 1, admins, peers)


async def latest(store: Store, conn: aiosqlite.Connection | None = None) -> Manifest | None:
    async with (conn or store.conn).execute("SELECT text FROM manifests ORDER BY version DESC LIMIT 1") as cursor:
        row = await cursor.fetchone()
    return parse(str(row[0])) if row else None


async def version(store: Store, number: int) -> Manifest | None:
    rows = await select(store.conn, "SELECT text FROM manifests WHERE version = ?", (number,))
    return parse(str(rows[0][0])) if rows else None


async def previous(store: Store, conn: aiosqlite.Connection | None = None) -> Previous | None:
    """What verifying a new version needs: the newest version, its admins, and who stopped being one when."""
    async with (conn or store.conn).execute("SELECT text FROM manifests ORDER BY version") as cursor:
        texts = [str(row[0]) for row in await cursor.fetchall()]
    return _previous_of(texts) if texts else None


async def _record(conn: aiosqlite.Connection, manifest: Manifest) -> None:
    await conn.execute(
        "INSERT INTO manifests (version, digest, text, at) VALUES (?, ?, ?, ?)",
        (manifest.version, manifest.digest, manifest.to_toml(), _now_ms()),
    )


EVERY_FIELD = frozenset({"name", "url", "mode", "labels"})
DRIFT = "manifest_drift"


async def refuse_drift(
    store: Store, server_key: str, conn: aiosqlite.Connection, touching: Mapping[str, Collection[str]] | None = None
) -> None:
    """Refuse (``manifest_drift``) while the tables differ from the newest signed version in anything but what
    the change asked for sets (``touching``: per peer key, its fields; a peer new to or gone from the tables is
    the change's when named at all). Delivery reads the tables: a label written there by anything but a signed
    change (a hand edit, a restored backup) would otherwise be signed along with the next change, unseen."""
    newest = await latest(store, conn)
    if newest is None:  # nothing signed yet to differ from: the first version is what the admin signs
        return
    now = await live(store, server_key, conn)
    touching = touching or {}

    def entry(peer: PeerEntry) -> tuple[Any, ...]:
        fields = touching.get(peer.key, ())
        return tuple(None if f in fields else getattr(peer, f) for f in sorted(EVERY_FIELD))

    keys = set(newest.peers) | set(now.peers)
    drifted = {
        k
        for k in keys
        if not (k in touching and (k not in newest.peers or k not in now.peers))
        and (k not in newest.peers or k not in now.peers or entry(newest.peers[k]) != entry(now.peers[k]))
    }
    if not drifted:
        return
    shown = diff(
        replace(newest, peers={k: p for k, p in newest.peers.items() if k in drifted}),
        replace(now, peers={k: p for k, p in now.peers.items() if k in drifted}),
    )
    raise Refused(
        DRIFT,
        f"The peers differ from signed version {newest.version} in what this change does not set, and nobody"
        f" signed that: {'; '.join(shown)}. Nothing was signed. See `murmur peer manifest diff`; set each as it"
        " should be (`murmur peer label PEER LABEL...`, `murmur peer remove PEER`), or accept a reviewed version"
        " with `murmur peer manifest apply FILE`; then try again.",
    )


async def sign_changes(
    store: Store, identity: Identity, conn: aiosqlite.Connection, admins: frozenset[str] | None = None
) -> Manifest:
    """Sign what the tables now say as the next version, inside the caller's write transaction (which has
    checked first, ``refuse_drift``, that they differ from the newest signed version only by its change)."""
    current = await live(store, identity.public_key, conn)
    if admins is not None:
        current = Manifest(current.server, current.version, admins, current.peers)
    newest = await latest(store, conn)
    if newest is not None and current.unsigned(newest.version).digest == newest.digest:
        return newest  # nothing changed: no new version to sign
    signed = current.signed_by(identity)
    await _record(conn, signed)
    return signed


async def set_labels(
    store: Store, identity: Identity, key: str, labels: Iterable[str], *, add: bool = False
) -> Manifest:
    """Give the peer ``key`` these labels (replacing its labels, or adding to them), signed as a new version. What
    its push cursor already passed in a scope it gains is asked again at its next push (``murmur.store.passed``)."""
    async with store.writer.transaction() as conn:
        return await label_in(store, identity, conn, key, labels, add=add)


async def label_in(
    store: Store, identity: Identity, conn: aiosqlite.Connection, key: str, labels: Iterable[str], *, add: bool
) -> Manifest:
    """``set_labels`` inside the caller's write transaction (``peers.add_peer`` adds the peer in the same one, so a
    second `peer add` run at the same moment never sees a peer added but not yet signed)."""
    wanted = sorted({check_label(label) for label in labels})
    # Labels replaced are the admin's to say; labels added to (a peer just added or updated by `peer add`) keep
    # what the peer had, which must be what was signed.
    sets = {key: {"labels"} if not add else {"name", "url", "mode"}}
    await refuse_drift(store, identity.public_key, conn, sets)
    had = (await labels_by_peer(conn)).get(key, frozenset())
    await passed.widened(conn, key, set(wanted) - had)
    if not add:
        await conn.execute("DELETE FROM peer_labels WHERE peer = ?", (bytes.fromhex(key),))
    await conn.executemany(
        "INSERT INTO peer_labels (peer, label) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(bytes.fromhex(key), label) for label in wanted],
    )
    return await sign_changes(store, identity, conn)


async def set_admins(store: Store, identity: Identity, add: Sequence[str], remove: Sequence[str]) -> Manifest:
    async with store.writer.transaction() as conn:
        await refuse_drift(store, identity.public_key, conn)
        current = await live(store, identity.public_key, conn)
        return await sign_changes(store, identity, conn, (current.admins | set(add)) - set(remove))


async def apply(store: Store, manifest: Manifest, server_key: str) -> Manifest:
    """Accept a manifest signed elsewhere (by the server key and admins): verified against what this server
    already accepted, then the peers and labels become what it says. Peers it leaves out are removed."""
    async with store.writer.transaction() as conn:
        check_signatures(manifest, server_key, await previous(store, conn))
        had = await labels_by_peer(conn)
        keep = [bytes.fromhex(k) for k in manifest.peers]
        if keep:
            await conn.execute(f"DELETE FROM peers WHERE key NOT IN ({','.join('?' * len(keep))})", keep)
        else:  # NOT IN (NULL) would keep every row
            await conn.execute("DELETE FROM peers WHERE true")
        await conn.execute("DELETE FROM peer_labels WHERE true")
        for p in manifest.peers.values():
            await conn.execute(
                "INSERT INTO peers (key, name, url, mode, proxy, added_at) VALUES (?, ?, ?, ?, '', ?)"
                " ON CONFLICT (key) DO UPDATE SET name = excluded.name, url = excluded.url, mode = excluded.mode",
                (bytes.fromhex(p.key), p.name, p.url, p.mode, _now_ms()),
            )
            await conn.executemany(
                "INSERT INTO peer_labels (peer, label) VALUES (?, ?)", [(bytes.fromhex(p.key), x) for x in p.labels]
            )
            await passed.widened(conn, p.key, p.labels - had.get(p.key, frozenset()))
        await passed.forget_peers(conn)
        await _record(conn, manifest)
    return manifest


async def verify_stored(store: Store, server_key: str) -> list[str]:
    """Problems with the stored versions, one line each (none: every version verifies in turn, and the newest
    describes what delivery does)."""
    problems: list[str] = []
    rows = await select(store.conn, "SELECT version, text FROM manifests ORDER BY version", ())
    before: Previous | None = None
    seen: list[str] = []
    for number, text in rows:
        try:
            m = parse(str(text))
            check_signatures(m, server_key, before)
        except Refused as exc:
            problems.append(f"version {number}: {exc.code}: {exc.message}")
            continue
        seen.append(str(text))
        before = _previous_of(seen)
    newest = await latest(store)
    if newest is None and await select(store.conn, "SELECT 1 FROM peers LIMIT 1", ()):
        problems.append("the peers are in no signed manifest yet: `murmur peer label PEER LABEL...` signs one")
    if newest is not None:
        now = await live(store, server_key)
        if now.unsigned(newest.version).digest != newest.digest:
            problems.append(f"the peers differ from signed version {newest.version}: see `murmur peer manifest diff`")
    return problems


def _previous_of(texts: list[str]) -> Previous:
    removed: dict[str, int] = {}
    admins: frozenset[str] = frozenset()
    number = 0
    for text in texts:
        m = parse(text)
        for key in admins - m.admins:
            removed[key] = m.version
        for key in m.admins:
            removed.pop(key, None)
        admins, number = m.admins, m.version
    return Previous(number, admins, removed)


@dataclass(frozen=True, slots=True)
class Recipient:
    key: str
    name: str
    labels: frozenset[str]

    @property
    def outside(self) -> bool:
        return PeerEntry(self.key, labels=self.labels).outside

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "key": self.key, "labels": sorted(self.labels), "outside": self.outside}


async def recipients(store: Store, visibility: str, names: Sequence[str]) -> list[Recipient]:
    """The peers a message of ``visibility`` naming the message ids ``names`` (its reply, root, target) would
    reach: the very rule delivery asks of each stored message (``for_peers``), asked of the message unsent."""
    rows = await select(
        store.conn,
        f"SELECT p.key, p.name FROM peers p, {UNSENT} m WHERE {for_peers('m', 'p.key', stored=False)}",
        unsent(visibility, names),
    )
    labels = await labels_by_peer(store.conn)
    found = [Recipient(bytes(k).hex(), str(n), labels.get(bytes(k).hex(), frozenset())) for k, n in rows]
    return sorted(found, key=lambda r: (r.name, r.key))


async def audience_of(store: Store, visibility: str, names: Sequence[str]) -> str:
    """The audience a new message would have: ``local``, ``scope:A`` (``+`` joined when several), or ``public``."""
    ids = [bytes.fromhex(n) for n in names]
    marks = ",".join("?" * len(ids)) or "NULL"
    if visibility == "local" or await select(store.conn, f"SELECT 1 FROM confined WHERE id IN ({marks})", ids):
        return "local"
    scopes = {str(r[0]) for r in await select(store.conn, f"SELECT scope FROM scoped WHERE id IN ({marks})", ids)}
    own = scope_of(visibility)
    if own is not None:
        scopes.add(own)
    return "+".join(f"scope:{s}" for s in sorted(scopes)) if scopes else "public"


def _scope(result: Any) -> str:
    message = getattr(result, "message", None)
    return (scope_of(message.visibility) or "") if message is not None else ""


async def note_refusals(store: Store, peer_key: str, results: Sequence[Any]) -> int:
    """Record against a peer the messages it sent beyond their audience (refused ``out_of_audience``)."""
    rows = [
        (bytes.fromhex(peer_key), bytes.fromhex(r.id), _scope(r), str(r.reason), _now_ms())
        for r in results
        if r is not None and r.code == OUT_OF_AUDIENCE and r.id
    ]
    if rows:
        async with store.writer.transaction() as conn:
            await conn.executemany(
                "INSERT INTO audience_refusals (peer, id, scope, reason, at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                rows,
            )
    return len(rows)


async def refusals_by_peer(store: Store) -> dict[str, tuple[int, str]]:
    """For each peer caught relaying beyond an audience: how many messages, and the latest reason."""
    rows = await select(
        store.conn,
        "SELECT r.peer, count(*), (SELECT q.reason FROM audience_refusals q WHERE q.peer = r.peer"
        " ORDER BY q.at DESC LIMIT 1) FROM audience_refusals r GROUP BY r.peer",
        (),
    )
    return {bytes(peer).hex(): (int(count), str(reason)) for peer, count, reason in rows}
