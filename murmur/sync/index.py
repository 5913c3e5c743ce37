"""The store's repair set: the ``(created_at, id)`` of every message a peer may see, kept sorted in memory.

What a peer may see is the one audience rule (``murmur.store.audience.for_peers``) that push and pull ask too,
so repair can never tell a peer that a local post, or anything about one, exists, nor a post of a scope the
peer does not carry: each peer has its own set, since what it may see depends on its labels. Every query is the store's
(``murmur.store.repair``); this module keeps the set and decides when to read what.

Reconciling 100,000 messages touches every id in its first round (the first fingerprints cover everything),
so reading them from SQLite on each request would cost a full scan per round. Instead the set is read once
and then follows the append-only log: each use asks SQLite's ``data_version`` whether anything was committed
since; if so, rows past the last seq are merged in (new messages are recent, so prefix sums are recomputed only
over the tail). A removal (a delete, a row dropped by hand, a restored backup) is seen as fewer rows at or
below the last seq than were counted, and rebuilds the set from scratch. So does a message already in the set
that the audience rule confines later (a local post arriving after replies or reactions to it): new rows of the
``confined`` table that name a message at or below the last seq. And a message the rule kept from the peer for
now (``murmur.store.audience.kept_back``: it waits for what it leans on) is asked again on every change, for
what decides it changes in place (a peer's signed confirmation updates a receipt): those the rule now lets go
join the set, and one newly kept back (once in the set) rebuilds it.
"""

from __future__ import annotations

import asyncio
import weakref

from murmur.store import Store
from murmur.store import repair as reads
from murmur.store.peers import Peer
from murmur.store.repair import visible_raws
from murmur.sync.ranges import ItemSet

__all__ = ["RepairIndex", "index_for", "visible_raws"]


class RepairIndex:
    """The repair set of one store; ``await index.current()`` returns it up to date (an immutable ItemSet)."""

    def __init__(self, store: Store, peer: str | None = None, labels: frozenset[str] = frozenset()) -> None:
        self.store = store
        self.peer = peer  # whose view: the audience rule depends on the peer's labels
        self.labels = labels
        self._items = ItemSet()
        self._max_seq = 0
        self._rows = 0  # rows (of any visibility) with seq <= _max_seq when last read
        self._confined = (0, 0)  # the last rowids of the confined and scoped tables when last read
        self._kept: set[bytes] = set()  # what the rule kept from the peer for now, at or below _max_seq
        self._version: int | None = None
        self._lock = asyncio.Lock()
        self.rebuilds = 0
        self.merges = 0

    async def current(self) -> ItemSet:
        async with self._lock:
            version = await reads.data_version(self.store)
            if version == self._version:
                return self._items
            if self._version is None or not await self._merge():
                await self._rebuild()
            self._version = version
            return self._items

    async def _rebuild(self) -> None:
        max_seq = await reads.last_held_seq(self.store)
        self._confined = await reads.last_confined(self.store)
        self._kept = await reads.kept_back_through(self.store, max_seq, self.peer)
        self._items = ItemSet(await reads.visible_between(self.store, 0, max_seq, self.peer))
        self._max_seq = max_seq
        self._rows = await reads.rows_between(self.store, 0, max_seq)
        self.rebuilds += 1

    async def _merge(self) -> bool:
        """Merge rows appended since the last read, and what the rule let go since; False when something was
        removed, confined or kept back (rebuild)."""
        if await reads.rows_between(self.store, 0, self._max_seq) != self._rows:
            return False
        confined = await reads.last_confined(self.store)
        if await reads.confined_since(self.store, self._confined, self._max_seq):
            return False
        kept = await reads.kept_back_through(self.store, self._max_seq, self.peer)
        if kept - self._kept:
            return False
        let_go = await reads.visible_items(self.store, sorted(self._kept - kept), self.peer)
        self._confined, self._kept = confined, kept
        max_seq = await reads.last_held_seq(self.store)
        if max_seq == self._max_seq and not let_go:
            return True
        added = await reads.visible_between(self.store, self._max_seq, max_seq, self.peer)
        self._rows += await reads.rows_between(self.store, self._max_seq, max_seq)
        self._items = self._items.with_added(added + let_go)
        self._max_seq = max_seq
        self.merges += 1
        return True


_INDEXES: weakref.WeakKeyDictionary[Store, dict[str | None, RepairIndex]] = weakref.WeakKeyDictionary()


def index_for(store: Store, peer: Peer | None = None) -> RepairIndex:
    """The repair index of an open store as ``peer`` may see it (None: a peer with no labels); the responder and
    the initiator share it. A peer whose labels changed since gets a new one."""
    indexes = _INDEXES.setdefault(store, {})
    key, labels = (peer.key, peer.labels) if peer is not None else (None, frozenset[str]())
    index = indexes.get(key)
    if index is None or index.labels != labels:
        index = indexes[key] = RepairIndex(store, key, labels)
    return index
