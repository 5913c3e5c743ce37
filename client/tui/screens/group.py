"""A group: its description and rules, my place in it, its pinned announcements, its meetups, its timeline and its
members.

J joins (or asks to), X leaves, M shows the members; n writes a post in the group. Its timeline holds its posts,
polls and meetups (enter opens a poll or a meetup). A moderator hides the highlighted entry (h, with a reason) or
pins it (P). Its meetups (of the newest the server holds) are also listed above its timeline; tab moves there,
enter opens one. Hidden entries stay in the timeline, folded, saying who hid them and why (c unfolds one).

A private group (``join`` is ``invite``) shows its sealed messages as this device read them instead of the
server's timeline (``PrivateMessages``); n writes, r replies and l reacts there, sealed for its members. J is not
offered there: people come in by a moderator's invitation (``murmur group invite``), which seals them the group's
new key. X is: a member leaves a private group as any other, and its moderators' next sync seals a new key to the
members left (``PrivateGroups._renew``).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from murmur.client.api import MurmurClient, PageCursor
from murmur.client.group_authority import is_private
from murmur.client.kinds import card, group_facts, is_entry
from murmur.client.tui import present
from murmur.client.tui.bindings import GROUP, bindings
from murmur.client.tui.drafts import publish
from murmur.client.tui.events import NamesWanted
from murmur.client.tui.net import attempt, work
from murmur.client.tui.screens.base import MurmurScreen
from murmur.client.tui.screens.dialogs import PromptScreen
from murmur.client.tui.widgets.entries import View
from murmur.client.tui.widgets.meetups import MeetupList
from murmur.client.tui.widgets.private_group import PrivateMessages, Source
from murmur.client.tui.widgets.timeline import Fetch, Timeline
from murmur.client.versions import shown_body
from murmur.kinds.group_drafts import about_post_draft, membership_draft
from murmur.terminal import inert, one_line, visible_name

DIM = "$text-muted"
PLACES = {
    "owner": "you own this group",
    "moderator": "you moderate this group",
    "member": "you are a member",
    "pending": "you asked to join; a moderator will approve",
    "removed": "a moderator removed you",
}
OUTSIDE = "you are not a member (J: join)"
INVITED_ONLY = "you are not a member (a moderator invites)"
PRIVATE_TITLE = "Private group  (n: write · r: reply · l: react · M: members · esc: back)"
SEALED_ONLY = "Private messages are sealed for the members: no one can hide or pin them."


def group_fetch(api: MurmurClient, group_id: str) -> Fetch:
    async def fetch(before: PageCursor | None, limit: int) -> dict[str, Any]:
        return await api.timeline(f"group:{group_id}", limit=limit, before=before)

    return fetch


def place(group: dict[str, Any]) -> str:
    you = group.get("you") or {}
    status = str(you.get("status") or "none")
    found = PLACES.get(str(you.get("role") or "member") if status == "member" else status)
    return found or (INVITED_ONLY if group.get("join") == "invite" else OUTSIDE)


def head_content(group: dict[str, Any], names: dict[str, str], now_ms: int = 0) -> Content:
    """Name, description, rules, how to join, owner and moderators, my place in it, the pinned entries (by the
    reader's clock ``now_ms``: a pinned poll's or meetup's card)."""
    owner = present.author_parts(str(group["owner"]), names)
    lines = [
        Content.assemble((visible_name(str(group["name"]), 80), "bold $accent"), (f"  {group['id'][:12]}", DIM)),
    ]
    if group.get("description"):
        lines.append(Content(inert(str(group["description"]))))
    if group.get("rules"):
        lines.append(Content.assemble(("rules: ", "bold"), inert(str(group["rules"]))))
    lines.append(Content.assemble((f"{group_facts(group)} · owner ", DIM), *owner))
    lines.append(Content.styled(place(group), "$success"))
    for item in group.get("pinned") or []:
        message = item.get("message") or {}
        if item.get("verified") and not item.get("hidden"):
            lines.append(
                Content.assemble(
                    ("📌 ", "bold"), *present.author_parts(message["author"], names), f": {pinned_line(item, now_ms)}"
                )
            )
    return Content("\n").join(lines)


def pinned_line(item: dict[str, Any], now_ms: int = 0) -> str:
    """A pinned post on one line as it reads now (its newest edit: a pin is of the post, not of a version), and
    under its content warning only the warning, as everywhere a post is shown folded; a pinned poll or meetup by
    its card's first line (``Poll: QUESTION``)."""
    if (lines := card(item.get("message") or {}, now_ms)) is not None:
        return lines[0]
    body = shown_body(item)
    if body.get("cw"):
        return f"CW: {one_line(str(body['cw']), 150)} (folded: open it in the timeline)"
    return one_line(str(body.get("text", "")), 160)


def members_content(people: dict[str, Any], names: dict[str, str]) -> Content:
    """The members with their roles, then the requests waiting for approval and the people removed."""
    lines = [Content.styled("Members (M: hide)", "bold")]
    rows = [(str(p.get("role")), p) for p in people["members"]]
    rows += [("pending", p) for p in people["pending"]] + [("removed", p) for p in people["removed"]]
    for what, person in rows:
        lines.append(Content.assemble((f"{what:10}", DIM), *present.author_parts(str(person["key"]), names)))
    return Content("\n").join(lines)


PUBLIC_ONLY = ("join_group",)
"""Actions a private group's screen neither shows nor runs (the module's docstring says why)."""


class GroupScreen(MurmurScreen):
    BINDINGS = bindings(GROUP, only=("join_group", "leave_group", "members", "hide_post", "pin_post"))

    def __init__(
        self, api: MurmurClient, view: View, group_id: str, *, page_size: int = 40, private: Source | None = None
    ) -> None:
        """``private``: where a private group's messages come from (this device's private groups)."""
        super().__init__()
        self.private = private
        self.is_private = False  # known once the group is read
        self.api = api
        self.view = view
        self.group_id = group_id
        self.page_size = page_size
        self.group: dict[str, Any] | None = None
        self.members: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield self.title_line("Group  (J: join · X: leave · M: members · n: post here · esc: back)")
        yield Static(Content.styled("Loading the group…", DIM), id="group-head")
        yield Static("", id="group-members")
        yield MeetupList(self.view, empty="No meetups in this group yet.", id="group-meetups")
        timeline = Timeline(
            self.view,
            f"group:{self.group_id}",
            group_fetch(self.api, self.group_id),
            page_size=self.page_size,
            id="group-posts",
        )
        timeline.empty_text = "No posts in this group yet. Press n to write the first."
        yield timeline
        yield PrivateMessages(self.private, self.view, id="group-private")
        yield from self.chrome()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#group-members", Static).display = False
        self.query_one(PrivateMessages).display = False
        self.query_one(Timeline).focus()
        self.reload()

    def reload(self) -> None:
        self.load_group()
        if self.is_private:
            self.query_one(PrivateMessages).reload()
            return
        self.load_meetups()
        self.query_one(Timeline).refresh_top()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.is_private and action in PUBLIC_ONLY)

    def _go_private(self) -> None:
        """The group is private: its sealed messages, read here, take the timeline's place."""
        self.is_private = True
        self.refresh_bindings()  # the footer drops what check_action now refuses
        self.query_one(".screen-title", Static).update(Content.styled(PRIVATE_TITLE, "bold"))
        for widget in (self.query_one(Timeline), self.query_one(MeetupList)):
            widget.display = False
        pane = self.query_one(PrivateMessages)
        pane.group, pane.display = self.group, True
        pane.list.focus()
        pane.reload()

    @work(exclusive=True, group="group-meetups")
    async def load_meetups(self) -> None:
        found = await attempt(self, self.api.meetups())
        if found is not None:
            self.query_one(MeetupList).show([m for m in found if m.get("group") == self.group_id])

    @property
    def you(self) -> dict[str, Any]:
        return (self.group or {}).get("you") or {}

    @property
    def moderates(self) -> bool:
        return self.you.get("status") == "member" and self.you.get("role") in ("owner", "moderator")

    @work(exclusive=True, group="group")
    async def load_group(self) -> None:
        found = await attempt(self, self.api.group(self.group_id))
        if found is None:
            return
        # known before the group is (n reads both): what n writes in a private group is sealed, never published
        private = not self.is_private and (found.get("join") == "invite" or await self._signed_private())
        self.group = found
        self._draw()
        if private:
            self._go_private()
        keys = {str(found["owner"]), *(str(k) for k in found.get("moderators") or [])}
        keys |= {str(i["message"]["author"]) for i in found.get("pinned") or [] if i.get("verified")}
        self.post_message(NamesWanted(keys))
        if self.members is not None:
            self.load_members()

    async def _signed_private(self) -> bool:
        """Whether the group is private by its signed creation message, whatever its server said: a server calling
        a private group open would otherwise get what n writes here in the clear (``refuse_plain`` stops that too)."""
        return bool(await attempt(self, is_private(self.api, self.group_id)))

    def _draw(self) -> None:
        if self.group is not None:
            self.query_one("#group-head", Static).update(head_content(self.group, self.view.names, self.view.clock()))
        if self.members is not None:
            self.query_one("#group-members", Static).update(members_content(self.members, self.view.names))

    @work(exclusive=True, group="group-members")
    async def load_members(self) -> None:
        found = await attempt(self, self.api.group_members(self.group_id))
        if found is None:
            return
        self.members = found
        self.view.names.update({k: v for k, v in (found.get("names") or {}).items() if isinstance(v, str)})
        self._draw()

    def action_members(self) -> None:
        panel = self.query_one("#group-members", Static)
        panel.display = not panel.display
        if panel.display:
            self.load_members()

    def action_join_group(self) -> None:
        if self.group is None:
            return
        if self.you.get("status") == "member":
            self.notify("You are already a member.", severity="warning")
            return
        asks = self.group.get("join") != "open" or self.you.get("status") == "removed"
        self._send(membership_draft("group_join", self.group_id), "Asked to join." if asks else "Joined.")

    def action_leave_group(self) -> None:
        if self.group is None:
            return
        if self.you.get("role") == "owner":
            self.notify("The owner cannot leave their group.", severity="warning")
        elif self.you.get("status") not in ("member", "pending"):
            self.notify("You are not a member.", severity="warning")
        else:
            self._send(membership_draft("group_leave", self.group_id), "Left the group.")

    def _highlighted_post(self) -> dict[str, Any] | None:
        if self.is_private:
            self.notify(SEALED_ONLY, severity="warning")
            return None
        if not self.moderates:
            self.notify("Only the group's moderators and owner can do that.", severity="warning")
            return None
        entry = self.query_one(Timeline).current
        message = entry.message if entry is not None else None
        if message is None or not is_entry(message.get("kind")):  # a post, a poll, a meetup: the group's entries
            return None
        return message

    def action_hide_post(self) -> None:
        message = self._highlighted_post()
        if message is None:
            return

        def answered(reason: str | None) -> None:
            if reason and reason.strip():
                draft = about_post_draft("group_hide", self.group_id, message["id"], reason=reason.strip())
                self._send(draft, "Hidden.")

        self.app.push_screen(PromptScreen("Why hide this post? (shown with it)", "off topic"), answered)

    def action_pin_post(self) -> None:
        message = self._highlighted_post()
        if message is not None:
            pinned = any((i.get("message") or {}).get("id") == message["id"] for i in self.group["pinned"])  # type: ignore[index]
            kind = "group_unpin" if pinned else "group_pin"
            self._send(about_post_draft(kind, self.group_id, message["id"]), "Unpinned." if pinned else "Pinned.")

    @work(group="group-publish")
    async def _send(self, draft: dict[str, Any], done: str) -> None:
        result = await attempt(self, publish(self.api, self.api.identity, draft))
        if result is not None:
            self.notify(done)
            self.reload()
