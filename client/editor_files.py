"""Where an external editor ($VISUAL / $EDITOR) edits a draft, for the CLI and the TUI alike: a file of its own
(0600) in a folder of the device's own profile directory (0700), never the system's shared temporary directory,
where a direct message or a private group's post would rest readable by name for as long as the editor runs.
The file is deleted once read back, whatever happens, and the folder with it when nothing else is left in it.
What an editor writes on its own (swap, backup or undo files, its history) is its own: docs/encryption.md §9.8.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

DRAFTS = "drafts"


def default_editor() -> str | None:
    """The person's editor command: $VISUAL, else $EDITOR; None when neither is set."""
    return os.environ.get("VISUAL") or os.environ.get("EDITOR")


def drafts_folder(key_path: Path) -> Path:
    """The folder a profile's drafts are edited in: beside its key, in its own directory."""
    return key_path.parent / DRAFTS


def edited(folder: Path, text: str, edit: Callable[[Path], object]) -> str:
    """``text`` as it is after ``edit`` (the editor, run on the draft's path) changed it: the draft is written to a
    new file only its owner can read, in ``folder`` (made 0700), and deleted afterwards."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # found wider (made by hand, or copied): made private before anything is written in it
    fd, name = tempfile.mkstemp(suffix=".md", prefix="draft-", dir=folder)  # 0600, a name no one can guess
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        edit(path)
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
        with suppress(OSError):  # left when an editor's own files are still in it
            folder.rmdir()
