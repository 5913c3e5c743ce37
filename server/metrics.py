"""What the server counts for Prometheus: messages stored and refused, request latency, and at each scrape the
live stream clients, the database's size and each peer's delivery state and lag.

prometheus_client, because it is the Prometheus project's own Python client: it writes the text exposition
format exactly (escaping of label values, histogram buckets, ``_created`` series) and is kept with it; writing
that format by hand would be a second, drifting copy of it.

One process, one registry. ``murmur serve`` runs a single server process; its helper processes only check
signatures (murmur.verifier) and decide nothing counted here, so in-process counters are complete for what
this server did, and need no multiprocess mode. Each ``Metrics`` has its own registry (never the library's
global one), so two servers in one process (tests) count apart. What other processes write to the same
database (``murmur import``, ``murmur sync``, a restore) is not in this process's counters; the gauges read at
each scrape from the database (messages held, its size, the peers' queues) include it.

Labels are bounded: a route's template, never its raw path; a refusal's code; an origin's kind (local, peer,
import), never a peer's key; per-peer series only for peers in the allowlist.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from murmur.store import Store
from murmur.store.ingest import IngestResult
from murmur.store.peers import PEER_STATES, list_peers, oldest_queued, peer_state, queued

# The text format every Prometheus reads (names here are all of the classic kind, so nothing is lost by it).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
# Seconds until a response starts: reads take milliseconds, a large push batch or a repair page up to seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _code(code: str | None) -> str:
    """A refusal code as a label: codes are the program's own words, but a label must never grow unbounded."""
    return code if code is not None and CODE.fullmatch(code) else "other"


def origin_kind(origin: str) -> str:
    """``local``, ``import`` or ``peer``: where a message came from, without naming which peer."""
    return _code(origin.split(":", 1)[0])


@dataclass(frozen=True)
class PeerReading:
    key: str
    name: str
    state: str
    dials: bool
    queued: int
    lag_s: float
    failures: int
    last_contact_s: float | None


@dataclass(frozen=True)
class Reading:
    """What a scrape reads from the database and the hub before it renders (all awaits done first, so the
    rendering itself is one step no other request interleaves with)."""

    messages_held: int
    database_bytes: int
    stream_clients: int
    peers: list[PeerReading]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.stored = Counter(
            "murmur_messages_stored",
            "Messages this server process stored, by where they came from.",
            ["origin"],
            registry=r,
        )
        self.duplicates = Counter(
            "murmur_messages_duplicate",
            "Messages received that this server already held, by where they came from: bodies sent for nothing.",
            ["origin"],
            registry=r,
        )
        self.refused = Counter(
            "murmur_messages_refused",
            "Messages refused by the validation path or the store's rules, by refusal code and origin.",
            ["reason", "origin"],
            registry=r,
        )
        self.requests_refused = Counter(
            "murmur_requests_refused",
            "Requests answered with a refusal before any message was looked at (signature, rate, size...), by code.",
            ["code"],
            registry=r,
        )
        self.latency = Histogram(
            "murmur_request_duration_seconds",
            "Time from a request's arrival to the start of its response, by route template.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.held = Gauge("murmur_messages_held", "Messages in the database (all writers).", registry=r)
        self.database_bytes = Gauge("murmur_database_bytes", "Size of the database, in bytes.", registry=r)
        self.stream_clients = Gauge("murmur_stream_clients", "Live stream (SSE) clients connected now.", registry=r)
        peer = ["peer", "name"]
        self.peer_state = Gauge(
            "murmur_peer_state",
            "1 for the peer's delivery state (new, ok, retrying, unreachable), 0 for the others.",
            [*peer, "state"],
            registry=r,
        )
        self.peer_queued = Gauge(
            "murmur_peer_queued_messages",
            "Messages waiting to be pushed to the peer (counted up to 100000).",
            peer,
            registry=r,
        )
        self.peer_lag = Gauge(
            "murmur_peer_delivery_lag_seconds",
            "How long the oldest message waiting for the peer has waited; 0 when none waits.",
            peer,
            registry=r,
        )
        self.peer_failures = Gauge(
            "murmur_peer_failures", "Failed attempts to reach the peer in a row.", peer, registry=r
        )
        self.peer_last_contact = Gauge(
            "murmur_peer_last_contact_timestamp_seconds", "When the peer last answered or reached us (Unix time).",
            peer, registry=r,
        )  # fmt: skip

    def settled(self, results: Sequence[IngestResult], origin: str) -> None:
        """murmur.store.outcomes' listener: one call per settled batch, whatever door it came in by."""
        where = origin_kind(origin)
        stored = sum(1 for r in results if r.status == "stored")
        if stored:
            self.stored.labels(where).inc(stored)
        if duplicate := sum(1 for r in results if r.status == "duplicate"):
            self.duplicates.labels(where).inc(duplicate)
        for r in results:
            if r.status == "refused":
                self.refused.labels(_code(r.code), where).inc()

    def request_refused(self, code: str) -> None:
        self.requests_refused.labels(_code(code)).inc()

    def render(self, reading: Reading) -> bytes:
        self.held.set(reading.messages_held)
        self.database_bytes.set(reading.database_bytes)
        self.stream_clients.set(reading.stream_clients)
        for gauge in (self.peer_state, self.peer_queued, self.peer_lag, self.peer_failures, self.peer_last_contact):
            gauge.clear()  # a removed peer's series go with it
        for p in reading.peers:
            for state in PEER_STATES:
                self.peer_state.labels(p.key, p.name, state).set(1 if state == p.state else 0)
            self.peer_failures.labels(p.key, p.name).set(p.failures)
            if p.last_contact_s is not None:
                self.peer_last_contact.labels(p.key, p.name).set(p.last_contact_s)
            if p.dials:  # a serve-only peer pulls from us: we keep no queue for it
                self.peer_queued.labels(p.key, p.name).set(p.queued)
                self.peer_lag.labels(p.key, p.name).set(p.lag_s)
        return generate_latest(self.registry)


async def read(store: Store, stream_clients: int) -> Reading:
    now_ms = int(time.time() * 1000)
    peers = []
    for p in await list_peers(store):
        oldest = await oldest_queued(store, p) if p.dials else None
        peers.append(
            PeerReading(
                key=p.key,
                name=p.name,
                state=peer_state(p, now_ms),
                dials=p.dials,
                queued=await queued(store, p) if p.dials else 0,
                lag_s=max(0, now_ms - oldest) / 1000 if oldest is not None else 0.0,
                failures=p.failures,
                last_contact_s=None if p.last_contact is None else p.last_contact / 1000,
            )
        )
    return Reading(await store.count(), await store.size_bytes(), stream_clients, peers)


def route_label(scope: Scope) -> str:
    """The template of the route that answered (``/api/v1/messages/{id}``), never the raw path; ``unmatched``
    for a path no route has, so a scanner's thousand paths are one series."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestTimer:
    """ASGI middleware: each HTTP request's time until its response starts, labelled by route template.

    Until the response starts, not until it ends: a live stream or a long poll stays open by design, and its
    length says nothing about how fast the server answered."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in METHODS else "other"

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = f"{int(message['status']) // 100}xx"
                self.metrics.latency.labels(route_label(scope), method, status).observe(time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed)
