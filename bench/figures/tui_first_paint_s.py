"""tui_first_paint_s: seconds from launching the TUI to the first home timeline drawn, cold and warm.

The TUI runs in a fresh process (``bench.tui_probe``: ``MurmurApp`` headless under Textual's Pilot, with
what ``murmur tui`` imports) against the ``murmur serve`` over the big database, as a member following 200
authors. The time runs from just before the process is started to the moment the home timeline has
entries and the refresh that draws them has run. Cold: no start-up cache, so the first page comes from the
server. Warm: the cache the cold run left (the last home page) is drawn at once, re-verified, while the
server is asked for the fresh page. Each is the median of three launches (two in quick mode); the figure is
the cold one. ``cold_cpu_s``/``warm_cpu_s``: the probe's CPU time up to the same moment (interpreter start-up
included), which a loaded machine moves far less than the wall time.
"""

from __future__ import annotations

import compileall
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.bigdb import readers
from bench.context import Context, Figure, rate_figure
from bench.figures.common import big_server

FIGURES = ("tui_first_paint_s",)
LAUNCHES = {"full": 3, "quick": 2, "tiny": 1}
ROOT = Path(__file__).resolve().parents[2]


def compile_murmur() -> None:
    """Write the bytecode of murmur's three folders (core, server, client) where Python looks for it, as ``pip
    install`` does; where that cannot be written (a read-only install), the install already holds it."""
    for package in ("murmur", "murmur.server", "murmur.client"):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, quiet=2)


def launch(url: str, key: str, cache: Path, *, scroll: int = 0, seconds: float = 0.0) -> list[dict[str, Any]]:
    """Run the probe once against the server at ``url`` whose key is ``key``; its events, each ``first_paint`` with
    ``seconds`` since the launch."""
    seed = readers()[-1].private_key.private_bytes_raw().hex()
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "bench.tui_probe", url, key, seed, str(cache), str(scroll), str(seconds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60 + seconds,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the TUI probe failed: {done.stderr[-2000:]}")
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    for event in events:
        if event["event"] == "first_paint":
            event["seconds"] = event["at"] - started
    return events


def run(ctx: Context) -> dict[str, Figure]:
    server = big_server(ctx)
    cold: list[float] = []
    warm: list[float] = []
    cold_cpu: list[float] = []
    warm_cpu: list[float] = []
    launches = LAUNCHES.get(ctx.mode, 3)
    compile_murmur()
    for number in range(launches):
        cache = ctx.tmp / f"tui-cache-{number}.json"
        ctx.progress(f"tui_first_paint_s: launch {number + 1}/{launches}, cold then warm")
        first = launch(server.url, server.key, cache)[0]
        cold.append(first["seconds"])
        cold_cpu.append(first["cpu_s"])
        assert cache.exists(), "the cold launch left no start-up cache"
        again = launch(server.url, server.key, cache)[0]
        warm.append(again["seconds"])
        warm_cpu.append(again["cpu_s"])
    return {
        "tui_first_paint_s": rate_figure(
            statistics.median(cold),
            "s",
            target=0.5,
            cold_s=[round(s, 3) for s in cold],
            warm_s=[round(s, 3) for s in warm],
            warm_median_s=round(statistics.median(warm), 3),
            cold_cpu_s=cold_cpu,
            warm_cpu_s=warm_cpu,
            launches=launches,
            bytecode="compiled before the first launch",
        )
    }
