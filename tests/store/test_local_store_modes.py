"""A device's private message stores (``conversations.db``, ``private_groups.db``) rest 0600 whatever they were
found with: one copied with ``cp -r`` or restored under umask 022 is made private when it is opened, SQLite's
files beside it too; and ``murmur doctor`` says when one is open to other users (docs/encryption.md §9.8)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from murmur.client.cli.doctor import store_findings
from murmur.doctor import ACTION, OK, WARN
from murmur.errors import StoreError
from murmur.store.group_inbox import GroupInbox
from murmur.store.inbox import SIDECARS, Inbox, LocalStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("store", [Inbox, GroupInbox])
@pytest.mark.parametrize("found", [0o644, 0o640, 0o604, 0o666])
def test_a_store_found_open_to_other_users_is_made_private_when_opened(
    tmp_path: Path, store: type[LocalStore], found: int
) -> None:
    path = tmp_path / "store.db"
    store.open(path).close()
    sidecars = [path.with_name(path.name + s) for s in SIDECARS]
    for p in (path, *sidecars):
        p.touch()
        p.chmod(found)  # as `cp -r` or a restore under umask 022 leaves them
    store.open(path).close()
    assert [mode(p) for p in (path, *sidecars)] == [0o600] * 4


def test_a_new_store_and_its_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "profile" / "conversations.db"
    Inbox.open(path).close()
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)


def test_a_store_that_cannot_be_made_private_is_refused_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "conversations.db"
    Inbox.open(path).close()
    path.chmod(0o644)

    def refuse(self: Path, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "chmod", refuse)
    with pytest.raises(StoreError, match="Operation not permitted"):
        Inbox.open(path)


def test_doctor_says_when_a_store_is_open_to_other_users(tmp_path: Path) -> None:
    key = tmp_path / "key"
    assert store_findings(key) == []  # no private conversation yet: nothing to say
    Inbox.open(tmp_path / "conversations.db").close()
    GroupInbox.open(tmp_path / "private_groups.db").close()
    assert [f.level for f in store_findings(key)] == [OK, OK]
    (tmp_path / "private_groups.db").chmod(0o644)
    (tmp_path / "conversations.db-wal").touch()
    (tmp_path / "conversations.db-wal").chmod(0o644)
    found = {Path(f.subject).name: f for f in store_findings(key)}
    assert {name: f.level for name, f in found.items()} == {
        "conversations.db": OK, "conversations.db-wal": ACTION, "private_groups.db": ACTION,
    }  # fmt: skip
    assert "private groups' store is open to other users (mode 0644)" in found["private_groups.db"].message


def test_doctor_says_when_an_editor_left_files_where_drafts_are_edited(tmp_path: Path) -> None:
    key = tmp_path / "key"
    (tmp_path / "drafts").mkdir(mode=0o700)
    assert store_findings(key) == []  # an empty folder says nothing
    (tmp_path / "drafts" / ".draft-x.md.swp").write_text("half a message")
    [found] = store_findings(key)
    assert found.level == WARN and ".draft-x.md.swp" in found.message and "remove them" in found.message
