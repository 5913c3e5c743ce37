"""One version of an open letter: to whom, its title and text, the count and every signer (name, fingerprint,
note), as the server counts them; whether it replaces an earlier version or a newer one replaces it (signatures
never carry over). What other people wrote goes through ``present`` and stays inert.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from murmur.client.api import MurmurClient
from murmur.client.tui import present
from murmur.client.tui.net import attempt
from murmur.client.tui.widgets.entries import View
from murmur.terminal import one_line
from murmur.text import left


def letter_head(letter: dict[str, Any], now_ms: int) -> Content:
    """To whom, the title, the text, and the count with the time left."""
    count = int(letter.get("count", 0))
    deadline = letter.get("deadline")
    if not isinstance(deadline, int):
        state = "no deadline"
    elif now_ms >= deadline:  # by this screen's clock, as the time left is
        state = "closed"
    else:
        state = f"signing ends in {left(deadline, now_ms)}"
    lines = [
        Content.assemble(("To: ", present.DIM), one_line(str(letter.get("to", "")), 200)),
        Content.styled(one_line(str(letter.get("title", "")), 200), "bold"),
        *(Content(one_line(line, 300)) for line in str(letter.get("text", "")).split("\n")),
        Content.assemble(
            (f"{count} signature{'' if count == 1 else 's'}", "bold"),
            (f" · {state} · signers are public (each signature is signed)", present.DIM),
        ),
    ]
    if isinstance(previous := letter.get("previous"), str):
        note = f"A new version of {one_line(previous, 12)}: earlier signatures do not carry over."
        lines.append(Content.styled(note, "$warning"))
    newer = [n for n in letter.get("newer") or [] if isinstance(n, str)]
    if newer:
        note = f"A newer version exists ({one_line(newer[-1], 12)}): these signatures do not carry over."
        lines.append(Content.styled(note, "$warning"))
    return Content("\n").join(lines)


def signer_content(signer: dict[str, Any]) -> Content:
    key = str(signer.get("key", ""))
    parts = present.author_parts(key, {key: str(signer.get("name") or "")})
    note = str(signer.get("note") or "")
    return Content.assemble(*parts, *((" — " + one_line(note, 200),) if note else ()))


class LetterScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss(None)", "Close")]

    def __init__(self, api: MurmurClient, view: View, letter_id: str) -> None:
        super().__init__()
        self.api = api
        self.view = view
        self.letter_id = letter_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="letter"):
            yield Label(Content.styled("Open letter  (esc: close)", "bold"))
            yield VerticalScroll(Static("Loading…"), id="signers")

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="letter")
    async def load(self) -> None:
        letter = await attempt(self, self.api.letter(self.letter_id))
        if letter is None:
            return
        box = self.query_one("#signers", VerticalScroll)
        await box.remove_children()
        await box.mount(Static(letter_head(letter, self.view.clock()), classes="letter-head"))
        await box.mount_all(Static(signer_content(s), classes="signer") for s in letter["signers"])
