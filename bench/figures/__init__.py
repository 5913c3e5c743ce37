"""The registry of figure groups. A group is a module with ``FIGURES`` (the names it reports) and
``run(ctx) -> {name: figure}``; add a module here and ``python -m bench`` runs it.

Order matters only for reading: limits come first, and a group that needs a limit ``--only`` left out
measures it through ``Context.limit``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from bench.context import Context, Figure
from bench.figures import (
    canonical,
    catchup,
    check,
    groups,
    ingest_http,
    ingest_store,
    key_log,
    mesh,
    publish_http,
    repair,
    rss_mb,
    sealing,
    sign,
    stream_fanout,
    tallies,
    timeline_ms,
    tui_first_paint_s,
    verify,
    web_pages,
)


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    figures: tuple[str, ...]
    run: Callable[[Context], dict[str, Figure]]


def _group(module: ModuleType) -> Group:
    return Group(module.__name__.rsplit(".", 1)[-1], tuple(module.FIGURES), module.run)


REGISTRY: tuple[Group, ...] = tuple(
    _group(m)
    for m in (
        verify,
        sign,
        sealing,
        groups,
        check,
        tallies,
        key_log,
        canonical,
        ingest_store,
        repair,
        ingest_http,
        publish_http,
        stream_fanout,
        timeline_ms,
        web_pages,
        catchup,
        mesh,
        rss_mb,
        tui_first_paint_s,
    )
)


def all_figures() -> list[str]:
    return [name for group in REGISTRY for name in group.figures]


def group_of(figure: str) -> Group | None:
    for group in REGISTRY:
        if figure == group.name or figure in group.figures:
            return group
    return None
