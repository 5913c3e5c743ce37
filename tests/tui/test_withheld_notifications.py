"""The notifications tab says what a peer withheld of a notification's message (a reply) as every timeline does,
and at once when the notice comes while it is on screen; and a notice the home server forged (a reason it altered
after the peer signed it) shows as unverified, in the notifications tab and on a timeline alike, never as the
peer's word."""

from __future__ import annotations

from pathlib import Path

from murmur.client.tui.widgets.entries import NoticeEntry, PostEntry
from murmur.client.tui.widgets.status import StatusBar
from murmur.client.tui.widgets.timeline import Timeline
from murmur.receipts import signed
from murmur.server.federation.answers import heard
from tests.listed import add_listed_peer
from tests.tui.conftest import ALICE, ME, LiveServer, make_app, until
from tests.tui.test_pilot import open_local
from tests.tui.test_withheld_timeline import FAR, SIZE

EXPECTED = f"⊘ withheld by far ({FAR.public_key[:16]}): no replies here"
UNVERIFIED = f"⊘ unverified withheld notice ({FAR.public_key[:16]})"


async def refuse(live: LiveServer, msg_id: str) -> None:
    answer = {"id": msg_id, "status": "refused", "code": "policy", "reason": "no replies here"}
    assert await heard(live.state, FAR.public_key, {msg_id}, [signed(FAR, answer)]) == 1


def notice_text(notes: Timeline, msg_id: str) -> str:
    found = [e for e in notes.entries if isinstance(e, NoticeEntry) and e.message_id == msg_id]
    return found[0].render().plain if found else ""


async def test_a_notification_says_what_a_peer_withheld_of_its_reply(live: LiveServer, tmp_path: Path) -> None:
    await add_listed_peer(live.store, live.state.identity, FAR.public_key, "http://far.test", name="far")
    mine = await live.post(ME, "lunch, anyone?")
    reply = await live.post(ALICE, "yes please", parent=mine)
    await refuse(live, reply["id"])
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        notes = app.main.query_one("#tl-notifications", Timeline)
        await until(pilot, lambda: bool(notice_text(notes, reply["id"])))
        lines = notice_text(notes, reply["id"]).splitlines()
        assert lines[1] == EXPECTED  # under the line saying who replied, as a timeline says it under the author


async def test_a_notice_that_comes_later_shows_on_the_notification_at_once(live: LiveServer, tmp_path: Path) -> None:
    await add_listed_peer(live.store, live.state.identity, FAR.public_key, "http://far.test", name="far")
    mine = await live.post(ME, "lunch, anyone?")
    reply = await live.post(ALICE, "yes please", parent=mine)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        notes = app.main.query_one("#tl-notifications", Timeline)
        await until(pilot, lambda: bool(notice_text(notes, reply["id"])) and live.state.fanout.live > 0)
        assert "withheld" not in notice_text(notes, reply["id"])
        await refuse(live, reply["id"])
        await until(pilot, lambda: EXPECTED in notice_text(notes, reply["id"]))


async def test_a_notice_the_home_server_altered_shows_as_unverified(live: LiveServer, tmp_path: Path) -> None:
    """The home server serves the peer's notice with a reason of its own: its signature no longer holds, and the
    reader is told so, without the reason the server put in the peer's mouth."""
    await add_listed_peer(live.store, live.state.identity, FAR.public_key, "http://far.test", name="far")
    mine = await live.post(ME, "lunch, anyone?")
    reply = await live.post(ALICE, "yes please", parent=mine)
    await refuse(live, reply["id"])
    async with live.store.writer.transaction() as conn:
        await conn.execute("UPDATE receipts SET reason = 'it was spam'")
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        notes = app.main.query_one("#tl-notifications", Timeline)
        await until(pilot, lambda: bool(notice_text(notes, reply["id"])))
        told = notice_text(notes, reply["id"])
        assert UNVERIFIED in told and "spam" not in told and "withheld by" not in told
        timeline = await open_local(pilot, app)
        await until(
            pilot, lambda: any(isinstance(e, PostEntry) and e.message_id == reply["id"] for e in timeline.entries)
        )
        [entry] = [e for e in timeline.entries if isinstance(e, PostEntry) and e.message_id == reply["id"]]
        shown = entry.render().plain
        assert UNVERIFIED in shown and "spam" not in shown and "withheld by" not in shown


async def test_a_notice_kept_while_the_stream_was_down_shows_once_it_reconnects(
    live: LiveServer, tmp_path: Path
) -> None:
    """The TUI resumes the stream from its last event: a peer's notice kept while it was away comes then (its
    position is after that event), and the entry on screen says it without a refresh."""
    await add_listed_peer(live.store, live.state.identity, FAR.public_key, "http://far.test", name="far")
    held = await live.post(ALICE, "a post refused while the stream was down")
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        bar = app.main.query_one(StatusBar)

        def shown() -> str:
            found = [e for e in timeline.entries if isinstance(e, PostEntry) and e.message_id == held["id"]]
            return found[0].render().plain if found else ""

        await until(pilot, lambda: bool(shown()) and bar.online is True)
        await live.stop()
        await until(pilot, lambda: bar.online is False)
        await refuse(live, held["id"])
        await live.start()
        await until(pilot, lambda: EXPECTED in shown())
        assert shown().count("withheld by") == 1
