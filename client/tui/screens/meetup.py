"""A meetup: its current version (title, when in the organiser's zone, where, what), how many places are taken,
my answer, who is going, the waiting list in the order every server agrees on, and who may come. g, m and n
answer going, maybe and not going; answering again replaces the earlier answer. What others wrote stays inert.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from murmur.client.api import MurmurClient
from murmur.client.kinds import local_time, my_answer, since
from murmur.client.organising import signed_meetup
from murmur.client.tui import present
from murmur.client.tui.drafts import publish
from murmur.client.tui.events import NamesWanted
from murmur.client.tui.net import attempt, work
from murmur.client.tui.screens.answering import KEYS, AnsweringScreen
from murmur.client.tui.widgets.entries import View
from murmur.kinds.meetup import rsvp_draft
from murmur.terminal import inert, one_line
from murmur.text import left

ANSWERED = {"going": "you are going", "waiting": "you are on the waiting list", "maybe": "you may come",
            "no": "you are not going"}  # fmt: skip


def when(meetup: dict[str, Any], now_ms: int) -> str:
    """``2026-12-01 18:00 Europe/Paris to 2026-12-01 20:00 Europe/Paris · starts in 3h``."""
    start, end = meetup.get("start"), meetup.get("end")
    if not isinstance(start, int) or not isinstance(end, int):
        return "when: unknown"
    if now_ms < start:
        state = f"starts in {left(start, now_ms)}"
    elif now_ms < end:
        state = f"started {since(start, now_ms)}"
    else:
        state = "over"
    return f"{local_time(start, meetup.get('tz'))} to {local_time(end, meetup.get('tz'))} · {state}"


def places(meetup: dict[str, Any]) -> str:
    going, waiting, maybe = (int(meetup.get(k, 0)) for k in ("going", "waiting", "maybe"))
    capacity = meetup.get("capacity")
    taken = f"{going} of {capacity} places taken" if isinstance(capacity, int) else f"{going} going (no limit)"
    return f"{taken} · {waiting} waiting · {maybe} maybe"


def people(keys: list[str], names: dict[str, str], *, numbered: bool = False) -> list[Content]:
    return [
        Content.assemble(f"  {n}. " if numbered else "  ", *present.author_parts(key, names))
        for n, key in enumerate(keys, start=1)
    ]


def meetup_content(meetup: dict[str, Any], me: str, names: dict[str, str], now_ms: int) -> Content:
    answers = meetup.get("answers") if isinstance(meetup.get("answers"), dict) else {}
    listed = {name: [k for k in answers.get(name) or [] if isinstance(k, str)] for name in ANSWERED}
    title = one_line(str(meetup.get("title", "")), 200)
    lines = [Content.assemble((title, "bold"), ("  CANCELLED" if meetup.get("cancelled") else "", "bold $error"))]
    lines.append(Content(when(meetup, now_ms)))
    lines.append(Content.assemble(("where: ", present.DIM), one_line(str(meetup.get("place") or ""), 200) or "-"))
    if meetup.get("description"):
        lines.append(Content(inert(str(meetup["description"]))))
    lines.append(Content.styled(places(meetup), "bold"))
    mine = my_answer(meetup, me)
    if mine == "waiting":
        rank = listed["waiting"].index(me) + 1
        lines.append(Content.styled(f"{ANSWERED[mine]} (number {rank})", "bold $warning"))
    else:
        lines.append(Content.styled(ANSWERED.get(mine or "", "you have not answered"), "bold $success"))
    lines.append(Content.styled(f"Going ({len(listed['going'])})", "bold"))
    lines += people(listed["going"], names)
    lines.append(Content.styled(f"Waiting list, in order ({len(listed['waiting'])})", "bold"))
    lines += people(listed["waiting"], names, numbered=True)
    lines.append(Content.styled(f"Maybe ({len(listed['maybe'])})", "bold"))
    lines += people(listed["maybe"], names)
    if int(meetup.get("versions", 1)) > 1:
        lines.append(Content.styled(f"updated {since(int(meetup.get('updated_at', 0)), now_ms)}", present.DIM))
    lines.append(Content.styled("RSVPs are signed: who answered what is public.", present.DIM))
    return Content("\n").join(lines)


class MeetupScreen(AnsweringScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss(None)", "Close"),
        Binding("g", "rsvp('going')", "Going"),
        Binding("m", "rsvp('maybe')", "Maybe"),
        Binding("n", "rsvp('no')", "Not going"),
        Binding("R", "reload", "Reload"),
    ]

    def __init__(self, api: MurmurClient, view: View, meetup_id: str) -> None:
        super().__init__()
        self.api = api
        self.view = view
        self.meetup_id = meetup_id
        self.meetup: dict[str, Any] | None = None

    @property
    def entry_id(self) -> str:
        return self.meetup_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="meetup"):
            keys = f"g: going · m: maybe · n: no · {KEYS} · R: reload · esc: close"
            yield Label(Content.styled(f"Meetup  ({keys})", "bold"))
            yield VerticalScroll(Static("Loading…", id="meetup-body"))

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="meetup")
    async def load(self) -> None:
        found = await attempt(self, self.api.meetup(self.meetup_id))
        if found is None:
            return
        self.meetup = found
        self.meetup_id = str(found["id"])
        answers = found.get("answers") if isinstance(found.get("answers"), dict) else {}
        keys = {str(found.get("author", ""))} | {k for v in answers.values() for k in v if isinstance(k, str)}
        self.post_message(NamesWanted(keys))
        self.redraw()

    def redraw(self) -> None:
        """Draw again (names learnt since, the clock moved)."""
        if self.meetup is not None:
            body = meetup_content(self.meetup, self.view.me, self.view.names, self.view.clock())
            self.query_one("#meetup-body", Static).update(body)

    def action_reload(self) -> None:
        self.load()

    def action_rsvp(self, answer: str) -> None:
        if self.meetup is not None and self.meetup.get("cancelled"):
            self.notify("This meetup is cancelled.", severity="warning")
        else:
            self.answer(answer)

    @work(exclusive=True, group="meetup-rsvp")
    async def answer(self, answer: str) -> None:
        async def go() -> dict[str, Any]:
            _, spec = await signed_meetup(self.api, self.meetup_id)
            return await publish(self.api, self.api.identity, rsvp_draft(spec.id, spec.author, answer))

        if await attempt(self, go()) is None:
            return
        found = await attempt(self, self.api.meetup(self.meetup_id))
        if found is not None:
            self.meetup = found
            self.redraw()
        full = found is not None and my_answer(found, self.view.me) == "waiting"
        said = {"going": "Going.", "maybe": "Maybe.", "no": "Not going."}[answer]
        self.notify("The meetup is full: you are on the waiting list." if full else said)
