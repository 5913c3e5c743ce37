"""Which peers confirmed a delete (``GET /api/v1/deletes/{id}``): shown when a post is deleted here.

Peers answer when the delete reaches them (in their push answer, or on their next request if they pull), so the
screen asks again on R. Peer names and reasons come from other servers: ``delete_status_lines`` makes them inert.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from murmur.client.api import MurmurClient
from murmur.client.audience import delete_status_lines
from murmur.client.tui.net import attempt, landing, work


class DeleteStatusScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss(None)", "Close"),
        Binding("R,ctrl+r", "load", "Ask again"),
    ]

    def __init__(self, api: MurmurClient, target_id: str) -> None:
        super().__init__()
        self.api = api
        self.target_id = target_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="delete-status"):
            yield Label(Content.styled("Deleted. Which peers confirmed it  (R: ask again · esc: close)", "bold"))
            yield VerticalScroll(Static(Content.styled("Asking…", "$text-muted"), id="delete-peers"))

    def on_mount(self) -> None:
        self.load()

    def action_load(self) -> None:
        self.load()

    @work(exclusive=True, group="delete-status")
    async def load(self) -> None:
        answer = await attempt(self, self.api.delete_status(self.target_id))
        peers = landing(self, "#delete-peers", Static)  # None once the screen was closed while asking
        if answer is not None and peers is not None:
            peers.update(Content("\n".join(delete_status_lines(answer))))
