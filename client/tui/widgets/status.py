"""The status line: which profile and server are in use, and whether the server can be reached."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from murmur.terminal import one_line


class StatusBar(Static):
    """Set ``online`` and ``detail`` from outside; the bar only draws them."""

    online: reactive[bool | None] = reactive(None)
    """None until the first answer from the server."""
    detail: reactive[str] = reactive("")

    def __init__(self, profile: str, server: str) -> None:
        super().__init__()
        self.profile = profile
        self.server = server

    def render(self) -> Content:
        if self.online is None:
            state: tuple[str, str] = ("… connecting", "$text-muted")
        elif self.online:
            state = ("● online", "$success")
        else:
            state = ("○ offline", "bold $error")
        parts: list[tuple[str, str] | str] = [
            ("profile ", "$text-muted"),
            (one_line(self.profile, 32), "bold"),
            ("  server ", "$text-muted"),
            (one_line(self.server, 60), "bold"),
            "  ",
            state,
        ]
        if self.detail:
            parts += [("  ", ""), (one_line(self.detail, 120), "$text-muted")]
        self.set_class(self.online is False, "-offline")
        return Content.assemble(*parts)
