"""Ids before bodies: what a peer lacks of what another offers it, and who was asked to send what.

In a mesh every server hears of each message from each of its peers; sending each of them the body would make
every server receive every message once per peer. So a sender offers ids first (``POST /fed/v1/offers``, and
``GET /fed/v1/log?ids=1`` for a pull) and sends only the bodies the receiver answers it lacks, as gossip
protocols' IHAVE/IWANT do. The receiver answers "lacking" for an id at most once at a time: once one peer was
told to send it, the same id offered by another peer is not wanted while that promise runs (``Wanted``), which
is until the body is written, not merely received: the push's ingest, or the pulled page's (``pull.Bodies``). A
sender that fails between its offer and its push offers again on its retry and is answered again, since the
promise is its own; a promise kept by nobody lapses after ``PROMISE_S``, and repair finds what was missed.

The ids travel as their 32 bytes each, back to back (``application/x-murmur-ids``): an id costs 32 bytes on
the wire, not the 66 of a JSON string of hex digits, which is what keeps the offers of a full mesh small.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from murmur.errors import Refused
from murmur.store.ingest import IngestResult
from murmur.store.peers import Peer
from murmur.store.repair import visible_ids

if TYPE_CHECKING:  # the state holds a Wanted: importing it here at run time would be a cycle
    from murmur.server.state import ServerState

MEDIA_TYPE = "application/x-murmur-ids"
ID_BYTES = 32
PROMISE_S = 30.0
MAX_PROMISES = 100_000  # past this, lapsed promises are dropped; a live one is never dropped early


def packed(ids: Iterable[bytes]) -> bytes:
    return b"".join(ids)


def unpacked(body: bytes, what: str) -> list[bytes]:
    """The ids of a body of 32-byte ids, or Refused (``bad_request``) naming ``what`` carried them."""
    if len(body) % ID_BYTES:
        raise Refused("bad_request", f"{what} is a run of {ID_BYTES}-byte ids; {len(body)} bytes is not.")
    return [body[at : at + ID_BYTES] for at in range(0, len(body), ID_BYTES)]


class Wanted:
    """Ids this server asked one peer to send, until that peer brings them or ``PROMISE_S`` passes.

    Kept in memory, per process: with ``workers = N`` (murmur.server.workers) a peer's offer answered by one worker
    and our pull of it in the supervisor keep their promises apart, as a promise lost with a restart does; either
    costs at most one body sent twice, which is stored once."""

    def __init__(self, promise_s: float = PROMISE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.promise_s = promise_s
        self.clock = clock
        self._by: dict[bytes, tuple[str, float]] = {}  # id -> (peer key, when the promise lapses)
        self._writing: dict[str, list[asyncio.Event]] = {}  # per peer and door, its pushes being written

    def claim(self, peer: str, ids: Sequence[bytes]) -> list[bytes]:
        """The ids of ``ids`` no one else was asked for (or whose promise lapsed), now asked of ``peer`` (a peer
        and the door it sends by: its retry is asked again, it or another peer by another door is not).

        No await in here: two offers answered at once cannot both be told to send the same id."""
        now = self.clock()
        if len(self._by) > MAX_PROMISES:
            self._by = {i: p for i, p in self._by.items() if p[1] > now}
        wanted = []
        for item in ids:
            held = self._by.get(item)
            if held is None or held[0] == peer or held[1] <= now:
                self._by[item] = (peer, now + self.promise_s)
                wanted.append(item)
        return wanted

    @contextmanager
    def writing(self, peer: str) -> Iterator[None]:
        """A push by ``peer`` (a peer and its door, as in ``claim``) is being written, until the block ends."""
        done = asyncio.Event()
        self._writing.setdefault(peer, []).append(done)
        try:
            yield
        finally:
            done.set()
            writes = self._writing[peer]
            writes.remove(done)
            if not writes:
                del self._writing[peer]

    async def landed(self, peer: str) -> None:
        """Until every push by ``peer`` being written now is written. A sender that gave up waiting for its push
        (a timeout) offers again on its retry while that push may still be on its way to our log: it is answered
        once the push is written, by what it stored, not asked for the same bodies a second time."""
        for done in list(self._writing.get(peer, ())):
            await done.wait()

    def settle(self, ids: Iterable[bytes]) -> None:
        """These ids came and were written (stored, duplicate or refused), or will not come: no one is waited for
        any more."""
        for item in ids:
            self._by.pop(item, None)

    def __len__(self) -> int:
        return len(self._by)


class Heard:
    """The ids each peer told us it holds (it offered them, or listed them to our pull), the latest ``keep`` per
    peer: we never offer a peer what it told us it has, so on a link between two servers that both hold a
    message, its id crosses once, not once each way."""

    def __init__(self, keep: int = 10_000) -> None:
        self.keep = keep
        self._by: dict[str, dict[bytes, None]] = {}  # per peer, in the order heard (a dict keeps it)

    def heard(self, peer: str, ids: Iterable[bytes]) -> None:
        held = self._by.setdefault(peer, {})
        for item in ids:
            held.pop(item, None)
            held[item] = None
        while len(held) > self.keep:
            del held[next(iter(held))]

    def holds(self, peer: str, item: bytes) -> bool:
        return item in self._by.get(peer, {})

    def forget(self, peer: str) -> None:
        self._by.pop(peer, None)


async def lacking(state: ServerState, peer: Peer, ids: Sequence[bytes], door: str) -> list[bytes]:
    """The ids among ``ids`` (which ``peer`` holds) that it should send by ``door`` (``offer``: its push;
    ``pull``: our fetch): not held here as that peer may see them (the audience rule), and not already asked of
    another peer, nor of this one by the other door (its push and our pull of it run side by side). Asked once
    what that peer is still pushing by that door is written (``Wanted.landed``)."""
    state.heard.heard(peer.key, ids)
    await state.wanted.landed(f"{door}:{peer.key}")
    held = await visible_ids(state.store, list(dict.fromkeys(ids)), peer.key)
    return state.wanted.claim(f"{door}:{peer.key}", [item for item in dict.fromkeys(ids) if item not in held])


def pushing(state: ServerState, peer: Peer) -> AbstractContextManager[None]:
    """Around the writing of a push by ``peer``: its next offer waits for it (``lacking``)."""
    return state.wanted.writing(f"offer:{peer.key}")


def settle(state: ServerState, results: Iterable[IngestResult]) -> None:
    """The messages of a batch came, whatever became of them: the promises about them are kept."""
    state.wanted.settle(bytes.fromhex(r.id) for r in results if r.id is not None)
