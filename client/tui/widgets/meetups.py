"""Meetups in lists: the Meetups tab (the newest the server holds) and a group's meetups on its screen.

A row's ``item`` is the server's meetup JSON (``GET /api/v1/meetups``); enter on it (or a double click) posts
``MeetupList.Chosen`` for the app to open the meetup, where g, m and n answer it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.content import Content
from textual.message import Message

from murmur.client.kinds import my_answer
from murmur.client.tui.screens.meetup import ANSWERED, places, when
from murmur.client.tui.widgets.entries import Entry
from murmur.client.tui.widgets.postlist import ACTIONS_UP, PostList
from murmur.terminal import one_line

DIM = "$text-muted"


def meetup_row(meetup: dict[str, Any], me: str, now_ms: int) -> Content:
    """Title (and whether cancelled), when, where, places taken and waiting, and my answer."""
    head: list[tuple[str, str] | str] = [(one_line(str(meetup.get("title", "")), 80), "bold $accent")]
    if meetup.get("cancelled"):
        head.append(("  CANCELLED", "bold $error"))
    elif (mine := my_answer(meetup, me)) is not None:
        head.append((f"  {ANSWERED[mine]}", "$success"))
    place = one_line(str(meetup.get("place") or ""), 60) or "no place given"
    return Content("\n").join(
        [Content.assemble(*head), Content.styled(f"{when(meetup, now_ms)} · {place} · {places(meetup)}", DIM)]
    )


class MeetupEntry(Entry):
    def render(self) -> Content:
        return meetup_row(self.item, self.view.me, self.view.clock())

    def time_label(self, now_ms: int) -> str | None:
        return when(self.item, now_ms)

    def authors(self) -> set[str]:
        return set()


class MeetupList(PostList):
    """A list of meetups; the post actions do nothing here, enter opens the highlighted meetup."""

    @dataclass
    class Chosen(Message):
        meetup_id: str

    def make_entry(self, item: dict[str, Any], depth: int = 0) -> Entry:
        return MeetupEntry(item, self.view, depth=depth)

    def action_open(self) -> None:
        entry = self.current
        if entry is not None:
            self.post_message(self.Chosen(str(entry.item["id"])))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action == "open" or action not in ACTIONS_UP

    def _ask(self, action: str) -> None:
        self.notify("Open a meetup (enter) to answer it.", severity="warning")
