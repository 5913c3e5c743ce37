"""Who hears what ingest decided: each batch's final results, once settled, with the door it came in by.

Every way into the store ends here (``Store.ingest``, ``Store.ingest_stream`` and the server's grouped
``ingest_grouped``), after its transaction committed, so a listener (the server's metrics) hears of each
message once whatever door it came in by, and never of a result a rolled-back transaction took back.
Listeners belong to one database's writer: two stores in one process (tests, `murmur sync`) do not mix.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Sequence

from murmur.store.db import Writer
from murmur.store.ingest import IngestResult

log = logging.getLogger("murmur.store")

Listener = Callable[[Sequence[IngestResult], str], None]
"""Told the results of one settled batch and its origin ("local", "import", "peer:KEY")."""

_listeners: weakref.WeakKeyDictionary[Writer, list[Listener]] = weakref.WeakKeyDictionary()


def listen(writer: Writer, listener: Listener) -> None:
    """Tell ``listener`` of every batch settled on ``writer`` from now on."""
    _listeners.setdefault(writer, []).append(listener)


def settled(writer: Writer, results: Sequence[IngestResult | None], origin: str) -> list[IngestResult]:
    """The batch's results (all of them set by now), after telling the writer's listeners of them."""
    done = [r for r in results if r is not None]
    for listener in _listeners.get(writer, ()):
        try:
            listener(done, origin)
        except Exception:  # counting must never turn a committed write into an error for its sender
            log.exception("an ingest listener failed; the batch is stored all the same")
    return done
