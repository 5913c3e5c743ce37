"""The federator: for every peer this server dials, a push loop and a pull loop, supervised.

- Push: offers the ids of what the peer should have after its push cursor, then sends the bodies it asked for
  (push_offers.py: in a mesh each server then receives each body once, not once per peer, and what we only
  relay waits for a peer that hears it from others), in batches, as soon as the hub says something was stored
  (or every few seconds, for writes by other processes), after ``linger`` so that a burst of posts goes as one
  batch. The cursor moves only after the peer answered, so nothing acknowledged is sent twice and nothing
  unacknowledged is forgotten. What the cursor passed that the audience rule kept from the peer for now goes,
  offered first, as soon as the rule lets it (``murmur.store.passed``): before each page of the log.
- Pull: reads the peer's log after our pull cursor and stores what we lack through the one validation path.
  ``push-pull`` peers are pulled at start and then every ``pull_interval`` to catch up on anything missed,
  ids first (what their pushes brought is not fetched again); ``pull-only`` peers (we can dial them, they
  cannot dial us) are long-polled for the messages themselves, so their posts arrive at once.
- Faults: a failed attempt is retried with exponential backoff and jitter (honouring Retry-After); one slow or
  dead peer has its own loops and never holds up the others. A peer failing for longer than ALERT_AFTER_MS
  shows as ``unreachable`` in ``murmur peer list`` and is still retried at the longest interval.
- Repair: every ``repair_interval`` (config ``repair_interval_seconds``), and ``repair_delay`` after a failing
  peer answers again, a third loop reconciles the two sets of public messages and exchanges the difference (repair.py).
- The supervisor re-reads the allowlist every few seconds, so ``murmur peer add/remove`` takes effect on a
  running server without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial

from murmur.errors import PeerError, StoreError
from murmur.progress import Progress, nothing
from murmur.server.federation.answers import heard
from murmur.server.federation.peer_client import PeerClient
from murmur.server.federation.pull import bodies_lacking, catch_up
from murmur.server.federation.push_offers import PushOffers
from murmur.server.federation.repair import repair as run_repair
from murmur.server.federation.watch import Watched, backoff_delay
from murmur.server.state import ServerState, TransportFor
from murmur.store import receipts
from murmur.store.peers import (
    Outbound,
    Peer,
    forget_released,
    get_peer,
    list_peers,
    outbound,
    record_failure,
    record_success,
    released,
    set_push_cursor,
)

log = logging.getLogger("murmur.federation")

PUSH_BATCH = 200
LONG_POLL_S = 25
MIN_REPAIR_GAP_S = 60.0
PUSH_LINGER_S = 0.1  # what a burst of posts adds to one batch, against what it adds to each hop's delay

@dataclass
class SyncReport:
    """What one sync with one peer did; ``murmur sync`` prints it."""

    peer: str
    name: str
    fetched: int = 0
    stored: int = 0
    duplicate: int = 0
    deleted: int = 0
    refused: int = 0
    sent: int = 0
    sent_refused: int = 0
    round_trips: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    error: str = ""
    # Repair (``murmur sync --repair`` and the scheduled repair): ids only we held / only the peer held, and
    # what the reconciliation itself cost (already counted in round_trips and bytes above as well).
    repaired: bool = False
    have: int = 0
    need: int = 0
    reconcile_round_trips: int = 0
    reconcile_bytes_in: int = 0
    reconcile_bytes_out: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _log_ending(task: asyncio.Task[None]) -> None:
    """Done-callback of every peer loop: a loop that ends other than by cancellation says how."""
    if not task.cancelled() and task.exception() is not None:
        error = task.exception()
        log.error("%s ended: %s: %s", task.get_name(), type(error).__name__, error, exc_info=error)


class Federator:
    def __init__(
        self,
        state: ServerState,
        *,
        transport_for: TransportFor | None = None,
        pull_interval: float = 60.0,
        peers_poll: float = 2.0,
        idle_poll: float = 5.0,
        backoff_base: float = 1.0,
        backoff_max: float = 300.0,
        repair_interval: float | None = None,
        repair_delay: float = 30.0,
        linger: float = PUSH_LINGER_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.state = state
        # Every wait between attempts goes through here, so a test can see each backoff without sleeping.
        self.sleep = sleep
        self.transport_for = transport_for or state.transport_for
        self.pull_interval = pull_interval
        self.peers_poll = peers_poll
        self.idle_poll = idle_poll
        self.linger = linger
        self.offers = PushOffers(state)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.repair_interval = (
            float(state.config.repair_interval_seconds) if repair_interval is None else repair_interval
        )
        self._running: dict[str, tuple[tuple[str, str, str], list[asyncio.Task[None]]]] = {}
        # After a peer comes back, push and pull drain the backlog first; a repair started at once would find
        # that whole backlog as "difference" and fetch it a second time.
        self.repair_delay = repair_delay
        self._repair_wake: dict[str, asyncio.Event] = {}
        self._last_repair: dict[str, float] = {}
        self._ended: dict[str, int] = {}
        self._failing: dict[tuple[str, str], int] = {}  # failures in a row, per (peer key, loop)
        self._restart_at: dict[str, float] = {}
        self.watched: Watched | None = None

    # -- supervision -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Run the supervisor as a watched task: should it ever end, it is logged and restarted with backoff."""
        if self.watched is None:
            self.watched = Watched(
                "federation supervisor", self.run, backoff_base=self.backoff_base, backoff_max=self.backoff_max
            )
        self.watched.start()

    async def close(self) -> None:
        """Stop the watched supervisor (``start``) and every peer loop."""
        if self.watched is not None:
            await self.watched.close()
        await self.stop()

    async def run(self) -> None:
        """Keep one push and one pull loop per dialed peer, until cancelled."""
        failures = 0
        try:
            while True:
                try:
                    await self.reconcile()
                except Exception as error:  # logged, counted and retried: never a silent stop
                    failures += 1
                    self._log_unexpected(
                        error, "federation supervisor: reading the peers failed (%d in a row)", failures
                    )
                    await self.sleep(backoff_delay(failures, self.backoff_base, self.backoff_max))
                    continue
                failures = 0
                await self.sleep(self.peers_poll)
        finally:
            await self.stop()

    async def reconcile(self) -> None:
        peers = {p.key: p for p in await list_peers(self.state.store) if p.dials}
        now = time.monotonic()
        for key in list(self._running):
            signature, tasks = self._running[key]
            peer = peers.get(key)
            ended = any(t.done() for t in tasks)
            if peer is None or (peer.url, peer.mode, peer.proxy) != signature or ended:
                await self._cancel(key)
            if ended and peer is not None:  # the loops catch everything, so this is a bug: restart, but not at once
                self._ended[key] = self._ended.get(key, 0) + 1
                self._restart_at[key] = now + backoff_delay(self._ended[key], self.backoff_base, self.backoff_max)
        for key, peer in peers.items():
            if key not in self._running and self._restart_at.get(key, 0.0) <= now:
                label = peer.name or key[:8]
                tasks = [
                    asyncio.create_task(self._loop(key, "push", self._push_step), name=f"push {label}"),
                    asyncio.create_task(self._loop(key, "pull", self._pull_step), name=f"pull {label}"),
                ]
                if self.repair_interval > 0:
                    tasks.append(asyncio.create_task(self._repair_loop(key), name=f"repair {label}"))
                for task in tasks:
                    task.add_done_callback(_log_ending)
                self._running[key] = ((peer.url, peer.mode, peer.proxy), tasks)

    async def _cancel(self, key: str) -> None:
        _, tasks = self._running.pop(key)
        for loop in ("push", "pull"):
            self._failing.pop((key, loop), None)
        for task in tasks:
            task.cancel()
        # How each loop ended was logged by its done-callback; here they only need to be gone.
        await asyncio.wait(tasks)

    async def stop(self) -> None:
        for key in list(self._running):
            await self._cancel(key)

    def client(self, peer: Peer) -> PeerClient:
        return PeerClient(self.state.identity, peer, transport=self.transport_for(peer))

    @staticmethod
    def _log_unexpected(error: Exception, text: str, *args: object) -> None:
        """Our own storage failing is worth one line; anything else unforeseen is worth its traceback too."""
        if isinstance(error, StoreError):
            log.warning(text + ": %s", *args, error.message)
        else:
            log.error(text + ": %s: %s", *args, type(error).__name__, error, exc_info=error)

    # -- the loops -------------------------------------------------------------------------------------------
    async def _loop(self, key: str, name: str, step: Callable[[Peer, PeerClient], Awaitable[None]]) -> None:
        """Run ``step`` for one peer forever. Whatever fails is logged, counted against the peer (``murmur peer
        list`` shows it) and retried with backoff; only cancellation ends the loop, or the peer's removal."""
        client: PeerClient | None = None
        try:
            while True:
                try:
                    peer = await get_peer(self.state.store, key)
                    if peer is None:
                        return
                    client = client or self.client(peer)
                    await step(peer, client)
                except PeerError as error:
                    await self._failed(key, name, error.message, error.retry_after)
                except Exception as error:  # a bug or our own storage: logged, counted, retried
                    self._log_unexpected(error, "peer %s: %s loop failed", key[:8], name)
                    what = error.message if isinstance(error, StoreError) else f"{type(error).__name__}: {error}"
                    await self._failed(key, name, f"{name} failed on this server: {what}", None)
                else:
                    if peer.failures:  # the peer is back: find whatever was missed while it was away
                        self._repair_wake.setdefault(key, asyncio.Event()).set()
        finally:
            if client is not None:
                await client.aclose()

    async def _push_step(self, peer: Peer, client: PeerClient) -> None:
        hub = self.state.hub
        seen = (hub.last_seq, hub.confirmations)
        more = await self.push_once(peer, client)
        due = self.offers.relay_due(peer.key)
        if due is not None and not more:  # relayed messages held back: until then, only our own posts go
            await hub.wait(max(0.0, due - time.monotonic()))
            return
        if more:
            return
        # What was stored while this push was on its way woke no one: it is sent next, after the linger.
        stored = (hub.last_seq, hub.confirmations) != seen or await hub.wait(self.idle_poll)
        if stored and self.linger > 0:
            await asyncio.sleep(self.linger)  # let the rest of a burst join this batch

    async def _pull_step(self, peer: Peer, client: PeerClient) -> None:
        long_poll = peer.mode == "pull-only"
        more = await self.pull_once(peer, client, wait=LONG_POLL_S if long_poll else 0)
        if not more and not long_poll:
            await asyncio.sleep(self.pull_interval)

    async def _answered(self, key: str, loop: str, passed_over: Sequence[bytes] = (), **cursors: int) -> None:
        """The peer answered ``loop`` well: move its cursor (and maybe clear its failure state: ``_recovered``),
        keeping what it passed that the audience rule keeps from the peer for now."""
        await record_success(
            self.state.store, key, clear_failures=self._recovered(key, loop), passed_over=passed_over, **cursors
        )

    def _recovered(self, key: str, loop: str) -> bool:
        """``loop`` is no longer failing; whether the peer's failure state may be cleared: only if no other
        exchange with it is failing (a peer that answers pulls but garbles pushes must not look healthy)."""
        self._failing.pop((key, loop), None)
        return not any(count for (other, _), count in self._failing.items() if other == key)

    async def _failed(self, key: str, loop: str, message: str, retry_after: float | None) -> None:
        """Count a failure against the peer, log it, and wait out the backoff before the next attempt.

        The backoff follows this loop's own failures in a row: the peer's count (what ``murmur peer list``
        shows) adds up every loop's failures, and a success of another loop must not shorten this one's wait."""
        failures = self._failing[(key, loop)] = self._failing.get((key, loop), 0) + 1
        try:
            await record_failure(self.state.store, key, message)
        except StoreError as error:  # cannot even count it: still log it and still back off
            log.warning("peer %s: cannot record a failure: %s", key[:8], error.message)
        delay = backoff_delay(failures, self.backoff_base, self.backoff_max)
        if retry_after is not None:
            delay = max(delay, min(retry_after, 3600.0))
        log.warning(
            "peer %s: %s: %s; retry %d in %.1f s", key[:8], loop, message, failures, delay,
            extra={"peer": key, "loop": loop, "error": message, "failures": failures, "retry_in_s": round(delay, 1)},
        )  # fmt: skip
        await self.sleep(delay)

    # -- one round trip each ---------------------------------------------------------------------------------
    async def push_once(self, peer: Peer, client: PeerClient, report: SyncReport | None = None) -> bool:
        """Send the next batch the peer lacks: first what the audience rule now lets go that the cursor passed,
        then the log after the cursor; returns whether more is waiting."""
        late = await released(self.state.store, peer, PUSH_BATCH)
        if late.entries:
            await self._send(peer, client, late, report)
            await forget_released(self.state.store, peer, late.ids)
            await self._answered(peer.key, "push")
            return True  # the log after the cursor is next
        page = await outbound(
            self.state.store, after=peer.push_cursor, limit=PUSH_BATCH, exclude_origin=peer.origin, to=peer.key
        )
        if self.offers.holds_back(peer, page):
            return False  # only relayed messages, for a peer that hears them from others: they wait (_push_step)
        if page.entries:
            await self._send(peer, client, page, report)
            await self._answered(peer.key, "push", page.passed, push_cursor=page.next_cursor)
        elif page.next_cursor > peer.push_cursor:
            await set_push_cursor(self.state.store, peer.key, page.next_cursor, page.passed)
        return page.more

    async def _send(self, peer: Peer, client: PeerClient, page: Outbound, report: SyncReport | None) -> None:
        """Offer ``page`` to the peer and push the bodies it asks for; keep its signed answers."""
        raws = await self.offers.wanted(peer, client, page, report)
        results = await client.push(raws) if raws else []
        await heard(self.state, peer.key, receipts.sent_ids(raws), results)
        refused = [r for r in results if r["status"] == "refused"]
        for r in refused:  # permanently refused by the peer: retrying cannot help, so it is given up
            log.warning(
                "peer %s refused %s: %s", peer.name or peer.key[:8], r.get("id"), r.get("code"),
                extra={"peer": peer.key, "message_id": r.get("id"), "code": r.get("code")},
            )  # fmt: skip
        if report is not None and raws:
            report.sent += len(raws) - len(refused)
            report.sent_refused += len(refused)
            report.round_trips += 1
            report.bytes_out += sum(len(r) + 1 for r in raws)

    async def pull_once(
        self, peer: Peer, client: PeerClient, *, wait: int = 0, report: SyncReport | None = None
    ) -> bool:
        """Store what the peer's log holds after our pull cursor, until the peer says nothing more is waiting
        (``pull.catch_up``: the next page is fetched while the last one is checked and written). A push-pull peer
        pushes what it gets: its log is read for ids, and only what we lack is fetched (``pull.bodies_lacking``).
        Returns whether more is waiting, which it never is once it returns: the loops that called it page by page
        end."""
        recovered = partial(self._recovered, peer.key, "pull")
        await catch_up(
            self.state, peer, client, partial(bodies_lacking, self.state, peer, client),
            wait=wait, ids=peer.mode == "push-pull", clear_failures=recovered, report=report,
        )  # fmt: skip
        return False

    async def sync(
        self, peer: Peer, *, pull: bool = True, push: bool = True, repair: bool = False, progress: Progress = nothing
    ) -> SyncReport:
        """Pull until caught up, then push until caught up (then repair, if asked): what ``murmur sync`` runs."""
        report = SyncReport(peer.key, peer.name, repaired=repair)
        client = self.client(peer)
        try:
            while pull:
                current = await get_peer(self.state.store, peer.key)
                if current is None or not await self.pull_once(current, client, report=report):
                    break
            while push:
                current = await get_peer(self.state.store, peer.key)
                if current is None or not await self.push_once(current, client, report=report):
                    break
            if repair:
                await run_repair(self.state, peer, client, report, progress=progress)
        except PeerError as error:
            report.error = error.message
            await record_failure(self.state.store, peer.key, error.message)
        finally:
            await client.aclose()
        return report

    # -- repair ----------------------------------------------------------------------------------------------
    async def repair(self, peer: Peer, client: PeerClient | None = None) -> SyncReport:
        """Reconcile with the peer and exchange the difference. A failure is reported, not recorded against
        the peer: the push and pull loops track whether it is reachable, and a peer that cannot repair (an
        older murmur) must not look down."""
        report = SyncReport(peer.key, peer.name, repaired=True)
        own = client is None
        active = client or self.client(peer)
        try:
            await run_repair(self.state, peer, active, report)
        except PeerError as error:
            report.error = error.message
        finally:
            if own:
                await active.aclose()
        self._last_repair[peer.key] = time.monotonic()
        return report

    async def _repair_loop(self, key: str) -> None:
        """Repair every ``repair_interval`` (with jitter), and ``repair_delay`` after the peer comes back."""
        wake = self._repair_wake.setdefault(key, asyncio.Event())
        while True:
            try:
                await asyncio.wait_for(wake.wait(), self.repair_interval * random.uniform(0.9, 1.1))
            except TimeoutError:
                pass
            else:
                await asyncio.sleep(self.repair_delay)
            wake.clear()
            since = time.monotonic() - self._last_repair.get(key, float("-inf"))
            if since < MIN_REPAIR_GAP_S:  # a peer flapping up and down gets one repair a minute at most
                await asyncio.sleep(MIN_REPAIR_GAP_S - since)
            try:
                peer = await get_peer(self.state.store, key)
                if peer is None:
                    return
                report = await self.repair(peer)
            except Exception as error:  # logged; the next repair is the retry
                self._log_unexpected(error, "peer %s: repair failed", key[:8])
                self._last_repair[key] = time.monotonic()
                continue
            label = peer.name or key[:8]
            if report.error:
                log.warning("peer %s: repair failed: %s", label, report.error)
            elif report.have or report.need:
                log.info(
                    "peer %s: repair fetched %d (stored %d), sent %d in %d round trips",
                    label, report.fetched, report.stored, report.sent, report.round_trips,
                )  # fmt: skip
