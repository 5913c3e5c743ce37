"""The compose screen shows who will receive a post, grouped by label with outside servers flagged, from the
same answer the server computes for delivery; it offers the peers' labels as audiences and signs the one chosen;
a reply signs its thread's audience. A thread says what a peer withheld of it, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Select, Static, TextArea

from murmur.client.tui.app import MurmurApp
from murmur.client.tui.screens.compose import ComposeScreen
from murmur.client.tui.screens.main import MainScreen
from murmur.keys import Identity
from murmur.store import trust
from tests.listed import add_listed_peer
from tests.tui.conftest import LiveServer, make_app, until

SIZE = (110, 40)
INSIDE = Identity.from_seed(b"\x21" * 32).public_key
OUTSIDE = Identity.from_seed(b"\x22" * 32).public_key
BARE = Identity.from_seed(b"\x23" * 32).public_key


async def _peers(live: LiveServer) -> None:
    for key, name, labels in ((INSIDE, "lab", ["inside", "team"]), (OUTSIDE, "far", ["outside"]), (BARE, "odd", [])):
        await add_listed_peer(live.store, live.state.identity, key, f"http://{name}.test", name=name)
        await trust.set_labels(live.store, live.state.identity, key, labels)


def _preview(screen: ComposeScreen) -> str:
    return str(screen.query_one("#audience-preview", Static).render())


async def test_compose_previews_by_label_flags_outside_and_signs_the_scope(live: LiveServer, tmp_path: Path) -> None:
    await _peers(live)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        await until(pilot, lambda: "3 server(s)" in _preview(screen))
        shown = _preview(screen)
        assert f"inside: lab ({INSIDE[:16]})" in shown
        assert f"(no label): odd ({BARE[:16]})" in shown
        assert "OUTSIDE: 2 server(s)" in shown and f"far ({OUTSIDE[:16]})" in shown
        choice = screen.query_one("#visibility", Select)
        await until(pilot, lambda: screen.labels_offered == ["inside", "outside", "team"])
        choice.value = "scope:inside"
        await until(pilot, lambda: "1 server(s)" in _preview(screen))
        assert "OUTSIDE" not in _preview(screen) and "Audience: scope:inside" in _preview(screen)
        screen.query_one("#text", TextArea).text = "inside only"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        [post] = await live.messages("post")
        assert post["body"]["visibility"] == "scope:inside"
        # delivery asks the same rule: exactly the previewed server may have it
        assert {r.key for r in await trust.recipients(live.store, "scope:inside", [])} == {INSIDE}


def test_a_reply_signs_its_threads_audience_unless_a_narrower_one_is_chosen() -> None:
    from murmur.client.audience import narrowed

    assert narrowed("public", "public") == "public"
    assert narrowed("public", "scope:inside") == "scope:inside"
    assert narrowed("public", "scope:inside+scope:team") == "scope:inside"
    assert narrowed("scope:team", "local") == "local"
    assert narrowed("local", "scope:inside") == "local"
    # a scope the author chose is theirs: servers narrow it by the thread, never widen it to the thread's first
    assert narrowed("scope:team", "scope:inside+scope:team") == "scope:team"
    assert narrowed("scope:team", "scope:team") == "scope:team"


async def test_a_thread_says_what_a_peer_withheld_and_why(live: LiveServer, tmp_path: Path) -> None:
    from murmur.client.tui.screens.thread import ThreadScreen
    from murmur.receipts import signed
    from murmur.store import receipts
    from tests.tui.conftest import ALICE

    far = Identity.from_seed(b"\x24" * 32)
    await add_listed_peer(live.store, live.state.identity, far.public_key, "http://far.test", name="far")
    root = await live.post(ALICE, "a post the far server would not take")
    answer = {"id": root["id"], "status": "refused", "code": "policy", "reason": "no posts about lunch here"}
    assert await receipts.note(live.store, far.public_key, {root["id"]}, [signed(far, answer)]) == 1
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.controller.open_thread(root["id"])
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and bool(app.screen.query("#thread-withheld")))
        shown = app.screen.query_one("#thread-withheld", Static)
        await until(pilot, lambda: bool(shown.display))
        text = str(shown.render())
        assert f"withheld by far ({far.public_key[:16]}): no posts about lunch here" in text


async def _reply_to_newest(pilot: Any, app: MurmurApp) -> ComposeScreen:
    """Open the local timeline and answer its newest post: the compose screen."""
    from tests.tui.test_pilot import open_local

    await open_local(pilot, app)
    await pilot.press("r")
    assert isinstance(app.screen, ComposeScreen)
    return app.screen


async def test_a_reply_is_previewed_as_it_is_signed(live: LiveServer, tmp_path: Path) -> None:
    """A reply to an older client's public-signed reply in a thread whose scoped post was deleted here: signed
    ``public`` it would reach no peer (nothing carries its narrowing), but it is signed with the thread's audience,
    so it reaches the inside server, and the preview says so: it asks the rule of what is signed."""
    from murmur.message import sign_draft
    from murmur.store import receipts
    from tests.tui.conftest import ALICE, BOB, NOW

    await _peers(live)
    scoped = await live.post(BOB, "inside only", visibility="scope:inside")
    body = {"text": "an older client's answer", "visibility": "public"}
    tags = [["reply", scoped["id"]], ["root", scoped["id"]]]
    older = sign_draft(ALICE, {"kind": "post", "body": body, "tags": tags}, created_at=NOW - 50_000)
    await live.ingest(older)
    await live.sign(BOB, {"kind": "delete", "body": {"visibility": "scope:inside"}, "tags": [["target", scoped["id"]]]})
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _reply_to_newest(pilot, app)
        await until(pilot, lambda: "server(s)" in _preview(screen))
        assert "Audience: scope:inside; 1 server(s)" in _preview(screen) and f"lab ({INSIDE[:16]})" in _preview(screen)
        screen.query_one("#text", TextArea).text = "and mine"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
    [reply] = [p for p in await live.messages("post") if p["body"].get("text") == "and mine"]
    assert reply["body"]["visibility"] == "scope:inside"
    assert [key for key, _ in await receipts.owed(live.store, reply["id"])] == [INSIDE]  # delivery's own rule


async def test_a_reply_held_back_from_peers_says_why(live: LiveServer, tmp_path: Path) -> None:
    """A thread in two scopes (a post to ``team`` answering one to ``inside``) whose root was deleted here: a reply
    can sign only one scope, so it leans on the root for the other, and goes only to the peers that confirmed
    the root. The server says so (``held_back``), and the TUI tells the author."""
    from tests.tui.conftest import BOB

    await _peers(live)
    root = await live.post(BOB, "inside only", visibility="scope:inside")
    await live.post(BOB, "team only", visibility="scope:team", parent=root)
    await live.sign(BOB, {"kind": "delete", "body": {"visibility": "scope:inside"}, "tags": [["target", root["id"]]]})
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _reply_to_newest(pilot, app)
        await until(pilot, lambda: "scope:inside+scope:team" in _preview(screen))
        assert "0 server(s)" in _preview(screen)  # what then happens: nobody confirmed the root
        screen.query_one("#text", TextArea).text = "and mine"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("Held back from peers" in str(n.message) for n in app._notifications))
        [note] = [str(n.message) for n in app._notifications if "Held back" in str(n.message)]
        assert "'inside'" in note and "no longer holds" in note
