"""What every figure receives: the sizes of this mode, a temporary directory, shared inputs and results."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Figure = dict[str, Any]
"""One figure: ``value`` and ``unit``; rates bounded by a measured limit add ``limit``, ``limit_name``, ``ratio``."""


@dataclass(frozen=True, slots=True)
class Sizes:
    """Every bound of a run. A figure reads its loads from here and nowhere else."""

    seconds: float  # timed window of each rate measured in a loop
    warmup: float  # untimed run before each timed window
    authors: int  # distinct keys in the generated corpus (realistic id/author index spread)
    ingest_messages: int  # messages stored by ingest_store
    ingest_tail: int  # messages stored afterwards into the full table, to show index growth
    ingest_max_seconds: float  # ingest stops here even if messages remain
    batch: int  # messages per Store.ingest call
    check_messages: int  # distinct messages cycled through by check_rate
    tally_messages: int  # ballots poll_recount_ms recounts, signatures letter_check_ms checks
    key_log_events: int  # events in the identity's log key_log_resolve_ms resolves
    http_messages: int  # messages pushed to a real server per ingest_http run
    http_runs: int  # ingest_http runs (fresh server each); the figure is their median
    http_max_seconds: float  # each HTTP load stops here even if work remains
    publish_messages: int  # single posts sent per publish_http run
    publish_runs: int
    timeline_messages: int  # messages stored in the server timeline_ms, catchup and rss_mb read from
    timeline_requests: int  # timed requests of each timeline_ms kind
    catchup_messages: int  # messages a fresh peer pulls in catchup
    tui_posts: int  # posts the TUI scrolls through for rss_mb's TUI figure
    build_max_seconds: float  # the timeline database build stops here (and says so)
    fanout_loads: tuple[tuple[int, int], ...]  # stream_fanout: (open streams, posts per second) of each run
    fanout_seconds: float  # how long each stream_fanout run publishes
    mesh_servers: int  # mesh: servers in each topology
    mesh_posts: int  # mesh: posts published on the first server


MODES: dict[str, Sizes] = {
    "full": Sizes(
        seconds=5.0,
        warmup=0.5,
        authors=1000,
        ingest_messages=200_000,
        ingest_tail=20_000,
        ingest_max_seconds=300.0,
        batch=500,
        check_messages=10_000,
        tally_messages=10_000,
        key_log_events=1_000,
        http_messages=100_000,
        http_runs=3,
        http_max_seconds=60.0,
        publish_messages=30_000,
        publish_runs=3,
        timeline_messages=1_000_000,
        timeline_requests=1_000,
        catchup_messages=100_000,
        tui_posts=10_000,
        build_max_seconds=900.0,
        fanout_loads=((50, 20), (500, 20), (1000, 50)),
        fanout_seconds=10.0,
        mesh_servers=8,
        mesh_posts=100,
    ),
    "quick": Sizes(
        seconds=2.0,
        warmup=0.3,
        authors=1000,
        ingest_messages=20_000,
        ingest_tail=5_000,
        ingest_max_seconds=40.0,
        batch=500,
        check_messages=5_000,
        tally_messages=10_000,
        key_log_events=1_000,
        http_messages=12_000,
        http_runs=2,
        http_max_seconds=20.0,
        publish_messages=4_000,
        publish_runs=1,
        timeline_messages=100_000,
        timeline_requests=300,
        catchup_messages=20_000,
        tui_posts=400,
        build_max_seconds=120.0,
        fanout_loads=((1000, 50),),
        fanout_seconds=5.0,
        mesh_servers=8,
        mesh_posts=30,
    ),
    # Only for the smoke test: every figure runs end to end, the numbers mean nothing.
    "tiny": Sizes(
        seconds=0.1,
        warmup=0.0,
        authors=20,
        ingest_messages=1_000,
        ingest_tail=500,
        ingest_max_seconds=5.0,
        batch=500,
        check_messages=200,
        tally_messages=100,
        key_log_events=50,
        http_messages=1_000,
        http_runs=1,
        http_max_seconds=5.0,
        publish_messages=200,
        publish_runs=1,
        timeline_messages=3_000,
        timeline_requests=10,
        catchup_messages=1_000,
        tui_posts=80,
        build_max_seconds=30.0,
        fanout_loads=((5, 5),),
        fanout_seconds=1.0,
        mesh_servers=3,
        mesh_posts=5,
    ),
}


@dataclass
class Context:
    mode: str
    sizes: Sizes
    tmp: Path
    engines: tuple[str, ...] = ("sqlite",)  # bench.engines: what the engine-aware figures run on, in this order
    workers: tuple[int, ...] = (1,)  # `murmur serve --workers` of publish_http's servers; several: runs alternate
    results: dict[str, Figure] = field(default_factory=dict)
    # Runs a registered figure group on demand, so a figure can name a limit that --only did not select.
    run_group: Callable[[str], None] | None = None
    _cache: dict[str, Any] = field(default_factory=dict)
    _cleanups: list[Callable[[], None]] = field(default_factory=list)

    def progress(self, text: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def limit(self, name: str) -> float:
        """The value of figure ``name`` in this run, measuring it first if it has not been."""
        if name not in self.results and self.run_group is not None:
            self.run_group(name)
        return float(self.results[name]["value"])

    def on_exit(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` when the run ends (a server shared by several figures is stopped there)."""
        self._cleanups.append(cleanup)

    def close(self) -> None:
        while self._cleanups:
            self._cleanups.pop()()

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        """Inputs shared between figures (the signed corpus) are made once per run."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


def rate_figure(
    value: float, unit: str, *, limit: float | None = None, limit_name: str | None = None, **extra: Any
) -> Figure:
    """A figure dict; where a limit is named the ratio to it is computed here, so every figure does it alike."""
    figure: Figure = {"value": round(value, 3), "unit": unit}
    if limit is not None and limit_name is not None:
        figure["limit"] = round(limit, 3)
        figure["limit_name"] = limit_name
        figure["ratio"] = round(value / limit, 4) if limit else None
    figure.update(extra)
    return figure
