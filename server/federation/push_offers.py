"""What our push offers a peer, and which bodies follow: the sending side of ids before bodies (offers.py holds
the receiving side and the wire form).

- A page of our log is offered as its ids (but those the peer told us it holds, ``offers.Heard``), and only the
  bodies the peer asks for are pushed: in a mesh each server then receives each body once, not once per peer.
- A peer that declined everything we offered it last hears from others first (a mesh): what we only relay waits
  up to ``LAZY_LINGER_S`` before it is offered to it, so that those offers, which only fill gaps, come in few
  large batches (our own members' posts never wait); once it asks for anything, relayed messages go at once again.
- A peer that knows no offers (an older murmur) gets every body, as before, and is offered again after
  ``OFFERS_AGAIN_S``.
"""

from __future__ import annotations

import logging
import time

from murmur.kinds import delete
from murmur.server.federation import offers
from murmur.server.federation.peer_client import PeerClient
from murmur.server.federation.repair import Counts
from murmur.server.state import ServerState
from murmur.store.peers import Outbound, Peer

log = logging.getLogger("murmur.federation")

LAZY_LINGER_S = 5.0  # the wait before offering a peer that declined all we offered it last
OFFERS_AGAIN_S = 600.0


class PushOffers:
    """How each peer took what we offered it last, kept for as long as the federator runs."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._bodies_only: dict[str, float] = {}  # peers that know no offers, and when to offer again
        self._declined: dict[str, float] = {}  # peers that declined all we offered them last, and when

    def relay_due(self, key: str) -> float | None:
        """When what we only relay is next offered to a peer that declined all we offered it last; None: now."""
        declined = self._declined.get(key)
        if declined is None or time.monotonic() >= declined + LAZY_LINGER_S:
            return None
        return declined + LAZY_LINGER_S

    def holds_back(self, peer: Peer, page: Outbound) -> bool:
        """Whether ``page`` waits (``relay_due``): all we only relay, the last of the log, for a peer that hears
        it from others."""
        return bool(page.entries) and not page.more and not any(page.local) and self.relay_due(peer.key) is not None

    async def wanted(self, peer: Peer, client: PeerClient, page: Outbound, report: Counts | None) -> list[bytes]:
        """The bodies of ``page`` that the peer asks for once offered their ids (but those it told us it holds);
        all of them for a peer that knows no offers (an older murmur), until it is time to offer again."""
        raws = [raw for _, raw in page.entries]
        if self._bodies_only.get(peer.key, 0.0) > time.monotonic():
            return raws
        owed = receipt_owed(page)
        ids = [item for item in page.ids if item not in owed and not self.state.heard.holds(peer.key, item)]
        if not ids:  # the peer told us it holds all of them
            return [raw for raw, item in zip(raws, page.ids, strict=True) if item in owed]
        wanted = await client.offer(ids)
        if report is not None:
            report.round_trips += 1
            report.bytes_out += len(ids) * offers.ID_BYTES
        if wanted is None:
            log.info("peer %s knows no offers: it gets every message whole", peer.name or peer.key[:8])
            self._bodies_only[peer.key] = time.monotonic() + OFFERS_AGAIN_S
            return raws
        if wanted:
            self._declined.pop(peer.key, None)
        else:
            self._declined[peer.key] = time.monotonic()
        asked = set(wanted) | owed
        return [raw for raw, item in zip(raws, page.ids, strict=True) if item in asked]


def receipt_owed(page: Outbound) -> set[bytes]:
    """Our own members' deletes in ``page``: they go whole even to a peer that holds them already (one relayed it
    there first), because only a pushed body is answered with the peer's signed receipt, and the author asks
    which peers confirmed the delete (``murmur delete ID --status``). A delete is small; an offer's "I hold it"
    is signed by no one."""
    return {
        item
        for item, local, kind in zip(page.ids, page.local, page.kinds, strict=True)
        if local and kind == delete.KIND.name
    }
