"""The passphrase a sealed message store asks for (docs/encryption.md §9, "The device's store"): a modal with a
hidden input that stays up, saying why, until the store opens or the person gives up with escape."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from murmur.errors import StoreError
from murmur.terminal import one_line

T = TypeVar("T")


class PassphraseScreen(ModalScreen[T | None], Generic[T]):
    """Asks for a passphrase and hands it to ``unlock`` (in a thread: deriving the key takes a moment); dismissed
    with what ``unlock`` returned, or None on escape. A refusal (a wrong passphrase) is shown and asked again."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, unlock: Callable[[str], T]) -> None:
        super().__init__()
        self.question = question
        self.unlock = unlock

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content.styled(one_line(self.question, 200), "bold"))
            yield Input(password=True, placeholder="passphrase", id="passphrase")
            yield Label("", id="refused", classes="detail")

    @on(Input.Submitted)
    async def _submitted(self, event: Input.Submitted) -> None:
        typed = event.value
        event.input.value = ""
        refused = self.query_one("#refused", Label)
        if not typed:
            refused.update(Content("A passphrase cannot be empty."))
            return
        event.input.disabled = True
        refused.update(Content("Opening…"))
        try:
            opened = await asyncio.to_thread(self.unlock, typed)
        except StoreError as exc:
            refused.update(Content(one_line(exc.message, 300)))
            event.input.disabled = False
            event.input.focus()
            return
        self.dismiss(opened)
