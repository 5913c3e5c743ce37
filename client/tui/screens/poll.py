"""A poll: its question, a bar per option with the votes, my own vote, how many voted and the time left by this
screen's clock. A number key votes (single choice) or picks (several choices: enter sends what is picked).
Ballots are signed, so they are open; the screen says so. What other people wrote stays inert.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from murmur.client.api import MurmurClient
from murmur.client.kinds import closing
from murmur.client.organising import signed_poll
from murmur.client.tui import present
from murmur.client.tui.drafts import publish
from murmur.client.tui.net import attempt, work
from murmur.client.tui.screens.answering import KEYS, AnsweringScreen
from murmur.client.tui.widgets.entries import View
from murmur.kinds.poll import MAX_OPTIONS, ballot_draft
from murmur.terminal import one_line

BAR = 24  # cells for the most-voted option's bar
OPEN_BALLOTS = "Ballots are open: each is signed, so anyone can see who voted what."


def my_choices(poll: dict[str, Any], me: str) -> tuple[int, ...]:
    """The options (1-based) of my ballot that counts, as the server counts it; () when I have not voted."""
    mine = next((b for b in poll.get("ballots") or [] if isinstance(b, dict) and b.get("key") == me), None)
    return tuple(n for n in (mine or {}).get("choices") or [] if isinstance(n, int))


def is_open(poll: dict[str, Any], now_ms: int) -> bool:
    closes = poll.get("closes_at")
    return not poll.get("closed") and isinstance(closes, int) and now_ms < closes


def poll_content(poll: dict[str, Any], me: str, now_ms: int, picked: frozenset[int] = frozenset()) -> Content:
    """The question, one bar per option (mine marked, picks shown), the voters, the time left and how to vote."""
    options = [o for o in poll.get("options") or [] if isinstance(o, dict)]
    mine = my_choices(poll, me)
    most = max((int(o.get("votes", 0)) for o in options), default=0) or 1
    lines = [Content.styled(one_line(str(poll.get("question", "")), 200), "bold")]
    for n, option in enumerate(options, start=1):
        votes = int(option.get("votes", 0))
        filled = round(BAR * votes / most)
        box = ("[x] " if n in picked else "[ ] ") if poll.get("multiple") else ""
        lines.append(
            Content.assemble(
                f"{n % 10}) {box}{one_line(str(option.get('text', '')), 40):<40} ",
                ("█" * filled, "$accent"),
                ("░" * (BAR - filled), present.DIM),
                f" {votes}",
                ("  ✓ your vote" if n in mine else "", "bold $success"),
            )
        )
    voters = int(poll.get("voters", 0))
    closes = poll.get("closes_at")
    state = closing(closes, now_ms) if isinstance(closes, int) else "closing time unknown"
    choice = "several choices" if poll.get("multiple") else "one choice"
    lines.append(Content.styled(f"{voters} voter{'' if voters == 1 else 's'} · {choice} · {state}", present.DIM))
    if mine:
        lines.append(Content.styled(f"Your vote: {', '.join(str(n) for n in mine)} (voting again replaces it)", "bold"))
    else:
        lines.append(Content.styled("You have not voted.", "bold"))
    lines.append(Content.styled(OPEN_BALLOTS, "$warning"))
    if is_open(poll, now_ms):
        how = "1-9, 0 for 10: pick · enter: vote" if poll.get("multiple") else "1-9, 0 for 10: vote"
        lines.append(Content.styled(how, present.DIM))
    return Content("\n").join(lines)


class PollScreen(AnsweringScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss(None)", "Close"),
        Binding("enter", "vote", "Vote"),
        Binding("R", "reload", "Reload"),
        *(Binding(str(n % 10), f"choose({n})", f"Option {n}", show=False) for n in range(1, MAX_OPTIONS + 1)),
    ]

    def __init__(self, api: MurmurClient, view: View, poll_id: str) -> None:
        super().__init__()
        self.api = api
        self.view = view
        self.poll_id = poll_id
        self.poll: dict[str, Any] | None = None
        self.picked: set[int] = set()

    @property
    def entry_id(self) -> str:
        return self.poll_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="poll"):
            yield Label(Content.styled(f"Poll  (number: vote · {KEYS} · R: reload · esc: close)", "bold"))
            yield VerticalScroll(Static("Loading…", id="poll-body"))

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="poll")
    async def load(self) -> None:
        found = await attempt(self, self.api.poll(self.poll_id))
        if found is not None:
            self.poll = found
            self.poll_id = str(found["id"])  # a prefix was typed: the id it named
            self.draw()

    def draw(self) -> None:
        if self.poll is not None:
            body = poll_content(self.poll, self.view.me, self.view.clock(), frozenset(self.picked))
            self.query_one("#poll-body", Static).update(body)

    def action_reload(self) -> None:
        self.load()

    def action_choose(self, n: int) -> None:
        poll = self.poll
        if poll is None or n > len(poll.get("options") or []):
            return
        if not is_open(poll, self.view.clock()):
            self.notify("The poll has closed: a ballot now would not count.", severity="warning")
        elif poll.get("multiple"):
            self.picked ^= {n}
            self.draw()
        else:
            self.vote([n])

    def action_vote(self) -> None:
        if self.poll is not None and self.poll.get("multiple"):
            if not self.picked:
                self.notify("Pick at least one option (its number), then enter.", severity="warning")
            else:
                self.vote(sorted(self.picked))

    @work(exclusive=True, group="poll-vote")
    async def vote(self, choices: list[int]) -> None:
        async def go() -> dict[str, Any]:
            poll = await signed_poll(self.api, self.poll_id)
            draft = ballot_draft(poll, [str(n) for n in choices])  # checked against the poll as signed
            return await publish(self.api, self.api.identity, draft)

        done = await attempt(self, go())  # a ballot the poll refuses is said so, before anything is signed
        if done is not None:
            self.picked.clear()
            self.notify(f"Voted {', '.join(str(n) for n in choices)}. {OPEN_BALLOTS}")
            self.load()
