"""A timeline entry says what a peer withheld of its post and why, from the server's signed notice, under the
author line; the name and reason a peer sends are drawn as text, never as markup or terminal controls."""

from __future__ import annotations

from pathlib import Path

from murmur.client.tui.widgets.entries import PostEntry
from murmur.keys import Identity
from murmur.receipts import signed
from murmur.store import receipts
from murmur.store.peers import add_peer
from tests.tui.conftest import ALICE, LiveServer, make_app, until
from tests.tui.test_pilot import open_local

SIZE = (110, 40)
NAME = "[bold red]far[/]"
REASON = "[link='http://evil.test']no lunch[/link] $warning \x1b[2J"


async def test_a_timeline_entry_says_what_a_peer_withheld(live: LiveServer, tmp_path: Path) -> None:
    far = Identity.from_seed(b"\x25" * 32)
    await add_peer(live.store, far.public_key, "http://far.test", name=NAME, mode="serve-only")
    held = await live.post(ALICE, "a post the far server would not take")
    free = await live.post(ALICE, "a post nobody refused")
    answer = {"id": held["id"], "status": "refused", "code": "policy", "reason": REASON}
    assert await receipts.note(live.store, far.public_key, {held["id"]}, [signed(far, answer)]) == 1
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)

        def entries() -> dict[str | None, PostEntry]:
            return {e.message_id: e for e in timeline.entries if isinstance(e, PostEntry)}

        await until(pilot, lambda: {held["id"], free["id"]} <= set(entries()))
        shown = entries()[held["id"]].render()
        lines = shown.plain.splitlines()
        expected = f"⊘ withheld by {NAME} ({far.public_key[:16]}): [link='http://evil.test']no lunch[/link] $warning"
        assert lines[1].startswith(expected)  # right under the author line, the peer's words as they came
        assert "\x1b" not in shown.plain
        assert not any(span.style and "link" in str(span.style) for span in shown.spans)
        assert "withheld by" not in entries()[free["id"]].render().plain
