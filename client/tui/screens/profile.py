"""A person: name, bio, key fingerprint, home server, follow state, and their posts (paged)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from murmur.client.api import MurmurClient, PageCursor
from murmur.client.tui import present
from murmur.client.tui.bindings import PROFILE, bindings
from murmur.client.tui.drafts import follow_draft, publish
from murmur.client.tui.events import NamesWanted
from murmur.client.tui.net import attempt, work
from murmur.client.tui.screens.base import MurmurScreen
from murmur.client.tui.widgets.entries import View
from murmur.client.tui.widgets.missing import MissingNote
from murmur.client.tui.widgets.timeline import Timeline


def author_fetch(api: MurmurClient, key: str) -> Any:
    async def fetch(before: PageCursor | None, limit: int) -> dict[str, Any]:
        return await api.timeline(f"@{key}", limit=limit, before=before)

    return fetch


class ProfileScreen(MurmurScreen):
    BINDINGS = bindings(PROFILE)

    def __init__(self, api: MurmurClient, view: View, key: str, *, server: str, page_size: int = 40) -> None:
        super().__init__()
        self.api = api
        self.view = view
        self.key = key
        self.server = server
        self.page_size = page_size
        self.profile: dict[str, Any] | None = None

    @property
    def mine(self) -> bool:
        return self.key == self.api.identity.public_key

    def compose(self) -> ComposeResult:
        yield self.title_line("Your profile  (esc: back)" if self.mine else "Profile  (f: follow/unfollow · esc: back)")
        yield Static(Content.styled("Loading the profile…", "$text-muted"), id="profile-head")
        yield MissingNote(id="profile-missing")
        yield Timeline(
            self.view, f"@{self.key}", author_fetch(self.api, self.key), page_size=self.page_size, id="profile-posts"
        )
        yield from self.chrome()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(Timeline).focus()
        self.reload()

    def reload(self) -> None:
        self.load_profile()
        self.query_one(Timeline).refresh_top()

    @work(exclusive=True, group="profile")
    async def load_profile(self) -> None:
        found = await attempt(self, self.api.profile(self.key))
        if found is None:
            return
        self.profile = found
        if found.get("name"):
            self.view.names[self.key] = str(found["name"])
        if found.get("name_shared"):
            self.view.shared.add(self.key)
        else:
            self.view.shared.discard(self.key)
        self.query_one("#profile-head", Static).update(present.profile_content(found, self.server, mine=self.mine))
        self.query_one(MissingNote).show(found, {}, str(found.get("name") or ""))
        self.query_one(Timeline).refresh()
        self.post_message(NamesWanted(set()))  # redraw entries that now have this name

    def action_repair(self) -> None:
        self.query_one(MissingNote).ask(self.api)

    def on_missing_note_repaired(self, event: MissingNote.Repaired) -> None:
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # One cannot follow oneself: the footer does not offer it on one's own profile.
        return not (action == "follow" and self.mine)

    def action_follow(self) -> None:
        if self.mine:  # reached from the command palette, which does not ask check_action
            self.notify("This is your own profile.", severity="warning")
            return
        if self.profile is None:
            return
        self._toggle_follow(not bool(self.profile.get("following")))

    @work(exclusive=True, group="follow")
    async def _toggle_follow(self, follow: bool) -> None:
        result = await attempt(self, publish(self.api, self.api.identity, follow_draft(self.key, follow=follow)))
        if result is not None:
            self.notify("Following." if follow else "Unfollowed.")
            self.load_profile()
