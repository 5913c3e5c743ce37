"""Groups in lists: the Groups tab (my groups, then the directory, with a search) and the rows it shows.

A row's ``item`` is ``{"group": GROUP_JSON, "mine": status, "fresh": N}`` (``GET /api/v1/groups``; ``fresh``: a
private group's messages this device read and the person has not seen yet); enter on it (or a double click) posts
``GroupList.Chosen`` for the screen to open the group. The tab's label counts those messages (``Unread``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input

from murmur.client.api import MurmurClient
from murmur.client.kinds import group_facts
from murmur.client.tui import present
from murmur.client.tui.bindings import GROUP, bindings
from murmur.client.tui.net import attempt, landing, work
from murmur.client.tui.widgets.entries import Entry, View
from murmur.client.tui.widgets.postlist import ACTIONS_UP, PostList
from murmur.terminal import one_line, visible_name

if TYPE_CHECKING:  # the private groups' store is imported when a group screen opens, not with the Groups tab
    from murmur.client.tui.widgets.private_group import Source

DIM = "$text-muted"
MARKS = {"member": "● member", "pending": "… asked to join"}


def group_row(group: dict[str, Any], mine: str = "", fresh: int = 0) -> Content:
    """One group in a list: its name, how many members, how one joins, whether I am in, how many of its private
    messages are new to me, its description."""
    head = [
        (visible_name(str(group.get("name") or ""), 60) or "(no name)", "bold $accent"),
        (f"  {group_facts(group)}", DIM),
    ]
    if mine in MARKS:
        head.append((f"  {MARKS[mine]}", "$success"))
    if fresh:
        head.append((f"  {fresh} new", present.WARN))
    lines = [Content.assemble(*head)]
    if group.get("description"):
        lines.append(Content(one_line(str(group["description"]), 200)))
    return Content("\n").join(lines)


class GroupEntry(Entry):
    def render(self) -> Content:
        return group_row(self.item["group"], str(self.item.get("mine") or ""), int(self.item.get("fresh") or 0))

    def time_label(self, now_ms: int) -> str | None:
        return None

    def authors(self) -> set[str]:
        return set()


class GroupList(PostList):
    """A list of groups; the post actions do nothing here, enter opens the highlighted group."""

    @dataclass
    class Chosen(Message):
        group: dict[str, Any]

    def make_entry(self, item: dict[str, Any], depth: int = 0) -> Entry:
        return GroupEntry(item, self.view, depth=depth)

    def action_open(self) -> None:
        entry = self.current
        if entry is not None:
            self.post_message(self.Chosen(entry.item["group"]))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A group is not a post: the footer offers none of the post actions here, only opening it.
        return action == "open" or action not in ACTIONS_UP

    def _ask(self, action: str) -> None:
        self.notify("Open a group (enter) to act on its posts.", severity="warning")


class GroupsPane(Vertical):
    """The Groups tab: a search field over the directory, and the list (my groups first). It loads when the
    tab is shown (``reload``), not at start-up. ``F`` goes to the search field, ``enter`` there searches."""

    BINDINGS = bindings(GROUP, only=("find_group",))

    @dataclass
    class Unread(Message):
        count: int

    def __init__(self, api: MurmurClient, view: View, *, private: Source | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.api = api
        self.view = view
        self.private = private
        self.failed: dict[str, str] = {}  # the groups the last sync could not read (id: why), said once each

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Find a group by name or description (F, then enter)", id="groups-search")
        yield GroupList(self.view, empty="No groups here yet: `murmur group create NAME` starts one.", id="groups-list")

    @property
    def list(self) -> GroupList:
        return self.query_one(GroupList)

    def action_find_group(self) -> None:
        self.query_one("#groups-search", Input).focus()

    @on(Input.Submitted, "#groups-search")
    def _search(self, event: Input.Submitted) -> None:
        self.reload()
        self.list.focus()

    @work(exclusive=True, group="groups")
    async def reload(self) -> None:
        query = self.query_one("#groups-search", Input).value.strip()[:200]
        mine = await attempt(self, self.api.groups(mine=True, limit=100))
        found = await attempt(self, self.api.groups(query=query or None, limit=50))
        if mine is None or found is None:
            return
        status = {g["id"]: str((g.get("you") or {}).get("status") or "") for g in mine["groups"]}
        rows: list[dict[str, Any]] = []
        if not query:
            rows = [{"group": g, "mine": status[g["id"]]} for g in mine["groups"]]
        seen = {row["group"]["id"] for row in rows}
        rows += [{"group": g, "mine": status.get(g["id"], "")} for g in found["groups"] if g["id"] not in seen]
        fresh = self._fresh()
        for row in rows:
            row["fresh"] = fresh.get(row["group"]["id"], 0)
        self.list.empty_text = "No group matches." if query else self.list.empty_text
        self.list.show(rows)

    def _fresh(self) -> dict[str, int]:
        """How many messages of each private group are new to the person, as this device holds them."""
        groups = self.private.groups() if self.private is not None else None
        return groups.store.fresh() if groups is not None else {}

    @work(exclusive=True, group="groups-fresh")
    async def count_fresh(self) -> None:
        """Fetch and read what the private groups hold (the live stream said one has something new, or something
        was sealed to this device), then count; a group whose first key came (an invitation) is listed at once."""
        groups = self.private.groups() if self.private is not None else None
        if groups is not None and groups.talks.identity is not None:
            held = set(groups.store.groups())
            report = await attempt(self, groups.sync())  # offline, what this device holds is counted all the same
            if report is not None:
                self._say_failed(report.failed, dict(groups.store.groups()))
            if not set(groups.store.groups()) <= held:  # invited since: the group is listed without a restart
                self.reload()
        self.show_fresh()

    def _say_failed(self, failed: dict[str, str], names: dict[str, str]) -> None:
        """Tell the person of each group this sync could not read (a rate limit, a refused log), inert: its new
        messages are missing until a later sync reads them. A failure said already is not said again each sync:
        a group this device holds keys of is tried at every sync, so one not failing now was read, and said again
        if it fails again; one it was invited to and holds no key of yet (``names``: those it holds) may not be
        tried at every sync, so its failure stays said until its first key comes."""
        for group, why in failed.items():
            if self.failed.get(group) != why:
                name = visible_name(names.get(group) or group[:16], 60)
                self.notify(f"{name} was not read this time: {one_line(why, 200)}", title="A private group is behind",
                            severity="warning", markup=False, timeout=20)  # fmt: skip
        self.failed = {group: why for group, why in self.failed.items() if group not in names} | failed

    def show_fresh(self) -> None:
        """Count again what this device holds: on the rows shown and on the tab's label."""
        listed = landing(self, "GroupList", GroupList)
        if listed is None:  # the fetch ended after the app began to close
            return
        fresh = self._fresh()
        for entry in listed.entries:
            if isinstance(entry, GroupEntry) and entry.item.get("fresh", 0) != fresh.get(entry.item["group"]["id"], 0):
                entry.item["fresh"] = fresh.get(entry.item["group"]["id"], 0)
                entry.refresh()
        self.post_message(self.Unread(sum(fresh.values())))
