"""Our signed answers about the messages we took from a peer other than by its push (a pull, a repair's fetch):
receipts for its deletes and notices of what we withheld (``murmur.receipts``), sent back to it
(``POST /fed/v1/answers``), so that a delete's author sees this server confirm it whichever way it came.

A push's answer already carries them; this is the same signed line, on the next request. A peer too old to take
answers refuses the route: nothing else depends on it, so that is logged and the pull goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from murmur.errors import PeerError
from murmur.receipts import signed
from murmur.server.federation.peer_client import PeerClient
from murmur.server.state import ServerState
from murmur.store.ingest import IngestResult

log = logging.getLogger("murmur.federation")


def worth_answering(result: IngestResult) -> bool:
    """A delete (whatever became of it here: it is our receipt) or a refusal (our notice of what we withheld)."""
    if result.id is None:
        return False
    return result.status == "refused" or (result.message is not None and result.message.kind == "delete")


async def answer(state: ServerState, client: PeerClient, results: Sequence[IngestResult]) -> int:
    """Send the peer our signed answers about ``results`` (what it sent us); how many it kept."""
    lines = [signed(state.identity, r.as_dict()) for r in results if worth_answering(r)]
    if not lines:
        return 0
    try:
        return await client.answers(lines)
    except PeerError as error:
        log.info("peer %s took no answers: %s", client.peer.name or client.peer.key[:8], error.message)
        return 0
