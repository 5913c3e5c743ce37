"""A thread: the whole tree, indented, the post it was opened from highlighted."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from murmur.client.api import MurmurClient
from murmur.client.missing import absent_ids
from murmur.client.render import Context
from murmur.client.tui.bindings import PROFILE, bindings
from murmur.client.tui.events import NamesWanted
from murmur.client.tui.net import attempt, work
from murmur.client.tui.screens.base import MurmurScreen
from murmur.client.tui.widgets.entries import View
from murmur.client.tui.widgets.missing import MissingNote
from murmur.client.tui.widgets.postlist import PostList
from murmur.receipts import withheld_notes


def flatten(node: dict[str, Any], depth: int = 0) -> list[tuple[int, dict[str, Any]]]:
    """Depth-first, each post followed by its replies; a post this server does not hold keeps its place."""
    item = node.get("item") or {"missing": node.get("id", "")}
    rows = [(depth, item)]
    for child in node.get("children", []):
        rows.extend(flatten(child, depth + 1))
    return rows


class ThreadScreen(MurmurScreen):
    BINDINGS = bindings(PROFILE, only=("repair",))

    def __init__(self, api: MurmurClient, view: View, msg_id: str) -> None:
        super().__init__()
        self.api = api
        self.view = view
        self.msg_id = msg_id

    def compose(self) -> ComposeResult:
        yield self.title_line("Thread  (esc: back · R: reload for new replies)")
        yield Static("", id="thread-withheld")
        yield MissingNote(id="thread-missing")
        yield PostList(self.view, empty="Loading the thread…", id="thread")
        yield from self.chrome()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#thread-withheld", Static).display = False
        self.query_one(PostList).focus()
        self.reload()

    def holds(self, msg_id: str) -> bool:
        """Whether this screen is the thread of ``msg_id`` (opened from it, or showing it)."""
        return msg_id == self.msg_id or self._position(msg_id) is not None

    def focus_post(self, msg_id: str) -> None:
        position = self._position(msg_id)
        if position is not None:
            self.query_one(PostList).highlight(position)

    def shows(self, msg_id: str) -> bool:
        return self._position(msg_id) is not None

    def _position(self, msg_id: str) -> int | None:
        entries = self.query_one(PostList).entries
        return next((i for i, e in enumerate(entries) if (e.item.get("message") or {}).get("id") == msg_id), None)

    @work(exclusive=True, group="thread")
    async def reload(self) -> None:
        found = await attempt(self, self.api.thread(self.msg_id))
        if found is None:
            return
        posts = self.query_one(PostList)
        posts.show(flatten(found["root"]), focus_id=self.msg_id)
        self._withheld(found)
        self.query_one(MissingNote).show(found, Context.of(found).names, absent=absent_ids(found["root"]))
        self._names(posts)

    def action_repair(self) -> None:
        self.query_one(MissingNote).ask(self.api)

    def on_missing_note_repaired(self, event: MissingNote.Repaired) -> None:
        self.reload()

    def _withheld(self, found: dict[str, Any]) -> None:
        """What peers refused of this thread, signed, and why: said above it, never left as silence."""
        ctx = Context.of(found)
        lines = [f"{i[:12]}: {note}" for i, held in ctx.withheld.items() for note in withheld_notes(i, held)]
        widget = self.query_one("#thread-withheld", Static)
        widget.update(Content.styled("\n".join(lines), "$warning") if lines else Content(""))
        widget.display = bool(lines)

    def _names(self, posts: PostList) -> None:
        wanted = posts.wanted_names()
        if wanted:
            self.post_message(NamesWanted(wanted))
