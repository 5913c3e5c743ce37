"""The CLI side of the TUI (no Textual for other commands, the bare-``murmur`` guide), the start-up cache,
and the bounded window over a long timeline."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from murmur.client.tui import cache
from murmur.client.tui.widgets.timeline import Timeline
from tests.tui.conftest import ALICE, NOW, LiveServer, make_app, until


def test_other_commands_do_not_import_textual(tmp_path: Path) -> None:
    env = {**os.environ, "MURMUR_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "murmur.client.cli", "init"], env=env, check=True, capture_output=True)
    probe = (
        "import sys\n"
        "from murmur.client.cli.main import main\n"
        "try:\n    main(['whoami'])\nexcept SystemExit:\n    pass\n"
        "print('TEXTUAL' if any(m == 'textual' or m.startswith('textual.') for m in sys.modules) else 'CLEAN')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("CLEAN"), out


def test_bare_murmur_without_identity_prints_a_guide(tmp_path: Path) -> None:
    from murmur.client.cli.main import app

    result = CliRunner().invoke(app, [], env={"MURMUR_HOME": str(tmp_path)})
    assert result.exit_code == 0
    assert "murmur init" in result.output and "murmur join" in result.output and "Commands" in result.output


def test_cache_is_verified_again_on_load(tmp_path: Path) -> None:
    from murmur.message import sign_draft

    message = sign_draft(ALICE, {"kind": "post", "body": {"text": "cached"}}, created_at=NOW)
    path = tmp_path / "cache.json"
    cache.save(path, "home", {"items": [{"seq": 1, "message": message, "verified": True}], "next_cursor": None})
    assert cache.load(path, "home")["items"][0]["verified"] is True
    data = json.loads(path.read_text())
    data["page"]["items"][0]["message"]["body"]["text"] = "forged"
    data["page"]["items"][0]["verified"] = True
    path.write_text(json.dumps(data))
    assert cache.load(path, "home")["items"][0]["verified"] is False
    assert cache.load(path, "local") is None
    path.write_text("{not json")
    assert cache.load(path, "home") is None
    assert path.stat().st_mode & 0o077 == 0


async def test_startup_shows_the_cache_then_refreshes(live: LiveServer, tmp_path: Path) -> None:
    from murmur.message import sign_draft

    stale = sign_draft(ALICE, {"kind": "post", "body": {"text": "from the cache"}}, created_at=NOW)
    forged = json.loads(json.dumps(stale))
    forged["body"]["text"] = "forged in the cache"
    page = {"items": [{"seq": 99, "message": stale}, {"seq": 98, "message": forged}], "next_cursor": None}
    cache.save(tmp_path / "tui-cache.json", "home", page)
    app = make_app(live, tmp_path, live=False)
    # The server's first home page is held back until the cache has been checked on screen.
    answer = asyncio.Event()
    timeline = app.api.timeline

    async def held_timeline(which: str, **kw: Any) -> dict[str, Any]:
        if which == "home":
            await answer.wait()
        return await timeline(which, **kw)

    app.api.timeline = held_timeline  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        home = app.main.query_one("#tl-home", Timeline)
        await until(pilot, lambda: len(home.entries) == 2)  # the cache is drawn before the first answer
        shown = [(e.item.get("verified"), str(e.render())) for e in home.entries]
        assert "from the cache" in shown[0][1]
        assert shown[1][0] is False and "forged" not in shown[1][1] and "failed" in shown[1][1]
        answer.set()
        await until(pilot, lambda: not home.entries)  # the server's (empty) home page replaces it

        def cache_refreshed() -> bool:
            return json.loads((tmp_path / "tui-cache.json").read_text())["page"]["items"] == []

        await until(pilot, cache_refreshed)  # and replaces the cache too (written after the page is drawn)


async def test_long_timeline_keeps_a_bounded_window(live: LiveServer, tmp_path: Path) -> None:
    from murmur.message import sign_draft

    posts = [
        sign_draft(ALICE, {"kind": "post", "body": {"text": f"post {i}"}}, created_at=NOW - 300 + i) for i in range(300)
    ]
    await live.ingest(*posts)
    app = make_app(live, tmp_path, live=False, page_size=20, max_pages=3)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        timeline = app.main.query_one("#tl-local", Timeline)
        await until(pilot, lambda: len(timeline.entries) == 20)
        most = 0
        for _ in range(12):  # down through 12 pages, one G at a time
            before = timeline.entries[-1].seq
            await pilot.press("G")
            await until(pilot, lambda before=before: timeline.entries[-1].seq < before and not timeline.loading)
            await pilot.pause()
            most = max(most, len(timeline.entries))
        assert most <= 60
        oldest_seen = timeline.entries[-1].item["message"]["body"]["text"]
        assert int(oldest_seen.split()[1]) < 60  # 13 pages down from "post 299"
        top = timeline.entries[0].seq
        await pilot.press("home")  # back up: the dropped page above is fetched again
        await until(pilot, lambda: timeline.entries[0].seq > top and not timeline.loading)
        assert len(timeline.entries) <= 60
        await pilot.press("g")  # g from far back: start again at the newest
        await until(pilot, lambda: timeline.entries[0].item["message"]["body"]["text"] == "post 299")
