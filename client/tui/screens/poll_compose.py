"""Writing a poll: the question, its options (one a line), one or several choices, when it closes, and, from a
group's screen, that group (only its members' ballots count). The screen says before anything is sent that
ballots are open: each is signed, so anyone can see who voted what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from murmur.client.api import ServerUnreachable
from murmur.client.organising import closes_at
from murmur.client.tui.net import work
from murmur.client.tui.screens.compose import Publish
from murmur.client.tui.screens.poll import OPEN_BALLOTS
from murmur.errors import MurmurError, Refused
from murmur.kinds.poll import poll_draft
from murmur.terminal import visible_name

DEFAULT_CLOSES = "1d"


class PollComposeScreen(ModalScreen[dict[str, Any] | None]):
    """Dismissed with the server's answer once the poll is stored, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Create", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, publish: Publish, now: Callable[[], int], *, group: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.publish = publish
        self.now = now  # the clock the closing time is counted from
        self.group = group

    def compose(self) -> ComposeResult:
        where = f" in {visible_name(str(self.group.get('name') or ''), 40)}" if self.group else ""
        with Vertical(id="compose", classes="dialog wide"):
            yield Label(Content.styled(f"New poll{where}  (ctrl+s: create · esc: cancel)", "bold"))
            yield Label(Content.styled(OPEN_BALLOTS, "bold $warning"), id="open-ballots")
            if self.group:
                yield Label(Content("Only the group's members' ballots count."), classes="detail")
            yield Input(placeholder="The question", max_length=300, id="question")
            yield TextArea(id="options")
            yield Label(Content("Options above, one a line (2 to 10)."), classes="detail")
            with Horizontal(classes="buttons"):
                yield Checkbox("Several choices", id="multiple")
                yield Input(value=DEFAULT_CLOSES, placeholder="30m, 12h, 7d or a time", id="closes")
                yield Label(Content("closes in (30m, 12h, 7d) or at (2026-12-01T18:00Z)"), classes="detail")
            yield Static("", id="error")
            with Horizontal(classes="buttons"):
                yield Button("Create", variant="primary", id="send")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#question", Input).focus()

    def _error(self, text: str) -> None:
        self.query_one("#error", Static).update(Content.styled(text, "bold $error"))

    @on(Button.Pressed, "#send")
    def action_send(self) -> None:
        question = self.query_one("#question", Input).value.strip()
        options = [line.strip() for line in self.query_one("#options", TextArea).text.split("\n") if line.strip()]
        if not question:
            self._error("The poll has no question.")
            return
        try:
            closes = closes_at(self.query_one("#closes", Input).value, self.now(), "closes")
        except Refused as refusal:
            self._error(refusal.message)
            return
        multiple = self.query_one("#multiple", Checkbox).value
        group = str(self.group["id"]) if self.group else None
        self._send(poll_draft(question, options, closes_at=closes, multiple=multiple, group=group))

    @work(exclusive=True, group="send-poll")
    async def _send(self, draft: dict[str, Any]) -> None:
        self._error("")
        try:
            result = await self.publish(draft)
        except ServerUnreachable as exc:
            self._error(f"Not sent: {exc.message}")
        except MurmurError as exc:
            self._error(f"The server refused the poll: {exc.message}")
        else:
            self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
