"""Our signed answers about the messages we took from a peer other than by its push (a pull, a repair's fetch):
receipts for its deletes and notices of what we withheld (``murmur.receipts``), sent back to it
(``POST /fed/v1/answers``), so that a delete's author sees this server confirm it whichever way it came. And the
same notice, unasked, when a moderator here removes a message peers hold (``tell_removed``). And the other way:
what a peer answers about what we sent it, kept and told to live readers (``heard``).

A push's answer already carries them; this is the same signed line, on the next request. A peer too old to take
answers refuses the route: nothing else depends on it, so that is logged and the pull goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from typing import Any

from murmur.errors import PeerError
from murmur.receipts import signed
from murmur.server.federation.peer_client import PeerClient
from murmur.server.state import ServerState
from murmur.store import receipts, removals
from murmur.store.audience import scope_of, scoped_among
from murmur.store.ingest import IngestResult
from murmur.store.peers import Peer, list_peers
from murmur.store.trust import note_refusals

log = logging.getLogger("murmur.federation")


async def heard(state: ServerState, peer_key: str, sent: Collection[str], results: Sequence[dict[str, Any]]) -> int:
    """Keep a peer's signed answers about the messages ``sent`` it (``murmur.store.receipts.note``), and wake the
    live streams, which tell readers of what it withheld (``event: withheld``) from the log position the notices
    were kept at, and the pushers, which send what waited on them (``murmur.store.passed``); how many answers were
    kept."""
    kept = await receipts.note(state.store, peer_key, sent, results)
    if kept:
        state.hub.stored(await state.store.last_seq())
        if await receipts.leaned_on(state.store, sent):
            state.hub.confirmed()
    return kept


async def taken(state: ServerState, client: PeerClient, results: Sequence[IngestResult]) -> None:
    """What follows storing messages a peer sent other than by its push (a pulled page, a fetch), once committed:
    what it sent beyond an audience is recorded against it, live readers hear of what was stored, and it gets our
    signed answers."""
    await note_refusals(state.store, client.peer.key, results)
    stored = [r.seq for r in results if r.status == "stored" and r.seq is not None]
    if stored:
        state.hub.stored(max(stored))
    await answer(state, client, results)


def worth_answering(result: IngestResult, narrowed: Collection[str] = ()) -> bool:
    """A delete (whatever became of it here: it is our receipt), a refusal (our notice of what we withheld), or
    a message in a scope, signed so or narrowed here by what it names (``narrowed``: their ids): our receipt
    that we hold its audience, so what names it, signed wider by a client that did not know, may then follow it
    here once it is deleted there, and a chain of such replies stops where we confirmed it
    (``murmur.store.audience.for_peers``)."""
    if result.id is None:
        return False
    message = result.message
    scoped = message is not None and scope_of(message.visibility) is not None
    deleting = message is not None and message.kind == "delete"
    return result.status == "refused" or deleting or scoped or result.id in narrowed


async def answer(state: ServerState, client: PeerClient, results: Sequence[IngestResult]) -> int:
    """Send the peer our signed answers about ``results`` (what it sent us); how many it kept."""
    held = [r.id for r in results if r.id is not None and r.status in ("stored", "duplicate")]
    narrowed = await scoped_among(state.store, held)
    lines = [signed(state.identity, r.as_dict()) for r in results if worth_answering(r, narrowed)]
    if not lines:
        return 0
    try:
        return await client.answers(lines)
    except PeerError as error:
        log.info("peer %s took no answers: %s", client.peer.name or client.peer.key[:8], error.message)
        return 0


async def tell_removed(state: ServerState, ids: Sequence[str], reason: str) -> list[dict[str, Any]]:
    """Tell every peer this server dials, signed, that a moderator here removed ``ids`` (the removed message
    first, then what went with it: ``murmur.store.moderation.remove``), one notice each, the one a push of it
    would now get back: ``{"key", "name", "kept", "error"}`` each. A peer kept a notice if it holds the message
    and may have sent it here; one not reached hears it when it next pushes or repairs the message."""
    refusals = [removals.refusal(reason)] + [removals.refusal_with(reason)] * (len(ids) - 1)
    lines = [
        signed(state.identity, {"id": msg_id, "status": "refused", "code": removals.CODE, "reason": why})
        for msg_id, why in zip(ids, refusals, strict=True)
    ]

    async def tell(peer: Peer) -> dict[str, Any]:
        told: dict[str, Any] = {"key": peer.key, "name": peer.name, "kept": 0, "error": ""}
        client = PeerClient(state.identity, peer, transport=state.transport_for(peer))
        try:
            told["kept"] = await client.answers(lines)
        except PeerError as error:
            told["error"] = error.message
        finally:
            await client.aclose()
        return told

    peers = [p for p in await list_peers(state.store) if p.dials]
    return list(await asyncio.gather(*(tell(p) for p in peers)))
