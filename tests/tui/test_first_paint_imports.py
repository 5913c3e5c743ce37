"""The TUI's first paint imports only what its first screen draws (docs/performance.md, tui_first_paint_s).

Importing every screen, the compose screen's text area and the stores of direct messages and private groups was a
third of the imports before the first paint; they are imported where they are first opened. Each check runs in a
fresh interpreter: a module imported by an earlier test would hide one creeping back in-process.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

# What the bench's probe imports before the app runs, as ``murmur tui`` does.
FIRST_PAINT = ("murmur.client.tui.app", "murmur.client.tui.settings")
# The program as ``murmur tui`` and a bare ``murmur`` build it: its own command alone.
PROGRAM = "from murmur.client.cli.main import build; build('tui')"

# Each is imported where it is first needed, never on the way to the first paint.
LATER = (
    "murmur.client.tui.screens.compose",  # writing a post
    "textual.widgets._text_area",  # the compose screen's and the raw view's text area
    "murmur.client.tui.screens.dialogs",
    "murmur.client.tui.screens.thread",
    "murmur.client.tui.screens.profile",
    "murmur.client.tui.screens.group",
    "murmur.client.tui.screens.poll",
    "murmur.client.tui.screens.poll_compose",
    "murmur.client.tui.screens.letter",
    "murmur.client.tui.screens.search",
    "murmur.client.tui.screens.history",
    "murmur.client.tui.screens.conversations",
    "murmur.client.tui.widgets.private_group",
    "murmur.client.private_groups",  # the private groups' store
    "murmur.client.conversations",  # the direct messages' store
    "murmur.client.group_authority",
    "murmur.client.letter_check",
    "murmur.store",  # the SQLite store those keep their keys and messages in
)


def loaded_by(module: str, then: str = "pass") -> set[str]:
    code = f"import sys, {module}; {then}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


@pytest.mark.parametrize("module", FIRST_PAINT)
def test_the_first_paint_does_not_import_what_later_screens_need(module: str) -> None:
    loaded = loaded_by(module)
    assert module in loaded
    assert sorted(m for m in LATER if m in loaded) == []


def test_murmur_tui_builds_the_program_without_the_other_commands() -> None:
    """The other commands' modules (the stores, the server's commands) were a fifth of the TUI's cold start."""
    loaded = loaded_by("murmur.client.cli.main", PROGRAM)
    assert "murmur.client.cli.tui_cmd" in loaded
    assert sorted(m for m in LATER if m in loaded) == []
    others = ("murmur.server", "murmur.client.cli.devices", "murmur.client.cli.dm", "murmur.client.cli.social")
    assert sorted(m for m in loaded if m.startswith(others)) == []


def test_murmur_up_opens_no_store_before_the_tui() -> None:
    """`make run` is `murmur up` every time: the server's store is opened only the first time, to join it."""
    loaded = loaded_by("murmur.client.cli.main", "from murmur.client.cli.main import build; build('up')")
    assert "murmur.server.cli.up" in loaded
    assert sorted(m for m in LATER if m in loaded) == []


def test_the_modules_kept_back_exist() -> None:
    """A module renamed away would pass the check above for nothing: every name in ``LATER`` still imports."""
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run([sys.executable, "-c", code, *LATER], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_main_screen_still_draws_its_tabs_from_what_it_imports() -> None:
    """The first screen's own widgets are there: the check above is about what is left out, not an empty app."""
    loaded = loaded_by("murmur.client.tui.app")
    assert {
        "murmur.client.tui.screens.main",
        "murmur.client.tui.widgets.timeline",
        "textual.widgets._tabbed_content",
    } <= loaded
