"""Ask peers for a device's public messages this server lacks: the gaps its counters show (murmur.store.gaps),
and for messages it knows only by id (a thread's parent or root it never received).

A member asks (``POST /api/v1/repairs``, ``murmur repair``). Every peer this server dials is asked at once for
the missing counters through ``POST /fed/v1/fetch``, which answers through the audience rule like any fetch;
what comes back is stored as any fetched message is (``repair.take_fetched``: the peer's origin and policy, the
one validation path), so a message sent twice, or by two peers, is a no-op. One request asks each peer for at
most ``FETCH_BATCH`` messages, the lowest missing first: a device claiming a counter in the billions costs no
more than that, and asking again continues.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from murmur.deadlines import REPAIR_S
from murmur.errors import PeerError
from murmur.server.federation.peer_client import PeerClient
from murmur.server.federation.repair import FETCH_BATCH, take_fetched
from murmur.server.state import ServerState
from murmur.store.gaps import Gap, gaps
from murmur.store.peers import Peer, list_peers

MAX_IDS = 100  # message ids one repair asks for, besides FETCH_BATCH counters: a peer answers 1000 at most


@dataclass
class Asked:
    """What one peer sent back: ``error`` when it could not be asked."""

    key: str
    name: str
    fetched: int = 0
    stored: int = 0
    refused: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wanted(found: Sequence[Gap], limit: int = FETCH_BATCH) -> list[dict[str, Any]]:
    """The counted ranges of a fetch body for ``found``, lowest first, at most ``limit`` messages in all."""
    out: list[dict[str, Any]] = []
    left = limit
    for gap in found:
        for low, high in gap.to_repair():  # not what a moderator here removed
            if left <= 0:
                return out
            high = min(high, low + left - 1)
            out.append({"device": gap.device, "from": low, "to": high})
            left -= high - low + 1
    return out


async def _ask(state: ServerState, peer: Peer, ids: list[str], ranges: list[dict[str, Any]]) -> Asked:
    asked = Asked(peer.key, peer.name)
    client = PeerClient(state.identity, peer, transport=state.transport_for(peer))
    try:
        # The member waits at a terminal for every peer's part: a peer still answering when REPAIR_S is up is
        # left for the next repair, which the client waits for (murmur.deadlines), rather than for ever.
        try:
            async with asyncio.timeout(REPAIR_S):
                lines, _ = await client.fetch(ids, ranges)
        except TimeoutError as exc:
            raise PeerError(
                f"{peer.url} was still answering after {REPAIR_S:g} s, so it was given up on for this repair; ask"
                " again later, or check its network if it stays slow"
            ) from exc
        results = await take_fetched(state, client, lines)
    except PeerError as error:
        asked.error = error.message
        return asked
    finally:
        await client.aclose()
    asked.fetched = len(lines)
    asked.stored = sum(r.status == "stored" for r in results)
    asked.refused = sum(r.status == "refused" for r in results)
    return asked


async def refill(state: ServerState, devices: Sequence[str], ids: Sequence[str] = ()) -> list[Asked]:
    """Ask every peer this server dials for what ``devices`` (device keys) are missing here, and for the messages
    ``ids`` (at most ``MAX_IDS``) it does not hold; what each did."""
    ranges = wanted(await gaps(state.store, devices))
    absent = [i for i in dict.fromkeys(ids) if await state.store.get_raw(i) is None][:MAX_IDS]
    peers = [p for p in await list_peers(state.store) if p.dials]
    if not (ranges or absent) or not peers:
        return []
    # Every peer's ask runs to its end; then our own failure (the store, say), if any, is raised as itself for
    # the route to answer, rather than as an ExceptionGroup.
    done = await asyncio.gather(*(_ask(state, peer, absent, ranges) for peer in peers), return_exceptions=True)
    for outcome in done:
        if isinstance(outcome, BaseException):
            raise outcome
    return [a for a in done if isinstance(a, Asked)]
