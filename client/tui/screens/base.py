"""What every full screen shares: a title line, the status line and the footer; escape goes back."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Label

from murmur.client.tui.widgets.footer import KeysFooter
from murmur.client.tui.widgets.status import StatusBar


class MurmurScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", id="back", show=False)]

    def title_line(self, text: Content | str) -> Label:
        return Label(text if isinstance(text, Content) else Content.styled(text, "bold"), classes="screen-title")

    def chrome(self) -> ComposeResult:
        settings: Any = getattr(self.app, "settings", None)
        yield StatusBar(getattr(settings, "profile", "?"), getattr(settings, "server", "?"))
        yield KeysFooter()

    def on_mount(self) -> None:
        # Attributes down: a new screen's status line starts from the app's current connection state.
        state = getattr(self.app, "connection", None)
        if state is not None:
            for bar in self.query(StatusBar):
                bar.online, bar.detail = state

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def reload(self) -> None:
        """Fetch this screen's contents again (R / ctrl+r)."""
