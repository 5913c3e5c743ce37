"""Round trips a store makes to PostgreSQL: each statement sent alone is one, and so is a pipeline."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

import murmur.store.postgres as pg_store


class RoundTrips:
    def __init__(self) -> None:
        self.count = 0


def counting(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    """Counts, from now until the test ends, what every store connection sends."""
    counted = RoundTrips()
    fetch = pg_store.Connection._fetch
    pipeline = psycopg.AsyncConnection.pipeline

    async def one(cursor: Any, text: str, params: Any, *, prepare: bool | None) -> pg_store.Cursor:
        counted.count += 1
        return await fetch(cursor, text, params, prepare=prepare)

    def many(self: psycopg.AsyncConnection[Any]) -> Any:
        counted.count += 1
        return pipeline(self)

    monkeypatch.setattr(pg_store.Connection, "_fetch", staticmethod(one))
    monkeypatch.setattr(psycopg.AsyncConnection, "pipeline", many)
    return counted
