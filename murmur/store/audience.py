"""Who may see a message beyond this server: the one audience rule that every door asks.

A message's audience is its own visibility, narrowed by the messages it names. There are three kinds of
audience: ``public`` (every trusted peer, and onward), ``local`` (this server's members only) and a named scope,
``scope:LABEL`` (the peers this server labels LABEL in its trust manifest, ``murmur.manifest``, and onward only
through peers that carry the same label on their side). A local post stays on this server, and so does every
message whose thread root, parent or target (any tag whose value is a message id: ``reply``, ``root``,
``target``) is a message that stays here, transitively: a reply to a local post, a reaction to that reply, a
delete of that reaction. A scope narrows the same way: a reply to a post addressed to ``inside`` goes only where
the post may go, whatever its own visibility says. A message naming messages of two scopes goes only to peers
carrying both labels.

The doors that hand messages to a peer ask ``for_peers`` with that peer: push and pull
(``murmur.store.peers.outbound``), repair (``murmur.sync.index``), and the compose preview
(``murmur.store.trust.recipients``) that tells an author who will receive a post. Doors open to anyone at all
(bundles and ``GET /api/v1/export``, the read-only web view and feeds in ``server/web`` through
``murmur.store.public``) ask ``for_anyone``: public messages only. A member
moving to another server takes what ``moves_with_author`` allows (``GET /api/v1/export?local=1``). The doors
that let messages in ask ``refuse_local`` or ``from_peer``: a local post comes in only from its author, on the
server where the author is a member; a scoped post only from a peer this server counts in that scope.

The order messages arrive in must not matter, so the store keeps the ids of everything that stays here in the
``confined`` table, and the scopes of everything scoped in ``scoped``, both kept at ingest from both ends: a
new message that names a confined (scoped) id is confined (scoped alike), and a new local (scoped) post
confines (scopes) the stored messages that already name it. A row is never taken out, not even when a delete
removes the message: a reply that arrives after its local parent was deleted still stays here; and a local or
scoped post that arrives after its own delete, never stored, is narrowed all the same (``narrow_unstored``).
A reply that was already sent to peers before its parent turned out to be local or scoped cannot be called
back, but from that moment on it is never pushed, served, repaired or exported again beyond its audience.

Narrowing here is not enough for a message signed wider than its audience (a public-signed reaction to a scoped
post, from a client that did not know): a peer that never held the post would take it as public and relay it to
everyone. So ``for_peers`` sends such a message only with what narrows it: the scoped messages it names held and
sent too, or confirmed by that peer in a signed answer (``murmur.receipts``: it holds them, their delete, or
refused them for their audience), followed down the whole chain of such messages (a reply to a public-signed
reply to ... a scoped post) to ``NARROWING_DEPTH``. Once the post is deleted here, it goes to no peer that never
had it, and its author is told (``held_back``). The compose preview asks this very condition of the message as
it would be stored (``UNSENT``), so it names the peers delivery then hands it to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import aiosqlite

from murmur.errors import Refused
from murmur.kinds import kind
from murmur.kinds.base import execute_each
from murmur.kinds.key_log import BY_ROTATION_KEY
from murmur.kinds.sealed import check_fresh
from murmur.message import SCOPE_PREFIX, Message, now_ms

if TYPE_CHECKING:  # the store imports ingest, which imports this module
    from murmur.store import Store

# The messages columns that hold a message id named by a tag (reply, root, target: murmur.message.TAG_NAMES).
REFERENCES = ("reply_to", "root", "target")


def scope_of(visibility: str) -> str | None:
    """The label a ``scope:LABEL`` visibility names; None for ``public`` and ``local``."""
    return visibility[len(SCOPE_PREFIX) :] if visibility.startswith(SCOPE_PREFIX) else None


def carries(scopes: str, peer: str) -> str:
    """SQL: the peer whose key is the SQL expression ``peer`` carries every label among ``scopes`` (a SELECT of
    one column named ``scope``)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM ({scopes}) s WHERE NOT EXISTS"
        f" (SELECT 1 FROM peer_labels l WHERE l.peer = {peer} AND l.label = s.scope))"
    )


def _named(alias: str) -> str:
    """SQL: the ids the row ``alias`` names, a list for ``IN (...)``."""
    return ", ".join(f"{alias}.{column}" for column in REFERENCES)


# A message as it would be stored, for the rule to judge before it is (the compose preview, ``held_back``): its
# signed visibility and the ids it names (``b''`` for none: no message has that id). The store keeps, for every
# stored message, the scopes and the confinement of what it names (``confine`` at ingest, from both ends), so the
# rule reads a stored row's own rows and an unsent row what it names: the same answer, tested so.
UNSENT = "(SELECT :visibility AS visibility, :reply_to AS reply_to, :root AS root, :target AS target)"


def unsent(visibility: str, names: Sequence[str]) -> dict[str, object]:
    """The parameters of ``UNSENT`` for a message of ``visibility`` naming the ids ``names`` (at most three)."""
    if len(names) > len(REFERENCES):
        raise ValueError(f"a message names at most {len(REFERENCES)} ids (reply, root, target)")
    ids = [bytes.fromhex(n) for n in names] + [b""] * (len(REFERENCES) - len(names))
    return {"visibility": visibility, **dict(zip(REFERENCES, ids, strict=True))}


def _scopes(alias: str, stored: bool) -> str:
    """SQL: a SELECT of the scopes (column ``scope``) of the row ``alias``: its ``scoped`` rows when stored; its
    signed scope and those of what it names when not (what ingest would give it)."""
    if stored:
        return f"SELECT x.scope FROM scoped x WHERE x.id = {alias}.id"
    return (
        f"SELECT x.scope FROM scoped x WHERE x.id IN ({_named(alias)}) UNION SELECT"
        f" substr({alias}.visibility, {len(SCOPE_PREFIX) + 1}) WHERE {alias}.visibility LIKE '{SCOPE_PREFIX}%'"
    )


def _kept_here(alias: str, stored: bool = True) -> str:
    confined = f"c.id = {alias}.id" if stored else f"c.id IN ({_named(alias)})"
    return f"({alias}.visibility = 'local' OR EXISTS (SELECT 1 FROM confined c WHERE {confined}))"


def _seen_by(alias: str, peer: str, stored: bool) -> str:
    """SQL: the trusted peer whose key is the SQL expression ``peer`` may see the row ``alias`` by its audience
    as this server knows it: not kept here, and every scope of it carried by the peer."""
    return f"NOT {_kept_here(alias, stored)} AND " + carries(_scopes(alias, stored), peer)


def _signs_its_scopes(alias: str, stored: bool = True) -> str:
    """SQL: the row ``alias`` is in no scope its own signed visibility does not name."""
    wider = f"{alias}.visibility <> ('{SCOPE_PREFIX}' || z.scope)"
    if stored:  # one index probe, asked of every message a page of the log holds
        return f"NOT EXISTS (SELECT 1 FROM scoped z WHERE z.id = {alias}.id AND {wider})"
    return f"NOT EXISTS (SELECT 1 FROM ({_scopes(alias, stored)}) z WHERE {wider})"


# What a peer signed, in an answer to a push, pull or repair (murmur.receipts), about a message it was sent that
# shows it remembers that message's audience: held, held already, arrived after its delete (still narrowed,
# ``narrow_unstored``), or refused for its audience (``confine_refused``).
def _acknowledged(msg_id: str, peer: str) -> str:
    refused = ", ".join(f"'{code}'" for code in sorted(REFUSED_LOCAL))
    return (
        f"EXISTS (SELECT 1 FROM receipts a WHERE a.message = {msg_id} AND a.peer = {peer}"
        f" AND (a.status IN ('stored', 'duplicate', 'deleted') OR a.code IN ({refused})))"
    )


# How many messages deep a narrowing is followed: a reaction (1) to a public-signed reply (2) to a public-signed
# reply (3) ... to a scoped post. A message leaning on a chain longer than this goes to no peer that did not
# confirm the message at this depth (its signed answer stops the walk), and its author is told (``held_back``).
# A thread's replies are delivered in order and confirmed as they land, so a peer meets the limit only with a
# chain of this many public-signed replies it has not confirmed.
NARROWING_DEPTH = 100


def _leaning(named: str, peer: str) -> str:
    """SQL: the recursive CTE ``lean (id, depth)``: the scoped messages a row naming ``named`` (a list for ``IN``)
    is narrowed by, and, through each that is held, not confirmed by the peer ``peer`` and itself signed wider than
    its scopes, those it names in turn, down to ``NARROWING_DEPTH``."""
    return (
        f"lean (id, depth) AS (SELECT s.id, 1 FROM scoped s WHERE s.id IN ({named})"
        " UNION SELECT s.id, w.depth + 1 FROM lean w JOIN messages q ON q.id = w.id"
        f" JOIN scoped s ON s.id IN ({_named('q')})"
        f" WHERE w.depth < {NARROWING_DEPTH} AND NOT {_signs_its_scopes('q')} AND NOT {_acknowledged('w.id', peer)})"
    )


def _unreached(w: str, peer: str) -> str:
    """SQL: the ``lean`` row ``w`` is a narrowing that does not reach the peer ``peer``: not confirmed by it, and
    no longer held here (deleted), or held at ``NARROWING_DEPTH`` and narrowed in turn (what would come deeper)."""
    deeper = (
        f"{w}.depth = {NARROWING_DEPTH} AND EXISTS (SELECT 1 FROM messages q JOIN scoped s ON s.id IN ({_named('q')})"
        f" WHERE q.id = {w}.id AND NOT {_signs_its_scopes('q')})"
    )
    held = f"EXISTS (SELECT 1 FROM messages q WHERE q.id = {w}.id)"
    return f"NOT {_acknowledged(f'{w}.id', peer)} AND (NOT {held} OR ({deeper}))"


def for_peers(alias: str = "m", peer: str = ":peer", *, stored: bool = True) -> str:
    """The SQL condition under which the row ``alias`` may be sent to the trusted peer whose key is the SQL
    expression ``peer`` (by default the named parameter ``:peer``, the key's 32 bytes): it may see it
    (``_seen_by``), and a message signed wider than its audience goes only with what narrows it, followed the
    whole way (``_leaning``): every scoped message it leans on is held and goes too, or was confirmed by the peer.
    What is kept here (confined) never goes, so only scopes are followed. ``alias`` is a ``messages`` row, or
    with ``stored=False`` an ``UNSENT`` row: the compose preview asks the very rule that delivery asks."""
    leaning = f"WITH RECURSIVE {_leaning(_named(alias), peer)} SELECT 1 FROM lean w WHERE {_unreached('w', peer)}"
    return f"{_seen_by(alias, peer, stored)} AND ({_signs_its_scopes(alias, stored)} OR NOT EXISTS ({leaning}))"


def for_anyone(alias: str = "m") -> str:
    """The SQL condition under which the ``messages`` row ``alias`` may be seen by anyone at all, with no trust
    in them: bundles, exports, the web view and feeds. Public messages only: not local, in no scope."""
    return (
        f"{alias}.visibility = 'public' AND NOT {_kept_here(alias)}"
        f" AND NOT EXISTS (SELECT 1 FROM scoped x WHERE x.id = {alias}.id)"
    )


def narrowed_alone(alias: str) -> str:
    """SQL: the row ``alias`` is narrowed by nothing its own signed visibility does not say: a local post, a
    scoped post in no other scope and not confined, a public message neither confined nor scoped. Such a
    message keeps its audience wherever it lands, whatever travels with it."""
    return (
        f"({alias}.visibility = 'local' OR (NOT EXISTS (SELECT 1 FROM confined c WHERE c.id = {alias}.id)"
        f" AND NOT EXISTS (SELECT 1 FROM scoped x WHERE x.id = {alias}.id"
        f" AND {alias}.visibility <> ('{SCOPE_PREFIX}' || x.scope))))"
    )


NARROWERS = ("confined", "scoped")  # the tables of what narrows a message: kept here, or scoped


def travels_with(alias: str, chosen: str) -> str:
    """SQL: the row ``alias`` may leave this server in a selection (a member moving, a filtered export) of which
    ``chosen`` (an SQL condition on the messages row ``p``) holds. A message narrowed only by what it names (a
    public-signed reply, reaction or boost about a local or scoped post) leaves only with every narrowed message
    it names, held, chosen and narrowed alone: without them it would land public on the server it is taken
    to, which learns its audience from nothing else. A message whose narrowing parent cannot travel (deleted,
    never held, not chosen, narrowed in turn by another) stays."""
    reaches = f"EXISTS (SELECT 1 FROM messages p WHERE p.id = n.id AND {chosen} AND {narrowed_alone('p')})"
    each = (f"NOT EXISTS (SELECT 1 FROM {t} n WHERE n.id IN ({_named(alias)}) AND NOT {reaches})" for t in NARROWERS)
    return f"({narrowed_alone(alias)} OR {' AND '.join(each)})"


def moves_with_author(alias: str = "m", chosen: str = "TRUE") -> str:
    """The SQL condition under which the ``messages`` row ``alias`` may leave with its author for a new server
    (``GET /api/v1/export?local=1``): what is narrowed by nothing, the author's own local and scoped posts
    (written for that audience, they keep it on the new home), and what they wrote about those
    (``travels_with``). Not what they wrote about someone else's local or scoped post: signed as public, and
    without the post it names, it would be public wherever it landed. ``chosen`` narrows the selection further
    (a condition on the named row ``p``, as for ``travels_with``)."""
    return travels_with(alias, f"p.author = {alias}.author AND ({chosen})")


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
    await execute_each(conn, (CONFINE_NEW, SCOPE_NEW), {"lo": lo, "hi": hi})


def _scope(seeds: str) -> str:
    """The statement that gives ``seeds`` (a SELECT of ``id, scope``) and every stored message naming one of
    them, transitively, that scope. A message already in the scope is not walked again."""
    return (
        f"WITH RECURSIVE reach (id, scope) AS ({seeds}"
        " UNION SELECT m.id, r.scope FROM reach r JOIN messages m ON "
        + _names("m", "r.id")
        + " WHERE NOT EXISTS (SELECT 1 FROM scoped x WHERE x.id = m.id AND x.scope = r.scope))"
        " INSERT INTO scoped (id, scope) SELECT id, scope FROM reach WHERE true ON CONFLICT DO NOTHING"
    )


# Seeds among the rows with seq in [:lo, :hi]: scoped posts, and messages naming a scoped id.
SCOPE_NEW = _scope(
    f"SELECT n.id, substr(n.visibility, {len(SCOPE_PREFIX) + 1}) FROM messages n"
    f" WHERE n.seq BETWEEN :lo AND :hi AND n.visibility LIKE '{SCOPE_PREFIX}%'"
    " UNION SELECT n.id, x.scope FROM messages n JOIN scoped x ON x.id IN ("
    + ", ".join(f"n.{c}" for c in REFERENCES)
    + ") WHERE n.seq BETWEEN :lo AND :hi"
)

CREATE_SCOPED = (
    "CREATE TABLE IF NOT EXISTS scoped (id BLOB NOT NULL, scope TEXT NOT NULL, PRIMARY KEY (id, scope));"
    "  -- what goes only to peers carrying the scope's label\n"
)


class IngestResultLike(Protocol):
    """What confine_refused reads of an ingest result (murmur.store.ingest imports this module)."""

    code: str | None
    id: str | None


CONFINE_SINCE = _confine("SELECT id FROM confined WHERE rowid > :mark")
_CONFINE_ONE = _confine("SELECT id FROM confined WHERE id = :id")
_SCOPE_ONE = _scope("SELECT id, scope FROM scoped WHERE id = :id")


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


async def narrow_unstored(conn: aiosqlite.Connection, messages: Sequence[Message]) -> None:
    """Remember the audience of messages not stored because their author had already deleted them (their
    signatures were checked): a deleted id stays narrowed like any other (see the module's docstring), so what
    names it, held now or still to come, goes no further than it could have. A post arriving after its delete
    still narrows the reply that came first."""
    for message in messages:
        named = [bytes.fromhex(v) for tag in ("reply", "root", "target") if (v := message.tag(tag))]
        marks = ", ".join("?" * len(named))
        confined = message.visibility == "local"
        scopes = {s for s in (scope_of(message.visibility),) if s is not None}
        if named:
            async with conn.execute(f"SELECT 1 FROM confined WHERE id IN ({marks})", named) as cursor:
                confined = confined or await cursor.fetchone() is not None
            async with conn.execute(f"SELECT DISTINCT scope FROM scoped WHERE id IN ({marks})", named) as cursor:
                scopes.update(str(row[0]) for row in await cursor.fetchall())
        own = {"id": bytes.fromhex(message.id)}
        if confined:
            await conn.execute("INSERT INTO confined (id) VALUES (:id) ON CONFLICT DO NOTHING", own)
            await conn.execute(_CONFINE_ONE, own)
        for scope in sorted(scopes):
            await conn.execute(
                "INSERT INTO scoped (id, scope) VALUES (:id, :scope) ON CONFLICT DO NOTHING", {**own, "scope": scope}
            )
        if scopes:
            await conn.execute(_SCOPE_ONE, own)


async def scoped_among(store: Store, ids: Sequence[str]) -> set[str]:
    """Those of the message ids ``ids`` that are in a scope here (signed so, or narrowed by what they name)."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        part = [bytes.fromhex(i) for i in ids[start : start + 500]]
        sql = f"SELECT DISTINCT id FROM scoped WHERE id IN ({', '.join('?' * len(part))})"
        found.update(bytes(row[0]).hex() for row in await store.conn.execute_fetchall(sql, part))
    return found


HELD_BACK = "audience_unsigned"


def _named_by(message: Message) -> list[str]:
    """The ids ``message`` names in its reference tags, in the order of ``REFERENCES``."""
    return [v for tag in ("reply", "root", "target") if (v := message.tag(tag))]


async def held_back(store: Store, message: Message) -> tuple[str, str] | None:
    """``(code, reason)`` when ``message`` signs a wider audience than the scoped messages it leans on
    (``for_peers``) and one of them does not reach peers by itself: no longer held here (deleted), or deeper than
    ``NARROWING_DEPTH``. It then goes to no peer but those that confirmed they hold that message, and its author
    is told why, and what to sign instead. None otherwise."""
    if message.visibility == "local":
        return None
    named = ", ".join(f":{column}" for column in REFERENCES)
    held = "EXISTS (SELECT 1 FROM messages q WHERE q.id = w.id)"
    sql = (
        f"WITH RECURSIVE {_leaning(named, 'NULL')} SELECT DISTINCT x.scope, {held} FROM lean w"
        f" JOIN scoped x ON x.id = w.id WHERE {_unreached('w', 'NULL')}"
        f" AND NOT EXISTS (SELECT 1 FROM {UNSENT} m WHERE {_signs_its_scopes('m', stored=False)})"
    )
    rows = list(await store.conn.execute_fetchall(sql, unsent(message.visibility, _named_by(message))))
    if not rows:
        return None
    scopes = sorted({str(scope) for scope, _ in rows})
    audience = " and ".join(repr(s) for s in scopes)
    if any(not deeper for _, deeper in rows):
        why = (
            f"names a message addressed to the scope {audience} (itself, or through the messages it answers) that"
            " this server no longer holds"
        )
    else:
        why = (
            f"is narrowed to the scope {audience} only through more than {NARROWING_DEPTH} messages signed wider"
            " than their audience, deeper than servers follow"
        )
    return HELD_BACK, (
        f"This {message.kind} {why}, and is signed {message.visibility!r}: a server that never held that message"
        f" would take it as {message.visibility!r}. It goes only to the peers that confirmed they hold that message;"
        f" sign it 'visibility': '{SCOPE_PREFIX}{scopes[0]}' (as current clients do) for every peer of that scope."
    )


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
        known = kind(message.kind)
        # A sealed message is signed by a key made for it alone: naming its sender would defeat the sealing
        # (docs/encryption.md §6); its home server knows only which member handed it in.
        one_time = known is not None and known.one_time_author
        if message.author != key and message.kind not in BY_ROTATION_KEY and not one_time:
            raise Refused("wrong_author", "The message is signed by a key other than the one making the request.")
        if known is None:
            raise Refused(
                "unknown_kind",
                f"This server does not know the kind {message.kind!r}, so it cannot take it from its members;"
                " it may need upgrading.",
            )
        check_fresh(message, now_ms())

    return policy


OUT_OF_AUDIENCE = "out_of_audience"
SCOPED_IN_BUNDLE = "scoped_post"

# Codes whose message is not stored but whose id confines whatever names it (confine_refused): a reply to a
# post this server may not hold must not travel further than that post was meant to.
REFUSED_LOCAL = frozenset({*(code for code, _ in _DOORS.values()), OUT_OF_AUDIENCE, SCOPED_IN_BUNDLE})


def _refuse_local_post(code: str, reason: str, message: Message) -> None:
    # Any kind signed local (a post, or a reaction, boost or delete about one) stays where it was written.
    if message.visibility == "local":
        raise Refused(code, reason)


def refuse_local(door: str) -> Policy:
    """The ingest policy of a door through which a local post may not come in (``peer`` or ``bundle``). A bundle
    can be carried anywhere, so it may not bring a scoped post either."""
    code, reason = _DOORS[door]

    def policy(message: Message) -> None:
        _refuse_local_post(code, reason, message)
        scope = scope_of(message.visibility)
        if door == "bundle" and scope is not None:
            raise Refused(
                SCOPED_IN_BUNDLE,
                f"This post is addressed to the scope {scope!r}: it goes only to servers trusted with that scope,"
                " and a bundle may be carried anywhere.",
            )

    return policy


def from_peer(labels: frozenset[str]) -> Policy:
    """The ingest policy of a peer's door (push, pull, repair): no local post, and a scoped post only from a peer
    carrying its label here (onward only through peers carrying the same label). What else it refuses is
    recorded against the peer by ``murmur.store.trust.note_refusals``."""
    code, reason = _DOORS["peer"]

    def policy(message: Message) -> None:
        _refuse_local_post(code, reason, message)
        scope = scope_of(message.visibility)
        if scope is not None and scope not in labels:
            raise Refused(
                OUT_OF_AUDIENCE,
                f"This post is addressed to the scope {scope!r}, and this server does not label the peer that"
                f" sent it {scope!r}: a scoped post travels only through peers carrying its label.",
            )

    return policy
