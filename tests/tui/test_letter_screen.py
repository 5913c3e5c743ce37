"""The letter screen: opened from the command palette by a letter's id, it shows to whom, the title and text, the
count and every signer with name, fingerprint and note, and says when a newer version does not carry them over."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from murmur.client.tui.screens.dialogs import ConfirmScreen, PromptScreen
from murmur.client.tui.screens.letter import LetterScreen, NoteScreen
from murmur.client.tui.screens.main import MainScreen
from murmur.keys import fingerprint
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.validate import check
from tests.tui.conftest import ALICE, BOB, ME, NOW, LiveServer, make_app, until

SIZE = (120, 40)


async def test_a_letter_from_the_palette_shows_its_count_and_signers(live: LiveServer, tmp_path: Path) -> None:
    draft = letter_draft("Rooms", "the board", "Give us rooms.\nPlease.", deadline=NOW + 3_600_000)
    letter = check(await live.sign(ALICE, draft, at=NOW - 60_000), now=None)
    await live.sign(BOB, {"kind": "profile", "body": {"name": "Bob"}, "tags": []}, at=NOW - 59_000)
    await live.sign(BOB, signature_draft(letter, "yes\x1b[2J"), at=NOW - 50_000)
    await live.sign(ME, signature_draft(letter), at=NOW - 40_000)
    await live.sign(ALICE, letter_draft("Rooms", "the board", "By June.", previous=letter.id), at=NOW - 30_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "Open an open letter" in titles
        app.controller.ask_letter()
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*letter.id[:12], "enter")
        await until(pilot, lambda: isinstance(app.screen, LetterScreen))
        screen = app.screen
        await until(pilot, lambda: len(screen.query(".signer")) == 2)
        head = str(screen.query_one(".letter-head", Static).render())
        assert "To: the board" in head and "Rooms" in head and "Please." in head
        assert "2 signatures · signing ends in 1h" in head and "newer version exists" in head
        signers = sorted(str(s.render()) for s in screen.query(".signer").results(Static))
        assert any("Bob" in s and fingerprint(BOB.public_key) in s and "yes␛[2J" in s for s in signers)
        assert any(fingerprint(ME.public_key) in s for s in signers)
        assert "\x1b" not in "".join(signers)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_signing_with_a_note_and_withdrawing_from_the_screen(live: LiveServer, tmp_path: Path) -> None:
    # No deadline: what is signed here is dated by the real clock, the screen by the test's.
    letter = check(await live.sign(ALICE, letter_draft("Rooms", "the board", "Rooms."), at=NOW - 60_000), now=None)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.controller.open_letter(letter.id)
        await until(pilot, lambda: isinstance(app.screen, LetterScreen))
        screen = app.screen

        def head() -> str:
            found = screen.query(".letter-head").results(Static)
            return "".join(str(s.render()) for s in found)

        await until(pilot, lambda: "0 signatures" in head())
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, NoteScreen))
        await pilot.press(*"count me in", "enter")
        await until(pilot, lambda: "1 signature ·" in head())

        def signers() -> list[str]:
            return [str(s.render()) for s in screen.query(".signer").results(Static)]

        # The head is mounted before the signers under it: wait for them too, not only for the count.
        await until(pilot, lambda: len(signers()) > 0)
        shown = signers()
        assert len(shown) == 1 and fingerprint(ME.public_key) in shown[0] and "count me in" in shown[0]
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, NoteScreen))
        await pilot.press("escape")  # not signed again
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: "0 signatures" in head())
        assert len(await live.messages("signature")) == 1 and len(await live.messages("delete")) == 1
