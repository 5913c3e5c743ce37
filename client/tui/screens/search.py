"""Search: posts (full text) and people (names and bios), in one list; enter opens either."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Input, Label

from murmur.client.api import MurmurClient
from murmur.client.identity_check import checked_people
from murmur.client.render import page_items
from murmur.client.tui.events import NamesWanted
from murmur.client.tui.net import attempt, work
from murmur.client.tui.screens.base import MurmurScreen
from murmur.client.tui.widgets.entries import View
from murmur.client.tui.widgets.postlist import PostList


class SearchScreen(MurmurScreen):
    def __init__(self, api: MurmurClient, view: View, query: str = "") -> None:
        super().__init__()
        self.api = api
        self.view = view
        self.query_text = query

    def compose(self) -> ComposeResult:
        yield self.title_line("Search posts and people  (enter: search · tab: to results · esc: back)")
        yield Input(value=self.query_text, placeholder="words, #hashtag, a name…", id="search-input")
        yield Label("", id="search-summary")
        yield PostList(self.view, empty="Type a query and press enter.", id="results")
        yield from self.chrome()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#search-input", Input).focus()
        self.query_one(PostList).show([])
        if self.query_text:
            self.run_search(self.query_text)

    def focus_query(self) -> None:
        """Asked for again: back to the query, selected, so typing replaces it and enter searches again."""
        field = self.query_one("#search-input", Input)
        field.focus()
        field.select_all()

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.run_search(event.value.strip())

    def reload(self) -> None:
        query = self.query_one("#search-input", Input).value.strip()
        if query:
            self.run_search(query)

    async def _search(self, query: str) -> dict[str, Any]:
        """The server's answer, each person found with whose identity they are as its signed log says here."""
        found: dict[str, Any] = await self.api.search(query)
        return {**found, "people": await checked_people(self.api, found.get("people"))}

    @work(exclusive=True, group="search")
    async def run_search(self, query: str) -> None:
        found = await attempt(self, self._search(query[:200]))
        if found is None:
            return
        people, posts = found["people"], page_items(found, "posts")
        self.view.shared.update(str(key) for key in found.get("shared_names") or [])
        summary = f"{len(people)} people · {len(posts)} posts"
        self.query_one("#search-summary", Label).update(Content.styled(summary, "$text-muted"))
        results = self.query_one(PostList)
        results.empty_text = "Nothing found."
        results.show([*people, *posts])
        results.focus()
        wanted = {p["message"]["author"] for p in posts if p.get("verified")} - set(self.view.names)
        if wanted:
            self.post_message(NamesWanted(wanted))
