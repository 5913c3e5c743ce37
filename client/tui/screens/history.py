"""Every version of an edited post, oldest first: the post as first written, then each edit, with its time.

Each version is checked here against the post and its author (``murmur.client.versions``) before it is shown;
what another person wrote goes through ``present`` and stays inert.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from murmur.client.api import MurmurClient
from murmur.client.tui import present
from murmur.client.tui.net import attempt, work
from murmur.client.tui.widgets.entries import View
from murmur.client.versions import version_rows
from murmur.text import ago


def version_content(number: int, row: dict[str, Any], names: dict[str, str], now_ms: int) -> Content:
    """One version: which it is and when, then its content warning and text, unfolded."""
    what = "original" if number == 0 else f"edit {number}"
    head = Content.assemble((what, "bold"), (f" · {ago(row['created_at'], now_ms)} · {row['id'][:12]}", present.DIM))
    body = {"text": row["text"], "cw": row.get("cw", "")}
    return Content("\n").join([head, *present.text_lines(body, names, cw_open=True, expanded=True)])


class HistoryScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,H", "dismiss(None)", "Close")]

    def __init__(self, api: MurmurClient, view: View, post_id: str) -> None:
        super().__init__()
        self.api = api
        self.view = view
        self.post_id = post_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="history"):
            yield Label(Content.styled("Every version, oldest first  (esc: close)", "bold"))
            yield VerticalScroll(Static("Loading…"), id="versions")

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="history")
    async def load(self) -> None:
        answer = await attempt(self, self.api.history(self.post_id))
        if answer is None:
            return
        rows = version_rows(answer, self.post_id, self.api.proven_edits)
        box = self.query_one("#versions", VerticalScroll)
        await box.remove_children()
        if not rows:
            await box.mount(Static(Content.styled("The server's versions of this post do not check out.", "$error")))
            return
        now = self.view.clock()
        await box.mount_all(
            Static(version_content(n, row, self.view.names, now), classes="version") for n, row in enumerate(rows)
        )
