"""The TUI's small dialogs read whole at any terminal width."""

from __future__ import annotations

from textual.app import App

from murmur.client.tui.direct import ASK_WHO
from murmur.client.tui.screens.dialogs import PromptScreen


async def test_a_long_prompt_is_read_whole_in_a_narrow_terminal() -> None:
    app: App[None] = App()
    async with app.run_test(size=(60, 20)) as pilot:
        await app.push_screen(PromptScreen(ASK_WHO, "@ada"))
        await pilot.pause()
        shown = app.export_screenshot().replace("&#160;", " ")
    last_word = ASK_WHO.split()[-1].strip("().,:")
    assert last_word in shown  # wrapped onto a second line, not cut at the dialog's edge
