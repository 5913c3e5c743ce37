"""Who may see a message beyond this server: the one audience rule that every door asks.

A message's audience is its own visibility, narrowed by the messages it names. Today there are two audiences:
``public`` (every trusted peer, and onward) and ``local`` (this server's members only). A local post stays on
this server, and so does every message whose thread root, parent or target (any tag whose value is a message
id: ``reply``, ``root``, ``target``) is a message that stays here, transitively: a reply to a local post, a
reaction to that reply, a delete of that reaction.

The doors that hand messages to someone who is not a member all ask ``for_peers``: push and pull
(``murmur.store.peers.outbound``), repair (``murmur.sync.index``), export (bundles and ``GET /api/v1/export``).
The read-only web view and the feeds (``server/web``, through ``murmur.store.public``) ask ``for_anyone``.
A member moving to another server takes what ``moves_with_author`` allows (``GET /api/v1/export?local=1``).
The doors that let messages in ask ``refuse_local``: a local post comes in only from its author, on the server
where the author is a member.

The order messages arrive in must not matter, so the store keeps the ids of everything that stays here in the
``confined`` table, kept at ingest from both ends: a new message that names a confined id is confined, and a new
local post (or newly confined message) confines the stored messages that already name it. A row is never taken
out, not even when a delete removes the message: a reply that arrives after its local parent was deleted still
stays here. A reply that was already sent to peers before its parent turned out to be local cannot be called
back, but from that moment on it is never pushed, served, repaired or exported again.

This is the place a named scope or a group will narrow an audience later: ``confined`` then records the
narrowed audience, and ``for_peers`` takes the peer it is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import aiosqlite

from murmur.errors import Refused
from murmur.kinds import kind
from murmur.kinds.key_log import BY_ROTATION_KEY
from murmur.message import Message

# The messages columns that hold a message id named by a tag (reply, root, target: murmur.message.TAG_NAMES).
REFERENCES = ("reply_to", "root", "target")


def for_peers(alias: str = "m") -> str:
    """The SQL condition under which the ``messages`` row ``alias`` may be seen by a trusted peer."""
    return f"{alias}.visibility = 'public' AND NOT EXISTS (SELECT 1 FROM confined c WHERE c.id = {alias}.id)"


def for_anyone(alias: str = "m") -> str:
    """The SQL condition under which the ``messages`` row ``alias`` may be shown to anyone at all: the web view
    and the feeds, read by people who are neither members nor peers.

    Today that is exactly what a peer may see: a trusted peer relays public messages onward, so nothing a peer
    may see is any less public than a web page. When named scopes narrow what a peer may see, this stays the
    ``public`` audience alone, and a scoped message never reaches a page."""
    return for_peers(alias)


def moves_with_author(alias: str = "m") -> str:
    """The SQL condition under which the ``messages`` row ``alias`` may leave with its author for a new server
    (``GET /api/v1/export?local=1``): what a peer may see, the author's local posts, and what they wrote about
    their own local posts. Not what they wrote about someone else's: signed as public, and without the local
    post it names, it would be public wherever it landed."""
    named = ", ".join(f"{alias}.{column}" for column in REFERENCES)
    return (
        f"({alias}.visibility = 'local' OR NOT EXISTS (SELECT 1 FROM confined c WHERE c.id IN ({named})"
        f" AND NOT EXISTS (SELECT 1 FROM messages p WHERE p.id = c.id AND p.author = {alias}.author)))"
    )


def _names(alias: str, other: str) -> str:
    """SQL: the row ``alias`` names the id ``other`` in one of its references."""
    return "(" + " OR ".join(f"{alias}.{column} = {other}" for column in REFERENCES) + ")"


def _confine(seeds: str) -> str:
    """The statement that confines ``seeds`` (a SELECT of ids) and every stored message naming one of them,
    transitively. A message already confined is not walked again: what named it then was confined then."""
    return (
        f"WITH RECURSIVE stay (id) AS ({seeds}"
        " UNION SELECT m.id FROM stay s JOIN messages m ON "
        + _names("m", "s.id")
        + " WHERE NOT EXISTS (SELECT 1 FROM confined c WHERE c.id = m.id))"
        " INSERT OR IGNORE INTO confined (id) SELECT id FROM stay"
    )


# Seeds among the rows with seq in [:lo, :hi]: local posts, and messages naming a confined id.
_NEW_SEEDS = (
    "SELECT n.id FROM messages n WHERE n.seq BETWEEN :lo AND :hi AND (n.visibility = 'local'"
    " OR EXISTS (SELECT 1 FROM confined c WHERE c.id IN (" + ", ".join(f"n.{c}" for c in REFERENCES) + ")))"
)
CONFINE_NEW = _confine(_NEW_SEEDS)

# The migration that adds the table fills it from the whole log once.
CREATE_CONFINED = (
    "CREATE TABLE IF NOT EXISTS confined (id BLOB PRIMARY KEY);  -- what stays on this server\n"
    + _confine("SELECT id FROM messages WHERE visibility = 'local'")
    + ";"
)


async def confine(conn: aiosqlite.Connection, lo: int, hi: int) -> None:
    """Apply the rule to messages just stored with seq in [lo, hi] (inside the caller's write transaction)."""
    await conn.execute(CONFINE_NEW, {"lo": lo, "hi": hi})


class IngestResultLike(Protocol):
    """What confine_refused reads of an ingest result (murmur.store.ingest imports this module)."""

    code: str | None
    id: str | None


CONFINE_SINCE = _confine("SELECT id FROM confined WHERE rowid > :mark")


async def confine_refused(conn: aiosqlite.Connection, results: Sequence[IngestResultLike | None]) -> None:
    """Remember the local posts a door refused (a peer's, a bundle's): they are not stored, but whatever names
    them, before or after, stays here all the same. Their signatures were checked, so an id confined this way
    is that of a genuine local post, and only messages naming that very post are held back."""
    ids = [(bytes.fromhex(r.id),) for r in results if r is not None and r.code in REFUSED_LOCAL and r.id]
    if not ids:
        return
    async with conn.execute("SELECT coalesce(max(rowid), 0) FROM confined") as cursor:
        row = await cursor.fetchone()
    await conn.executemany("INSERT OR IGNORE INTO confined (id) VALUES (?)", ids)
    await conn.execute(CONFINE_SINCE, {"mark": row[0] if row else 0})


Policy = Callable[[Message], None]

# Who may not bring a local post in, and what they are told: peers never, bundles only through the author.
_DOORS = {
    "peer": ("local_from_peer", "A local post never leaves its server; a peer may not send one."),
    "bundle": (
        "local_post",
        "A local post stays on its server; only its author may bring it to a new home, with `murmur import --mine`.",
    ),
}


def signed_by(key: str) -> Policy:
    """The policy of a member's own door (publish, ``POST /api/v1/import``): only messages the member signed, of
    kinds this server knows. Peers and bundles may bring a kind it does not know (``murmur.kinds.unknown``), which
    it carries; but a home server answers for what its members publish, and it could neither show them such a
    message nor know its audience (a newer kind may be meant for fewer people than ``public``)."""

    def policy(message: Message) -> None:
        # A rotation or a recovery is signed by the identity's offline rotation key, never by a device: the log
        # alone says whether it may stand (docs/protocol.md §13.3), so a member may bring one.
        if message.author != key and message.kind not in BY_ROTATION_KEY:
            raise Refused("wrong_author", "The message is signed by a key other than the one making the request.")
        if kind(message.kind) is None:
            raise Refused(
                "unknown_kind",
                f"This server does not know the kind {message.kind!r}, so it cannot take it from its members;"
                " it may need upgrading.",
            )

    return policy


REFUSED_LOCAL = frozenset(code for code, _ in _DOORS.values())


def refuse_local(door: str) -> Policy:
    """The ingest policy of a door through which a local post may not come in (``peer`` or ``bundle``)."""
    code, reason = _DOORS[door]

    def policy(message: Message) -> None:
        if message.kind == "post" and message.visibility == "local":
            raise Refused(code, reason)

    return policy
