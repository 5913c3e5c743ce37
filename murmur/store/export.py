"""Which messages an export takes, read in log order: bundles (``murmur export``) and a member's own messages
(``GET /api/v1/export``).

Who may receive what is decided by ``murmur.store.audience``; a filter only narrows that further (a time, some
authors, a hashtag). The conditions are joined here, and nowhere else, so no caller edits a query's text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from murmur.store import Store
from murmur.store.audience import for_anyone, moves_with_author, travels_with
from murmur.store.items import select

EXPORT_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """What an export takes: what a peer may see (``murmur.store.audience``); ``include_local`` adds local posts
    and what is about them (an admin's copy); ``moving`` (with ``include_local``) narrows that to what may leave
    with its author: their local posts and what they wrote about them, never about someone else's."""

    since: int | None = None
    authors: tuple[str, ...] = ()
    tag: str | None = None
    include_local: bool = False
    moving: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.since is not None:
            out["since"] = self.since
        if self.authors:
            out["authors"] = list(self.authors)
        if self.tag:
            out["tag"] = self.tag
        out["visibility"] = "all" if self.include_local else "public"
        return out


def _filters(chosen: ExportFilter, alias: str) -> tuple[list[str], list[Any]]:
    """The conditions of ``chosen``'s filter (time, authors, hashtag) on the ``messages`` row ``alias``."""
    conditions: list[str] = []
    params: list[Any] = []
    if chosen.since is not None:
        conditions.append(f"{alias}.created_at >= ?")
        params.append(chosen.since)
    if chosen.authors:
        conditions.append(f"{alias}.author IN ({','.join('?' * len(chosen.authors))})")
        params.extend(bytes.fromhex(a) for a in chosen.authors)
    if chosen.tag:
        conditions.append(f"{alias}.seq IN (SELECT seq FROM hashtags WHERE tag = ?)")
        params.append(chosen.tag)
    return conditions, params


def _where(chosen: ExportFilter) -> tuple[str, list[Any]]:
    """The condition on the ``messages`` row ``m`` that ``chosen`` takes, as ``(sql, params)``.

    A selection narrower than the whole log (a member moving, a filter) takes a message narrowed by what it names
    only with what narrows it (``murmur.store.audience.travels_with``), else it would land public wherever the
    export is imported. Its condition on the named row ``p`` is read twice (confined, scoped): its parameters
    come twice, before the filter's own."""
    filters, params = _filters(chosen, "m")
    named, named_params = _filters(chosen, "p")
    if not chosen.include_local:
        conditions, before = [for_anyone("m")], []
    elif chosen.moving:
        conditions, before = [moves_with_author("m", " AND ".join(named) or "TRUE")], named_params * 2
    elif named:
        conditions, before = [travels_with("m", " AND ".join(named))], named_params * 2
    else:
        conditions, before = ["TRUE"], []  # an admin's copy of everything (TRUE, not 1: a boolean on both engines)
    return " AND ".join(conditions + filters), before + params


async def count_matching(store: Store, chosen: ExportFilter) -> int:
    """How many held messages ``chosen`` takes now."""
    where, params = _where(chosen)
    rows = await select(store.conn, f"SELECT count(*) FROM messages m WHERE {where}", params)
    return int(rows[0][0]) if rows else 0


async def page(store: Store, chosen: ExportFilter, *, after: int, limit: int) -> list[tuple[int, bytes]]:
    """``(seq, raw)`` of at most ``limit`` messages ``chosen`` takes, after log position ``after``, in log order."""
    where, params = _where(chosen)
    sql = f"SELECT m.seq, m.raw FROM messages m WHERE {where} AND m.seq > ? ORDER BY m.seq LIMIT ?"
    return [(int(seq), bytes(raw)) for seq, raw in await select(store.conn, sql, [*params, after, limit])]


async def matching(store: Store, chosen: ExportFilter) -> AsyncIterator[bytes]:
    """Every message ``chosen`` takes, in log order, read a page at a time."""
    after = 0
    while True:
        rows = await page(store, chosen, after=after, limit=EXPORT_PAGE)
        for seq, raw in rows:
            after = seq
            yield raw
        if len(rows) < EXPORT_PAGE:
            return
