"""The TUI under measurement, in its own process: ``python -m bench.tui_probe URL KEY SEED CACHE SCROLL SECONDS``.

Imports what ``murmur tui`` imports (the program, built with that command alone) and no more, so its start-up is
what a person waits for; makes its client as ``murmur tui`` does (signing for KEY, the server key a profile records
when it joins), runs ``MurmurApp`` headless under Textual's Pilot, and prints one JSON line per event on stdout:
``{"event": "first_paint", "at": <time.time()>, "cpu_s": <time.process_time()>, "cached": bool}`` once the home
timeline has entries and
the refresh that draws them has run (``call_after_refresh``; not ``Pilot.pause``, which also waits for every
follow-up fetch, such as the authors' names, to finish), then, when SCROLL > 0,
``{"event": "scrolled", "posts": N, "rss_mb": M}`` after paging down through N posts (or SECONDS passing).
The parent measures from before it started this process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return 0.0


def _say(**event: object) -> None:
    print(json.dumps(event), flush=True)


async def main(url: str, key: str, seed: str, cache: str, scroll: int, seconds: float) -> None:
    from murmur.client.cli.main import build

    build("tui")  # the program as `murmur tui` builds it before the app starts
    from murmur.client.api import MurmurClient
    from murmur.client.tui.app import MurmurApp
    from murmur.client.tui.settings import TuiSettings
    from murmur.client.tui.widgets.timeline import Timeline
    from murmur.keys import Identity

    cache_path = Path(cache)
    cached = cache_path.exists()
    api = MurmurClient(url, Identity.from_seed(bytes.fromhex(seed)), server_key=key)
    app = MurmurApp(api, TuiSettings(server=url, cache_path=cache_path, live=False))
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        deadline = time.monotonic() + 30
        timeline = app.main.query_one("#tl-home", Timeline)
        while not timeline.entries and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        drawn = asyncio.get_running_loop().create_future()
        timeline.call_after_refresh(lambda: drawn.done() or drawn.set_result(time.time()))
        painted = await asyncio.wait_for(drawn, 30)
        # CPU time too: on a loaded machine the wall time moves with the neighbours, the CPU time far less.
        _say(event="first_paint", at=painted, cpu_s=round(time.process_time(), 3), cached=cached,
             entries=len(timeline.entries))  # fmt: skip
        if scroll > 0:
            await _scroll(pilot, timeline, scroll, seconds)
    # Closed only once the app has stopped: follow-up fetches (names) may still be running until then.
    await api.aclose()


async def _scroll(pilot: Any, timeline: Any, scroll: int, seconds: float) -> None:
    """Page down the timeline until ``scroll`` posts have been fetched into it (or ``seconds`` pass)."""
    seen = sum(len(page.items) for page in timeline.window.pages)
    stop = time.monotonic() + seconds
    while seen < scroll and time.monotonic() < stop:
        last = timeline.window.pages[-1]
        if last.next_cursor is None:
            break
        timeline.action_last()  # the highlight at the end asks for the next older page
        while timeline.window.pages[-1] is last and time.monotonic() < stop:
            await asyncio.sleep(0.002)
        seen += len(timeline.window.pages[-1].items)
        await pilot.pause()
    _say(event="scrolled", posts=seen, mounted=len(timeline.entries), rss_mb=round(_rss_mb(), 1))


if __name__ == "__main__":
    url, key, seed, cache, scroll, seconds = sys.argv[1:7]
    asyncio.run(main(url, key, seed, cache, int(scroll), float(seconds)))
