"""Figures counted from many signed messages (a letter's signers, a poll's results), remembered between requests
until what they are counted from changes.

Counting parses every signature or ballot held: about a second at 10,000, on every page view. The rule stays one
pure function (``murmur.kinds.letter_count``, ``murmur.kinds.poll_tally``); this only decides when to run it
again. A figure is kept beside a *fingerprint* of the rows it was counted from, read with each request from the
indexes alone: how many rows of each sort there are and their largest seq. Rows are only ever added (a new
signature, a withdrawal, a ballot, a group's membership message: a seq larger than any before) or removed (the
number drops), so any change to them moves the fingerprint, whatever order messages arrive in, and a request that
finds another fingerprint counts again. Nothing is written: a restart starts empty, and the database stays the
only truth.

The fingerprint is read before the rows are: a figure counted from rows newer than its fingerprint is counted
again on the next request, never kept past a change.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import aiosqlite

T = TypeVar("T")
Fingerprint = tuple[Any, ...]
KEPT = 64  # figures remembered per store, the most recently asked for


class Remembered(Generic[T]):
    """Figures of one sort, per store (held weakly: a closed store's go with it) and per message id."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._stores: weakref.WeakKeyDictionary[object, OrderedDict[str, tuple[Fingerprint, T]]] = (
            weakref.WeakKeyDictionary()
        )

    async def get(
        self, store: object, key: str, fingerprint: Fingerprint, compute: Callable[[], Awaitable[T]]
    ) -> T:
        """The figure for ``key``: remembered when counted at this ``fingerprint``, else ``compute``d and kept."""
        figures = self._stores.setdefault(store, OrderedDict())
        found = figures.get(key)
        if found is not None and found[0] == fingerprint:
            figures.move_to_end(key)
            return found[1]
        value = await compute()
        figures[key] = (fingerprint, value)
        figures.move_to_end(key)
        while len(figures) > self.kept:
            figures.popitem(last=False)
        return value


async def fingerprint(conn: aiosqlite.Connection, queries: Sequence[tuple[str, Sequence[Any]]]) -> Fingerprint:
    """The rows of each query (each selects ``count(*), max(seq)`` or the like), in one tuple."""
    out: list[Any] = []
    for sql, params in queries:
        async with conn.execute(sql, tuple(params)) as cursor:
            row = await cursor.fetchone()
        out.extend(row or ())
    return tuple(out)
