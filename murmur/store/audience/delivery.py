"""Who outside this server may have a stored message, or one about to be: a trusted peer (``for_peers``), or
anyone at all (``for_anyone``); and what its author is told when it reaches fewer peers than it signs
(``held_back``).

A message signed wider than its audience (a public-signed reply, reaction, boost or delete about a scoped post,
from a client that did not know) would be taken as signed by a peer that never held the post, and relayed to
everyone from there. So ``for_peers`` sends such a message only with what narrows it: each scoped message it
leans on reaches the peer by itself (held here, and signing its audience or narrowed in turn by what reaches:
``murmur.store.audience.adrift``), or was confirmed by that peer in a signed answer (``murmur.receipts``: it
holds it, its delete, or refused it for its audience), or leans in turn only on what reaches or was confirmed,
the whole chain down, or its scopes are all those of another message it names that reaches (a reply's thread
root: the peer narrows it by that one alike). Once the post is deleted here, it goes to no peer that never had
it, and its author is told (``held_back``). The compose preview asks this very condition of the message as it
would be stored (``UNSENT``), so it names the peers delivery then hands it to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from murmur.message import SCOPE_PREFIX, Message
from murmur.store.audience.adrift import blocked, leaning
from murmur.store.audience.doors import REFUSED_LOCAL
from murmur.store.audience.scopes import UNSENT, held, kept_here, named, named_ids, seen_by, unsent
from murmur.store.audience.waiting import waits

if TYPE_CHECKING:  # the store imports ingest, which imports this package
    from murmur.store import Store


# What a peer signed, in an answer to a push, pull or repair (murmur.receipts), about a message it was sent that
# shows it remembers that message's audience: held, held already, arrived after its delete (still narrowed,
# ``narrow_unstored``), or refused for its audience (``confine_refused``).
def _acknowledged(msg_id: str, peer: str) -> str:
    refused = ", ".join(f"'{code}'" for code in sorted(REFUSED_LOCAL))
    return (
        f"EXISTS (SELECT 1 FROM receipts a WHERE a.message = {msg_id} AND a.peer = {peer}"
        f" AND (a.status IN ('stored', 'duplicate', 'deleted') OR a.code IN ({refused})))"
    )


def _covered(alias: str, narrower: str) -> str:
    """SQL: every scope of the message ``narrower`` (an id) is a scope of a message the row ``alias`` names that
    reaches peers by itself (held here, and not adrift): a peer narrows ``alias`` by that message itself, to no
    wider an audience than ``narrower`` would give it. A reply below a deleted public-signed reply names the thread's
    root too, which narrows it alike; a reply in a thread of two scopes whose deleted parent carried both does not
    (the root carries one: a peer would narrow the reply to that one alone)."""
    reaching = (
        f"y.scope = z.scope AND y.id IN ({named(alias)}) AND {held('y.id')}"
        " AND NOT EXISTS (SELECT 1 FROM adrift a WHERE a.id = y.id)"
    )
    return (
        f"NOT EXISTS (SELECT 1 FROM scoped z WHERE z.id = {narrower}"
        f" AND NOT EXISTS (SELECT 1 FROM scoped y WHERE {reaching}))"
    )


def _leans_on(alias: str, stored: bool) -> str:
    """SQL: a SELECT of the ids (column ``id``) the row ``alias`` leans on that do not reach a peer by themselves
    (its ``adrift`` rows when stored, computed by the same definition when not) and whose scopes nothing else it
    names brings to that peer (``_covered``)."""
    if stored:
        leans = f"SELECT e.narrower AS id FROM adrift e WHERE e.id = {alias}.id"
    else:
        leans = f"SELECT DISTINCT s.id FROM scoped s WHERE {leaning(alias, stored=False)}"
    return f"SELECT l.id FROM ({leans}) l WHERE NOT {_covered(alias, 'l.id')}"


def for_peers(alias: str = "m", peer: str = ":peer", *, stored: bool = True) -> str:
    """The SQL condition under which the row ``alias`` may be sent to the trusted peer whose key is the SQL
    expression ``peer`` (by default the named parameter ``:peer``, the key's 32 bytes): it may see it
    (``seen_by``), and nothing it leans on is kept from that peer: each scoped message it names that does not
    reach peers by itself (``_leans_on``) was confirmed by the peer, or is held and leans only on what the peer
    confirmed, the whole chain down (``blocked``, read once per statement). What is kept here (confined) never
    goes, so only scopes are followed. ``alias`` is a ``messages`` row, or with ``stored=False`` an ``UNSENT``
    row: the compose preview asks the very rule that delivery asks. A stored message naming what this server knows
    nothing of yet goes to no peer until it does (``murmur.store.audience.waiting``); an unsent one names only what
    its author sees here. A stored delete also goes to every peer that signed it holds its target."""
    unknown = f" AND NOT {waits(alias)}" if stored else ""
    audience = f"{seen_by(alias, peer, stored)} AND NOT {_waits(alias, peer, stored)}{unknown}"
    return f"(({audience}) OR {_undoes_what_it_holds(alias, peer)})" if stored else audience


def _undoes_what_it_holds(alias: str, peer: str) -> str:
    """SQL: the row ``alias`` is a delete of a message the peer ``peer`` signed that it holds (``murmur.receipts``):
    whatever its audience says now (the peer lost the scope's label since), the delete takes nothing the peer
    lacks, and without it the peer would keep the message for good. Not one signed ``local``: no peer takes that."""
    return (
        f"({alias}.kind = 'delete' AND {alias}.visibility <> 'local'"
        f" AND EXISTS (SELECT 1 FROM receipts a WHERE a.message = {alias}.target"
        f" AND a.peer = {peer} AND a.status IN ('stored', 'duplicate')))"
    )


def _waits(alias: str, peer: str, stored: bool) -> str:
    """SQL: something the row ``alias`` leans on is kept from the peer ``peer`` (see ``for_peers``)."""
    return (
        f"EXISTS (SELECT 1 FROM ({_leans_on(alias, stored)}) j WHERE NOT {_acknowledged('j.id', peer)}"
        f" AND (NOT {held('j.id')} OR {blocked(_acknowledged('e.narrower', peer))}))"
    )


def kept_back(alias: str = "m", peer: str = ":peer") -> str:
    """The SQL condition under which the ``messages`` row ``alias`` is one the peer may see by its audience but
    ``for_peers`` keeps from it for now: it waits for what it leans on (adrift, and not confirmed). A door that
    passes such a message by (the push cursor) keeps its id, and asks the rule again as what decides changes
    (``murmur.store.passed``): a confirmation, a parent stored again, what it names arriving, anything else the
    rule reads."""
    adrift = f"EXISTS (SELECT 1 FROM adrift w WHERE w.id = {alias}.id)"  # the only rows that can wait: one probe
    leaning = f"({adrift} AND {_waits(alias, peer, True)})"
    return f"(({leaning} OR {waits(alias)}) AND {seen_by(alias, peer, True)})"


def for_anyone(alias: str = "m") -> str:
    """The SQL condition under which the ``messages`` row ``alias`` may be seen by anyone at all, with no trust
    in them: bundles, exports, the web view and feeds. Public messages only: not local, in no scope, and naming
    nothing this server knows nothing of yet (``murmur.store.audience.waiting``)."""
    return (
        f"{alias}.visibility = 'public' AND NOT {kept_here(alias)}"
        f" AND NOT EXISTS (SELECT 1 FROM scoped x WHERE x.id = {alias}.id) AND NOT {waits(alias)}"
    )


HELD_BACK = "audience_unsigned"


async def held_back(store: Store, message: Message) -> tuple[str, str] | None:
    """``(code, reason)`` when ``message`` signs a wider audience than the scoped messages it leans on and one of
    them does not reach peers by itself (``for_peers``): no longer held here (deleted), itself or further up its
    chain. It then goes to no peer but those that confirmed they hold that message, and its author is told why,
    and what to sign instead. None otherwise."""
    names = named_ids(message)
    # A message naming nothing leans on nothing (``leaning`` starts from what it names): no query, which every
    # top-level post published would otherwise pay.
    if message.visibility == "local" or not names:
        return None
    sql = f"SELECT DISTINCT x.scope FROM {UNSENT} u JOIN scoped x ON x.id IN ({_leans_on('u', False)})"
    rows = await store.conn.execute_fetchall(sql, unsent(message.visibility, names))
    scopes = sorted(str(row[0]) for row in rows)
    if not scopes:
        return None
    audience = " and ".join(repr(s) for s in scopes)
    return HELD_BACK, (
        f"This {message.kind} names a message addressed to the scope {audience} (itself, or through the messages"
        f" it answers) that this server no longer holds, and is signed {message.visibility!r}: a server that never"
        f" held that message would take it as {message.visibility!r}. It goes only to the peers that confirmed they"
        f" hold that message; sign it 'visibility': '{SCOPE_PREFIX}{scopes[0]}' (as current clients do) for every"
        " peer of that scope."
    )
