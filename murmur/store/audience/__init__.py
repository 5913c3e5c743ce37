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
``murmur.store.public``) ask ``for_anyone``: public messages only. A member moving to another server takes what
``moves_with_author`` allows (``GET /api/v1/export?local=1``). The doors that let messages in ask
``refuse_local`` or ``from_peer``: a local post comes in only from its author, on the server where the author is
a member; a scoped post only from a peer this server counts in that scope.

The modules, each one part of the rule:

    scopes      what the rule reads of a row: the ids it names, its scopes, whether it stays here
    narrowing   the ``confined`` and ``scoped`` tables, kept at ingest from both ends
    adrift      what leans on a scoped message that does not reach a peer by itself, kept alike
    waiting     what names a message this server knows nothing of yet, kept from everyone until it comes
    delivery    ``for_peers``, ``kept_back``, ``for_anyone`` and ``held_back``
    moving      what may leave in a selection (a member moving, a filtered export)
    doors       the ingest policies: who may bring a local or a scoped post
"""

from murmur.store.audience.adrift import CREATE_ADRIFT
from murmur.store.audience.delivery import HELD_BACK, for_anyone, for_peers, held_back, kept_back
from murmur.store.audience.doors import (
    OUT_OF_AUDIENCE,
    REFUSED_LOCAL,
    SCOPED_IN_BUNDLE,
    MemberDoor,
    PeerDoor,
    Policy,
    from_peer,
    moved_in,
    refuse_local,
    signed_by,
)
from murmur.store.audience.moving import NARROWERS, moves_with_author, narrowed_alone, travels_with
from murmur.store.audience.narrowing import (
    CREATE_CONFINED,
    CREATE_SCOPED,
    CREATE_UNHELD,
    confine,
    confine_refused,
    follow_unheld,
    keep_names,
    mark,
    narrow_unstored,
    scoped_among,
)
from murmur.store.audience.scopes import REFERENCES, UNSENT, carries, scope_of, unsent
from murmur.store.audience.waiting import CREATE_WAITING

__all__ = [
    "CREATE_ADRIFT",
    "CREATE_CONFINED",
    "CREATE_SCOPED",
    "CREATE_UNHELD",
    "CREATE_WAITING",
    "HELD_BACK",
    "NARROWERS",
    "OUT_OF_AUDIENCE",
    "REFERENCES",
    "REFUSED_LOCAL",
    "SCOPED_IN_BUNDLE",
    "UNSENT",
    "MemberDoor",
    "PeerDoor",
    "Policy",
    "carries",
    "confine",
    "confine_refused",
    "follow_unheld",
    "for_anyone",
    "for_peers",
    "from_peer",
    "held_back",
    "keep_names",
    "kept_back",
    "mark",
    "moved_in",
    "moves_with_author",
    "narrow_unstored",
    "narrowed_alone",
    "refuse_local",
    "scope_of",
    "scoped_among",
    "signed_by",
    "travels_with",
    "unsent",
]
