"""Everything a running server holds, built once by the factory and handed to routes through app.state."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from murmur.httpsig import ReplayCache
from murmur.keys import Identity
from murmur.server.config import ServerConfig
from murmur.server.fanout import Fanout
from murmur.server.federation.offers import Heard, Wanted
from murmur.server.gate import Gate, LocalGate
from murmur.server.hub import Hub
from murmur.server.metrics import Metrics
from murmur.server.ratelimit import RateLimiter
from murmur.store import Store
from murmur.store.outcomes import listen
from murmur.store.peers import Peer

TransportFor = Callable[[Peer], httpx.AsyncBaseTransport | None]
"""How this server reaches a peer: None for the network (tests hand in ASGI transports of servers in-process)."""


def over_the_network(peer: Peer) -> httpx.AsyncBaseTransport | None:
    return None

SIGNATURE_WINDOW_S = 60


@dataclass
class ServerState:
    config: ServerConfig
    identity: Identity
    store: Store
    hub: Hub = field(default_factory=Hub)
    replay: ReplayCache = field(default_factory=lambda: ReplayCache(window_s=2 * SIGNATURE_WINDOW_S))
    limiter: RateLimiter | None = None
    peer_limiter: RateLimiter | None = None
    started_at: float = field(default_factory=time.time)
    metrics: Metrics | None = None
    """Built when config.toml turns metrics on; hears every settled ingest on this store from then on."""
    fanout: Fanout = field(init=False)
    """The one reader behind every live stream (murmur.server.fanout)."""
    transport_for: TransportFor = over_the_network
    """What the federator and the routes that ask peers (a member's repair of gaps) dial peers through."""
    wanted: Wanted = field(default_factory=Wanted)
    """The ids this server asked one peer to send (murmur.server.federation.offers), so no other sends them too."""
    heard: Heard = field(default_factory=Heard)
    """The ids each peer told this server it holds, never offered back to it (murmur.server.federation.offers)."""
    gate: Gate | None = None
    """The replay cache and rate limits every signed request passes (murmur.server.gate): this process's own
    (``replay``, ``limiter``, ``peer_limiter``) unless a worker is handed the supervisor's."""
    worker: int = 0
    """Which of ``workers`` processes this is (1..N, shown by /health); 0 when the server runs as one process."""

    def __post_init__(self) -> None:
        self.fanout = Fanout(self.store, self.hub)
        if self.limiter is None:
            self.limiter = RateLimiter(self.config.rate_per_minute)
        if self.peer_limiter is None:
            self.peer_limiter = RateLimiter(self.config.peer_rate_per_minute)
        if self.gate is None:
            self.gate = LocalGate(self)
        if self.metrics is None and self.config.metrics:
            self.metrics = Metrics()
            listen(self.store.writer, self.metrics.settled)
