"""A private group's messages in the TUI, as this device read them (``murmur.client.private_groups``): newest
first as a timeline, each with its author's display name and fingerprint and the mark of a sender verified against
their key-event log, the message it answers, and the reactions to it; then what this device could not read, each
with its reason (waiting for an epoch's key, or refused: tampered, forged, replayed...), inert.

``reload`` fetches and reads what the home server holds for the group (its sync checks every sender), then
``show`` reads the device's store and marks the group's messages seen. r replies to the highlighted message and l
reacts to it (posting ``Write`` and ``React`` for the app to open the compose screen or the picker). Everything
another person wrote is plain text made inert: never markup, never a control character.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Protocol

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from murmur.client.group_checks import no_key_note, one_by_one
from murmur.client.identity_check import held_back_note
from murmur.client.private_groups import RETRIED, GroupPost, PrivateGroups
from murmur.client.tui import present
from murmur.client.tui.bindings import POSTS, bindings
from murmur.client.tui.events import NamesWanted
from murmur.client.tui.net import attempt, landing, work
from murmur.client.tui.screens.conversations import verified_head
from murmur.client.tui.widgets.conversations import refusal_row
from murmur.client.tui.widgets.entries import View
from murmur.terminal import inert, one_line
from murmur.text import ago

SHOWN = 200  # the newest messages shown; the CLI's `timeline group:ID --limit` reads further back
EMPTY = "Nothing here yet that this device can read. Press n to write the first."
OUTSIDE = "Only its members read a private group; a moderator invites (`murmur group invite`)."
SEALED_NOTE = "Private: sealed on members' devices, no server can read it · r: reply · l: react · n: write"


class Source(Protocol):
    """Where the pane's private groups come from (``murmur.client.tui.private.Private``)."""

    closed: str
    """Why there are none to show (no keys, a sealed store, a damaged file); empty when they are open."""

    def groups(self) -> PrivateGroups | None: ...


def reply_line(p: GroupPost, held: dict[str, GroupPost], names: dict[str, str]) -> Content:
    parent = held.get(p.reply_to or "")
    if parent is None:
        return Content.styled(f"↳ reply to {(p.reply_to or '')[:12]}… (not read on this device)", present.DIM)
    return Content.assemble(("↳ reply to ", present.DIM), *present.author_parts(parent.sender, names),
                            (": ", present.DIM), one_line(parent.text, 80))  # fmt: skip


def reactions_line(reactions: list[GroupPost]) -> Content:
    counted = Counter(one_line(r.text, 32) for r in reactions)
    return Content.styled(" · ".join(f"{text} {n}" for text, n in counted.items()), present.DIM)


def post_content(
    p: GroupPost, me: str | None, names: dict[str, str], now_ms: int, held: dict[str, GroupPost],
    reactions: list[GroupPost],
) -> Content:  # fmt: skip
    """One message: who wrote it, verified, when, whether new; what it answers; its text, inert; its reactions. A
    reaction to a message not held here is shown as what it is."""
    lines = [verified_head(p.sender, me, names, p.created_at, now_ms, p.fresh)]
    if p.kind == "reaction":
        target = f" to {(p.target or '')[:12]}… (not read on this device)"
        lines.append(Content.assemble(("reacted ", present.DIM), one_line(p.text, 32), (target, present.DIM)))
        return Content("\n").join(lines)
    if p.reply_to:
        lines.append(reply_line(p, held, names))
    lines.append(Content(inert(p.text)))
    if reactions:
        lines.append(reactions_line(reactions))
    return Content("\n").join(lines)


class PrivateMessages(Vertical):
    """A private group's messages and what could not be read; ``group`` is set by its screen."""

    BINDINGS = bindings(POSTS, only=("reply", "react", "cursor_down", "cursor_up", "first", "last"))

    @dataclass
    class Write(Message):
        group: dict[str, Any]
        reply_to: GroupPost | None

    @dataclass
    class React(Message):
        group: dict[str, Any]
        post: GroupPost

    def __init__(self, source: Source | None, view: View, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.view = view
        self.group: dict[str, Any] | None = None
        self.posts: dict[str, GroupPost] = {}
        self.new: set[str] = set()  # new when first shown: marked so for as long as the pane is up
        self.reactions: dict[str, list[GroupPost]] = {}
        self.times: dict[str, str] = {}  # each message's relative time as drawn ("3m"): redrawn when it moves on

    @property
    def group_id(self) -> str:
        return str((self.group or {}).get("id") or "")

    def compose(self) -> ComposeResult:
        yield Static(Content.styled(SEALED_NOTE, present.DIM), id="pg-note")
        yield OptionList(id="pg-messages")

    @property
    def list(self) -> OptionList:
        return self.query_one("#pg-messages", OptionList)

    def _groups(self) -> PrivateGroups | None:
        groups = self.source.groups() if self.source is not None else None
        if groups is None:
            why = self.source.closed if self.source is not None else "Private groups need this profile's keys."
            self.query_one("#pg-note", Static).update(Content.styled(why, present.WARN))
        return groups

    @work(exclusive=True, group="private-group")
    async def reload(self) -> None:
        """Fetch and read what the home server holds for the group, then show it."""
        groups = self._groups()
        if groups is not None and self.group_id:
            await attempt(self, groups.sync(self.group_id))  # offline, what this device holds is shown all the same
        self.show()

    def show(self) -> None:
        groups = self._groups()
        listed = landing(self, "#pg-messages", OptionList)
        if groups is None or listed is None or not self.group_id:
            return
        kept = groups.timeline(self.group_id, limit=SHOWN)
        waiting = groups.store.unread(self.group_id)
        groups.store.seen_all(self.group_id)  # they are on screen now
        self.new |= {p.id for p in kept if p.fresh}
        kept = [replace(p, fresh=p.id in self.new) for p in kept]
        self.posts = {p.id: p for p in kept}
        self.reactions = reactions = {}
        for p in kept:
            if p.kind == "reaction" and p.target in self.posts:
                reactions.setdefault(str(p.target), []).append(p)
        shown = [p for p in kept if not (p.kind == "reaction" and p.target in self.posts)]
        me, now, names = groups.talks.identity, self.view.clock(), self.view.names
        missing = {p.sender for p in kept if p.sender != me and p.sender not in names}
        if missing:
            self.post_message(NamesWanted(missing))
        highlighted = listed.highlighted_option.id if listed.highlighted_option is not None else None
        listed.clear_options()
        if not shown:
            member = ((self.group or {}).get("you") or {}).get("status") == "member"
            listed.add_option(Option(Content.styled(EMPTY if member else OUTSIDE, present.DIM), disabled=True))
        for n, p in enumerate(shown):
            separator = [None] if n else []  # a line between messages, as between a timeline's posts
            listed.add_options([*separator, Option(post_content(p, me, names, now, self.posts,
                                                                reactions.get(p.id, [])), id=p.id)])  # fmt: skip
        rows = [Option(refusal_row(u, "not read yet" if u.code in RETRIED else "refused"), disabled=True)
                for u in one_by_one(waiting)]  # fmt: skip
        note = no_key_note(*groups.store.no_key(self.group_id))
        if note is not None:  # anyone can send these, any number: one line, counted
            rows.append(Option(Content.assemble(("not read ", present.WARN), (note, present.DIM)), disabled=True))
        rows += [Option(Content.styled(held_back_note(code, count), present.DIM), disabled=True)
                 for code, count in groups.store.held_back(self.group_id).items()]  # fmt: skip
        listed.add_options(None for _ in rows[:1] if shown)
        listed.add_options(rows)
        self.times = {p.id: ago(p.created_at, now) for p in shown}
        ids = [p.id for p in shown]
        if ids:
            listed.highlighted = listed.get_option_index(highlighted if highlighted in ids else ids[0])

    def tick(self, now_ms: int) -> None:
        """Relative times ("3m") move on: the messages whose time reads otherwise now are drawn again."""
        groups = self.source.groups() if self.source is not None else None
        me = groups.talks.identity if groups is not None else None
        for msg_id, drawn in self.times.items():
            if (p := self.posts.get(msg_id)) is not None and (label := ago(p.created_at, now_ms)) != drawn:
                self.times[msg_id] = label
                content = post_content(p, me, self.view.names, now_ms, self.posts, self.reactions.get(msg_id, []))
                self.list.replace_option_prompt(msg_id, content)

    def _current(self) -> GroupPost | None:
        option = self.list.highlighted_option
        return self.posts.get(option.id or "") if option is not None else None

    def action_cursor_down(self) -> None:
        self.list.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.list.action_cursor_up()

    def action_first(self) -> None:
        self.list.action_first()

    def action_last(self) -> None:
        self.list.action_last()

    def action_reply(self) -> None:
        post = self._current()
        if self.group is not None and post is not None:
            self.post_message(self.Write(self.group, post))

    def action_react(self) -> None:
        post = self._current()
        if self.group is not None and post is not None:
            self.post_message(self.React(self.group, post))
