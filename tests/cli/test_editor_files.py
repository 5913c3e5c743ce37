"""$EDITOR edits a draft (a direct message, a private group's post, any post) in a 0700 folder of the profile's
own directory, never the system's shared temporary directory, and the draft is gone afterwards
(murmur.client.editor_files; the CLI's ``compose_text`` and the TUI's compose screen both use it)."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest

from murmur.client.cli.social import compose_text
from murmur.client.editor_files import drafts_folder, edited


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_draft_is_private_in_the_profiles_folder_and_gone_afterwards(tmp_path: Path) -> None:
    folder = drafts_folder(tmp_path / "profile" / "key")
    seen: dict[str, object] = {}

    def editor(path: Path) -> None:
        seen.update(parent=path.parent, mode=mode(path), folder=mode(path.parent), text=path.read_text())
        path.write_text("the secret, edited")

    assert edited(folder, "the secret", editor) == "the secret, edited"
    assert seen == {"parent": tmp_path / "profile" / "drafts", "mode": 0o600, "folder": 0o700, "text": "the secret"}
    assert not folder.exists()  # the draft deleted, and its folder with it


def test_a_folder_found_open_is_made_private_and_kept_while_an_editor_left_files_in_it(tmp_path: Path) -> None:
    folder = tmp_path / "drafts"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)

    def editor(path: Path) -> None:
        (path.parent / f".{path.name}.swp").write_text("swap")  # as vim leaves one when it is killed

    assert edited(folder, "x", editor) == "x"
    assert mode(folder) == 0o700 and [p.name.endswith(".swp") for p in folder.iterdir()] == [True]


def test_the_draft_is_deleted_when_the_editor_fails(tmp_path: Path) -> None:
    folder = tmp_path / "drafts"

    def editor(path: Path) -> None:
        raise OSError("no such editor")

    with pytest.raises(OSError):
        edited(folder, "the secret", editor)
    assert not folder.exists()


def test_the_cli_runs_the_editor_on_a_draft_in_the_profiles_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script, record = tmp_path / "editor.sh", tmp_path / "record"
    script.write_text(f'#!/bin/sh\nstat -c "%a %n" "$1" > {record}\nprintf "hello" > "$1"\n')
    script.chmod(0o700)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.delenv("VISUAL", raising=False)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    folder = drafts_folder(tmp_path / "profile" / "key")
    assert compose_text(None, folder) == "hello"
    file_mode, name = record.read_text().split()
    assert file_mode == "600" and Path(name).parent == folder and not folder.exists()
