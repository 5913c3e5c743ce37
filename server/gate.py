"""Who is let through once a request's signature verified: the replay cache and the rate limits.

One ``Gate`` per server, whatever the number of processes answering its socket. With one process (the default)
it is ``LocalGate``: the replay cache and the limiters in memory, as they always were. With ``workers = N`` the
supervisor holds the one ``LocalGate`` and each worker asks it over a socket pair (``GateClient``, answered by
``GateServer``): a request replayed to another worker meets the same cache, and a client spreading its requests
over the workers draws from the same bucket, so it never gets N times its limit.

Why a socket to one process rather than a table in the database: a replay check is a write on every signed
request, which on SQLite would put a second write transaction (and the other worker's busy wait) in front of
every post; one in-memory set behind a socket pair costs a round trip of a few tens of microseconds, needs no
path (no socket file to secure), and loses nothing a restart matters for (entries live two signature windows:
a restart forgets them all, one process or several, as before).

The wire: one JSON array per line each way, answered in order on each connection (so no ids are needed):
``["admit", key, nonce, created, limiter]`` or ``["take", limiter, key]``, answered ``[0, seconds_to_wait]`` or
``[1, code, message]`` for a refusal.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Protocol, cast

import orjson

from murmur.errors import Refused
from murmur.httpsig import ReplayCache, replayed
from murmur.server.ratelimit import RateLimiter

MEMBER = "member"
PEER = "peer"

GONE = "This server is restarting; try again in a few seconds."


class Gate(Protocol):
    async def admit(self, key: str, nonce: str, created: int, limiter: str | None) -> float:
        """Record (key, nonce) or refuse it as a replay (``Refused``); then, given ``limiter``, take a token from
        ``key``'s bucket: 0 when allowed, else the seconds to wait."""
        ...

    async def take(self, limiter: str, key: str) -> float:
        """Take a token from ``key``'s bucket of ``limiter``: 0 when allowed, else the seconds to wait."""
        ...


class Guards(Protocol):
    """Where a process keeps its replay cache and limiters (a ``ServerState``), read at each request: a test may
    hand a server another limiter while it runs."""

    replay: ReplayCache
    limiter: RateLimiter | None
    peer_limiter: RateLimiter | None


class LocalGate:
    """The replay cache and the limiters of this process."""

    def __init__(self, guards: Guards) -> None:
        self.guards = guards

    def admit_now(self, key: str, nonce: str, created: int, limiter: str | None) -> float:
        if self.guards.replay.seen(key, nonce, created, int(time.time())):
            raise replayed()
        return self.take_now(limiter, key) if limiter is not None else 0.0

    def take_now(self, limiter: str, key: str) -> float:
        bucket = self.guards.limiter if limiter == MEMBER else self.guards.peer_limiter
        assert bucket is not None  # both are built with the state
        return bucket.check(key)

    async def admit(self, key: str, nonce: str, created: int, limiter: str | None) -> float:
        return self.admit_now(key, nonce, created, limiter)

    async def take(self, limiter: str, key: str) -> float:
        return self.take_now(limiter, key)

    def answer(self, line: bytes) -> bytes:
        """One request off the wire, answered (``GateServer``)."""
        try:
            op, *args = orjson.loads(line)
            if op == "admit":
                wait = self.admit_now(str(args[0]), str(args[1]), int(args[2]), args[3])
            else:
                wait = self.take_now(str(args[0]), str(args[1]))
        except Refused as refusal:
            return orjson.dumps([1, refusal.code, refusal.message]) + b"\n"
        return orjson.dumps([0, wait]) + b"\n"


class GateServer(asyncio.Protocol):
    """The supervisor's end of one worker's socket pair: every line is answered at once, in order."""

    def __init__(self, gate: LocalGate) -> None:
        self.gate = gate
        self._transport: asyncio.Transport | None = None
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports are no asyncio subclasses

    def data_received(self, data: bytes) -> None:
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        if lines and self._transport is not None:
            self._transport.write(b"".join(self.gate.answer(line) for line in lines))


class GateClient(asyncio.Protocol):
    """A worker's end: asks the supervisor's gate, many requests in flight at once on one socket pair."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[asyncio.Future[list[object]]] = deque()
        self._buffer = b""
        self._unsent: list[bytes] = []  # asked during this turn of the loop, written together at its end

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports are no asyncio subclasses

    def data_received(self, data: bytes) -> None:
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        for line in lines:
            future = self._waiting.popleft()
            if not future.done():  # its request was cancelled: the answer still comes, in its turn
                future.set_result(orjson.loads(line))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(Refused("storage_unavailable", GONE))

    async def _ask(self, request: list[object]) -> float:
        if self._transport is None:
            raise Refused("storage_unavailable", GONE)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[object]] = loop.create_future()
        self._waiting.append(future)
        if not self._unsent:
            loop.call_soon(self._send)
        self._unsent.append(orjson.dumps(request) + b"\n")
        answer = await future
        if answer[0]:
            raise Refused(str(answer[1]), str(answer[2]))
        return float(answer[1])  # type: ignore[arg-type]

    def _send(self) -> None:
        """One write for every request of a turn (under load, a turn answers many requests at once)."""
        unsent, self._unsent = self._unsent, []
        if self._transport is not None:
            self._transport.write(b"".join(unsent))

    async def admit(self, key: str, nonce: str, created: int, limiter: str | None) -> float:
        return await self._ask(["admit", key, nonce, created, limiter])

    async def take(self, limiter: str, key: str) -> float:
        return await self._ask(["take", limiter, key])
