"""The help screen: every key binding in force, with the person's overrides applied, by area."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from murmur.client.tui.bindings import keys_in_force


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss(None)", "Close")]

    def __init__(self, keymap: dict[str, str]) -> None:
        super().__init__()
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        rows = keys_in_force(self.keymap)
        with VerticalScroll(id="help"):
            yield Label(Content.styled("murmur: keys in force", "bold"), classes="screen-title")
            area = None
            lines: list[Content] = []
            for where, name, keys, description in rows:
                if where != area:
                    if lines:
                        lines.append(Content(""))
                    lines.append(Content.styled(where, "bold $accent"))
                    area = where
                changed = " (yours)" if name in self.keymap else ""
                lines.append(
                    Content.assemble(
                        (f"  {keys:<18}", "bold"), f"{description:<36}", (f"{name}{changed}", "$text-muted")
                    )
                )
            yield Static(Content("\n").join(lines), id="help-table")
            yield Label(
                Content.styled(
                    "Mouse: click a post to select it, double-click to open it. Rebind keys in config.toml: "
                    '[profiles.NAME] keys = { reply = "a" }.  esc closes.',
                    "$text-muted",
                )
            )
