"""The footer shows the keys of what has the focus, and is rebuilt only when those keys change (a rebuild mounts
and styles every key again: five of them came before the first paint, docs/performance.md, tui_first_paint_s)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets._footer import FooterKey

from murmur.client.tui.widgets.footer import KeysFooter
from tests.tui.conftest import LiveServer, make_app, until


async def test_the_footer_follows_the_focus_and_keeps_its_keys_while_they_stay(
    live: LiveServer, tmp_path: Path
) -> None:
    app = make_app(live, tmp_path, live=False)
    async with app.run_test() as pilot:
        footer = app.main.query_one(KeysFooter)

        def actions() -> set[str]:
            return {key.action for key in footer.query(FooterKey)}

        await until(pilot, lambda: "reply" in actions())
        await pilot.press("6")  # the Groups tab: its list has the focus, and a post's keys are not shown
        await until(pilot, lambda: "reply" not in actions() and "quit" in actions())

        shown = list(footer.children)
        app.main.refresh_bindings()  # the same bindings again: the keys on screen stay as they are
        await pilot.pause()
        await pilot.pause()  # the footer looks at them after the next refresh
        assert list(footer.children) == shown and all(key.is_attached for key in shown)

        await pilot.press("1")
        await until(pilot, lambda: "reply" in actions())
