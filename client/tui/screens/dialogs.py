"""Small dialogs: confirm, pick a reaction, ask for a line of text, raw JSON, the links of a post."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from murmur.client.tui import present
from murmur.keys import fingerprint
from murmur.terminal import one_line

REACTIONS = ("👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "🙏")


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; y or enter confirms, n or escape declines."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content.styled(self.question, "bold"))
            if self.detail:
                yield Label(Content(one_line(self.detail, 200)), classes="detail")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ReactionPicker(ModalScreen[str | None]):
    """Pick an emoji with the arrows and enter, its number, or the mouse."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")] + [
        Binding(str(i + 1), f"pick({i})", show=False) for i in range(len(REACTIONS))
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content.styled("React with", "bold"))
            yield OptionList(*[Option(f"{i + 1}  {emoji}", id=str(i)) for i, emoji in enumerate(REACTIONS)])

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def action_pick(self, index: int) -> None:
        self.dismiss(REACTIONS[index])

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(REACTIONS[int(event.option.id or 0)])


class PromptScreen(ModalScreen[str | None]):
    """One line of text (a hashtag or a key to open as a tab)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.question, "bold"))  # wraps: a long question is read whole, not cut
            yield Input(placeholder=self.placeholder)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class RawScreen(ModalScreen[None]):
    """The signed message exactly as received, as JSON with every non-ASCII character escaped."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,v", "dismiss(None)", "Close")]

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__()
        self.item = item

    def compose(self) -> ComposeResult:
        # ensure_ascii: escapes, bidi overrides and look-alikes show as \\uXXXX, never act on the terminal.
        text = json.dumps(self.item.get("message"), indent=2, ensure_ascii=True, sort_keys=True)
        verdict = "signature and id verified here" if self.item.get("verified") else "FAILED verification here"
        message = self.item.get("message") or {}
        identity = present.tag_value(message, "identity")
        signer = f"  signed by device {fingerprint(str(message.get('author')))}" if identity else ""
        with Vertical(classes="dialog wide"):
            yield Label(Content.assemble(("Raw signed message", "bold"), (f"  ({verdict}){signer}", "$text-muted")))
            yield TextArea(text, read_only=True, id="raw")
            yield Label(Content.styled("select and ctrl+c to copy · esc to close", "$text-muted"))


class LinksScreen(ModalScreen[str | None]):
    """The links in a post; enter opens one in the browser (dismissed with the URL)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("y", "copy", "Copy link"),
    ]

    def __init__(self, links: list[str]) -> None:
        super().__init__()
        self.links = links

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(Content.styled("Links in this post (enter: open, y: copy)", "bold"))
            yield OptionList(*[Option(Content(one_line(url, 200)), id=str(i)) for i, url in enumerate(self.links)])

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.links[int(event.option.id or 0)])

    def action_copy(self) -> None:
        highlighted = self.query_one(OptionList).highlighted
        if highlighted is not None:
            self.app.copy_to_clipboard(self.links[highlighted])
            self.notify("Copied the link.")
