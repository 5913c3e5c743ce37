"""Reads that do not depend on each other, asked together: on PostgreSQL their statements go in one pipeline, one
round trip and one wake of a backend for them all (``murmur.store.postgres.ReadPool``); SQLite, in process, runs
them in turn as it would anyway. Only reads asked inside ``reads_together`` are sent together: a read of another
request never waits behind a slow one of this request.

    with reads_together():
        names, withheld = await asyncio.gather(names_of(...), withheld_among(...))

Tasks ``asyncio.gather`` makes inherit the context, so the reads they ask (and those of reads they gather in
turn) belong to the group; a ``reads_together`` inside one joins it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_GROUP: ContextVar[object | None] = ContextVar("murmur_reads_together", default=None)


@contextmanager
def reads_together() -> Iterator[None]:
    if _GROUP.get() is not None:  # inside a group already: its reads join it
        yield
        return
    token = _GROUP.set(object())
    try:
        yield
    finally:
        _GROUP.reset(token)


def group() -> object | None:
    """The group of reads the caller's are sent with, None for a read sent alone."""
    return _GROUP.get()
