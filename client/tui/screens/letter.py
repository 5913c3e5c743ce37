"""One version of an open letter: to whom, its title and text, the count and every signer (name, fingerprint,
note), as the server counts them; whether it replaces an earlier version or a newer one replaces it (signatures
never carry over). What other people wrote goes through ``present`` and stays inert.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from murmur.client.api import MurmurClient
from murmur.client.letter_check import fetch_checked, signed_letter, to_withdraw
from murmur.client.tui import present
from murmur.client.tui.drafts import delete_draft, publish
from murmur.client.tui.net import attempt, work
from murmur.client.tui.screens.dialogs import ConfirmScreen
from murmur.client.tui.widgets.entries import View
from murmur.errors import Refused
from murmur.kinds.letter import signature_draft
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


class NoteScreen(ModalScreen[str | None]):
    """The note to sign with: enter signs (an empty note is none), escape does not sign."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content.styled("Sign this version: your signature is public", "bold"))
            yield Label(Content("A note beside your name (optional); enter signs, esc does not."), classes="detail")
            yield Input(placeholder="note", max_length=500)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())


class LetterScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss(None)", "Close"),
        Binding("s", "sign", "Sign"),
        Binding("w", "withdraw", "Withdraw"),
        Binding("R", "reload", "Reload"),
    ]

    def __init__(self, api: MurmurClient, view: View, letter_id: str) -> None:
        super().__init__()
        self.api = api
        self.view = view
        self.letter_id = letter_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="letter"):
            yield Label(Content.styled("Open letter  (s: sign · w: withdraw · R: reload · esc: close)", "bold"))
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

    def action_reload(self) -> None:
        self.load()

    def action_sign(self) -> None:
        def chosen(note: str | None) -> None:
            if note is not None:
                self.sign(note)

        self.app.push_screen(NoteScreen(), chosen)

    def action_withdraw(self) -> None:
        def chosen(yes: bool | None) -> None:
            if yes:
                self.withdraw()

        question = ConfirmScreen("Withdraw your signature?", "Each of your signatures on this version is deleted.")
        self.app.push_screen(question, chosen)

    @work(exclusive=True, group="letter-sign")
    async def sign(self, note: str) -> None:
        async def go() -> str:
            letter = await signed_letter(self.api, self.letter_id)
            await publish(self.api, self.api.identity, signature_draft(letter, note or None))
            return "Signed: your signature is public."

        await self._publish(go())

    @work(exclusive=True, group="letter-sign")
    async def withdraw(self) -> None:
        async def go() -> str:
            letter = await signed_letter(self.api, self.letter_id)
            held = await fetch_checked(self.api, letter.id)
            if not held.spec.open_at(self.view.clock()):
                raise Refused("letter_closed", "The deadline has passed: a withdrawal now would count for nothing.")
            ids = to_withdraw(held, self.api.identity.public_key)
            if not ids:
                raise Refused("not_found", "You have no signature on this letter to withdraw.")
            for signature in ids:
                await publish(self.api, self.api.identity, delete_draft({"id": signature}))
            return "Withdrew your signature."

        await self._publish(go())

    async def _publish(self, call: Awaitable[str]) -> None:
        done = await attempt(self, call)
        if done is not None:
            self.app.notify(done)
            self.load()
