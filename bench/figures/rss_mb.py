"""rss_mb: resident memory of the server idle and holding the big database, and of the TUI after scrolling.

- ``rss_mb`` (server idle): a fresh ``murmur serve`` on an empty data directory, one second after it said
  where it listens and after one ``/health`` request. Target ≤ 80 MB.
- ``rss_mb_server_full``: the ``murmur serve`` over the big database (1,000,000 messages; 100,000 in quick
  mode) after ``timeline_ms`` and ``catchup`` have run against it, so its page caches are as warm as reads
  make them. Target ≤ 200 MB.
- ``rss_mb_tui``: the TUI (``bench.tui_probe``, a fresh process) after paging down the home timeline through
  10,000 posts (1,000 in quick mode) against that server, read from its own ``/proc/self/status``.

VmRSS from /proc, in MB of 10^6 bytes. A server's figure counts the signature worker processes it started
(``murmur.verifier``: only for large batches, so an idle server has none); ``processes`` says how many.
"""

from __future__ import annotations

import time

import httpx

from bench.context import Context, Figure, rate_figure
from bench.figures.common import big_db, big_server
from bench.figures.tui_first_paint_s import launch
from bench.server import ServerProcess, create

FIGURES = ("rss_mb", "rss_mb_server_full", "rss_mb_tui")


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    data = create(ctx.tmp / "rss-idle")
    with ServerProcess(data.root) as server:
        httpx.get(f"{server.url}/health", timeout=10)
        time.sleep(1.0)
        idle, idle_processes = server.rss_mb(), server.processes()
    for figure in ("timeline_ms", "catchup"):
        if figure not in ctx.results and ctx.run_group is not None:
            ctx.run_group(figure)
    big = big_server(ctx)
    full, full_processes = big.rss_mb(), big.processes()
    ctx.progress(f"rss_mb_tui: the TUI pages through {sizes.tui_posts:,} posts")
    cache = ctx.tmp / "tui-rss-cache.json"
    events = launch(big.url, big.key, cache, scroll=sizes.tui_posts, seconds=sizes.http_max_seconds * 6)
    scrolled = next(e for e in events if e["event"] == "scrolled")
    return {
        "rss_mb": rate_figure(idle, "MB", target=80, processes=idle_processes),
        "rss_mb_server_full": rate_figure(
            full,
            "MB",
            target=200,
            stored_messages=big_db(ctx).messages,
            after=["timeline_ms", "catchup"],
            processes=full_processes,
        ),
        "rss_mb_tui": rate_figure(
            scrolled["rss_mb"], "MB", posts_scrolled=scrolled["posts"], entries_mounted=scrolled["mounted"]
        ),
    }
