"""After a delete in the TUI, a screen says which peers confirmed it, signed (``GET /api/v1/deletes/{id}``), and
asks again on R as peers answer; what peers call themselves and their reasons are shown inert."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import Static
from textual.worker import WorkerState

from murmur.client.tui.drafts import delete_draft
from murmur.client.tui.screens.deletes import DeleteStatusScreen
from murmur.client.tui.screens.dialogs import ConfirmScreen
from murmur.keys import Identity
from murmur.receipts import signed
from murmur.store import receipts
from tests.listed import add_listed_peer
from tests.tui.conftest import ME, NOW, LiveServer, make_app, until
from tests.tui.test_pilot import open_local

SIZE = (110, 40)


async def test_a_delete_shows_which_peers_confirmed_it(live: LiveServer, tmp_path: Path) -> None:
    near, far = Identity.from_seed(b"\x31" * 32), Identity.from_seed(b"\x32" * 32)
    await add_listed_peer(live.store, live.state.identity, near.public_key, "http://near.test", name="near")
    await add_listed_peer(live.store, live.state.identity, far.public_key, "http://far.test", name="far\x1b[2J\u202e")
    await live.post(ME, "words I regret", at=NOW - 20_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_local(pilot, app)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # "y" then goes to the question
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, DeleteStatusScreen) and "confirmed, signed" in shown(app))
        assert "0 of 2 peer(s) confirmed, signed." in shown(app)
        assert "\x1b" not in shown(app) and "\u202e" not in shown(app)

        [tombstone] = await live.messages("delete")
        answers = [
            signed(near, {"id": tombstone["id"], "status": "stored"}),
            signed(far, {"id": tombstone["id"], "status": "refused", "code": "policy", "reason": "no\x1b]0;x\x07"}),
        ]
        assert await receipts.note(live.store, near.public_key, {tombstone["id"]}, answers[:1]) == 1
        assert await receipts.note(live.store, far.public_key, {tombstone["id"]}, answers[1:]) == 1
        await pilot.press("R")
        await until(pilot, lambda: "1 of 2 peer(s) confirmed" in shown(app))
        text = shown(app)
        assert "confirmed near (" in text and "refused" in text and "policy: no" in text
        assert all(c not in text for c in "\x1b\x07\u202e")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DeleteStatusScreen))


async def test_an_answer_that_lands_once_the_screen_is_closing_is_dropped(live: LiveServer, tmp_path: Path) -> None:
    """Closing prunes the list before the screen's worker is cancelled: an answer landing in between is dropped
    quietly, not a failure to find where it would have gone."""
    mine = await live.post(ME, "words I regret", at=NOW - 20_000)
    await live.sign(ME, delete_draft(mine))
    app = make_app(live, tmp_path, live=False)
    asked, release = asyncio.Event(), asyncio.Event()
    ask = app.api.delete_status

    async def held(target: str) -> dict[str, Any]:
        asked.set()
        await release.wait()
        return await ask(target)

    app.api.delete_status = held  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        screen = DeleteStatusScreen(app.api, mine["id"])
        await app.push_screen(screen)
        await until(pilot, asked.is_set)
        [load] = [w for w in app.workers if w.node is screen and w.group == "delete-status"]
        await screen.query_one("#delete-peers").remove()  # as closing prunes it
        release.set()
        await app.workers.wait_for_complete([load])
        assert load.state == WorkerState.SUCCESS, load.error
        assert not app._notifications  # the answer was one to show, not a refusal


def shown(app: object) -> str:
    found = app.screen.query("#delete-peers")  # type: ignore[attr-defined]
    return str(found.first(Static).render()) if found else ""


async def test_a_delete_under_a_closing_screen_keeps_the_highlight(live: LiveServer, tmp_path: Path) -> None:
    """The delete's screen opens over the timeline as the post goes, and may close before its first refresh: the
    highlight moves to the next post at once, not in a call deferred to a refresh the closed screen never has."""
    for i in range(3):
        await live.post(ME, f"post {i}", at=NOW - 20_000 + i)
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        await pilot.press("j")
        doomed = timeline.current
        assert doomed is not None and timeline.index == 1
        after = timeline.entries[2]
        app.push_screen(DeleteStatusScreen(app.api, doomed.item["message"]["id"]))
        app.forget(doomed.item["message"]["id"])
        app.pop_screen()
        assert timeline.current is after and after.has_class("-highlight") and len(timeline.entries) == 2
        await until(pilot, lambda: not doomed.is_attached)  # once the removal lands, still the same row
        assert timeline.current is after and after.has_class("-highlight")
