"""Repair with one peer: reconcile the two repair sets, fetch what we lack, push what the peer lacks.

Push and pull move what each side's log says should move; repair finds whatever was missed anyway (a dropped
queue, rows lost, a backup restored, a peer gone for weeks) at a cost that grows with the difference. What
comes in goes through ``Store.ingest`` with the peer's origin and policy like any pulled message, so a
message held twice is a no-op and a repair cut short can simply run again.

A thread whose replies never arrived needs nothing of its own: its replies are public messages in the repair
set, so a repair (which covers everything) fetches them. Restricting a repair to one thread would save
little, since finding a single difference among 100,000 messages already takes three round trips.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Protocol

from murmur.errors import PeerError, Refused
from murmur.progress import Progress, nothing
from murmur.server.federation.answers import heard, taken
from murmur.server.federation.peer_client import PeerClient
from murmur.server.state import ServerState
from murmur.store import receipts
from murmur.store.ingest import IngestResult
from murmur.store.peers import Peer, from_peer
from murmur.sync.index import index_for, visible_raws
from murmur.sync.reconcile import DEFAULT, Params, Session

log = logging.getLogger("murmur.federation")

FETCH_BATCH = 500
PUSH_BATCH = 200
MAX_ROUNDS = 64  # far past what any set needs (3 or 4 at 100,000 items); stops a peer that never ends


class Counts(Protocol):
    """What repair fills in: the federator's ``SyncReport`` (a protocol, so this module does not import it)."""

    fetched: int
    stored: int
    duplicate: int
    deleted: int
    refused: int
    sent: int
    sent_refused: int
    round_trips: int
    bytes_in: int
    bytes_out: int
    have: int
    need: int
    reconcile_round_trips: int
    reconcile_bytes_in: int
    reconcile_bytes_out: int


def count(report: Counts, results: Sequence[IngestResult]) -> None:
    """Add each result to the report's count of its status (stored, duplicate, deleted, refused)."""
    for r in results:
        setattr(report, r.status, getattr(report, r.status) + 1)


def _chunks(items: Sequence[bytes], size: int) -> Iterator[Sequence[bytes]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def take_fetched(state: ServerState, client: PeerClient, lines: Sequence[bytes]) -> list[IngestResult]:
    """Store what a peer sent back to a fetch, as anything it brings: its origin, its policy, the one validation
    path; what it sent beyond an audience is recorded against it, and it gets our signed answers."""
    peer = client.peer
    results = await state.store.ingest(lines, origin=peer.origin, policy=from_peer(peer))
    await taken(state, client, results)
    return results


async def reconcile_with(client: PeerClient, session: Session, report: Counts) -> None:
    """Exchange reconciliation messages until the session has nothing more to ask."""
    message = session.initiate()
    rounds = 0
    while message is not None:
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise PeerError(f"{client.peer.url} did not finish reconciling in {MAX_ROUNDS} round trips")
        answer = await client.reconcile(message)
        report.reconcile_round_trips += 1
        report.reconcile_bytes_out += len(message)
        report.reconcile_bytes_in += len(answer)
        try:
            message = session.receive(answer)
        except Refused as refusal:
            raise PeerError(f"{client.peer.url} answered reconciliation wrongly: {refusal.message}") from refusal


async def repair(
    state: ServerState,
    peer: Peer,
    client: PeerClient,
    report: Counts,
    params: Params = DEFAULT,
    progress: Progress = nothing,
) -> None:
    """One full repair with ``peer``; raises PeerError if the peer cannot be reached or misbehaves. ``progress``
    counts the messages fetched and sent, out of the difference the reconciliation found."""
    session = Session(await index_for(state.store, peer).current(), params)
    await reconcile_with(client, session, report)
    have, need = session.result()
    report.have += len(have)
    report.need += len(need)
    report.round_trips += report.reconcile_round_trips
    report.bytes_out += report.reconcile_bytes_out
    report.bytes_in += report.reconcile_bytes_in
    done, total = 0, len(need) + len(have)
    progress(done, total)
    for batch in _chunks(need, FETCH_BATCH):
        lines, size = await client.fetch([item_id.hex() for item_id in batch])
        results = await take_fetched(state, client, lines)
        report.fetched += len(lines)
        report.round_trips += 1
        report.bytes_in += size
        count(report, results)
        done += len(batch)
        progress(done, total)
    for batch in _chunks(have, PUSH_BATCH):
        raws = await visible_raws(state.store, batch, peer.key)  # still held, still for peers, in log order
        done += len(batch)
        if not raws:
            progress(done, total)
            continue
        results = await client.push(raws)
        await heard(state, peer.key, receipts.sent_ids(raws), results)
        refused = [r for r in results if r["status"] == "refused"]
        for r in refused:
            log.warning("peer %s refused %s on repair: %s", peer.name or peer.key[:8], r.get("id"), r.get("code"))
        report.sent += len(raws) - len(refused)
        report.sent_refused += len(refused)
        report.round_trips += 1
        report.bytes_out += sum(len(raw) + 1 for raw in raws)
        progress(done, total)
