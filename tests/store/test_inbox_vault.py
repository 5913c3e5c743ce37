"""The device's message store sealed under a passphrase: nothing readable on disk, a wrong passphrase refused, a
crash between saves harmless, and the passphrase set, changed and removed without losing a message."""

from __future__ import annotations

import base64
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from murmur.errors import StoreError, StoreLocked, WrongPassphrase
from murmur.store import vault
from murmur.store.inbox import Cursor, Inbox, Stored, relock

CANARY = "canary-7f3e quiet harbour plans"


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """A light Argon2id cost, so that each test's many opens stay quick (the cost travels in the header)."""
    monkeypatch.setattr(vault, "DEFAULT_COST", vault.Cost(memory_kib=1024, iterations=1, lanes=1))


@pytest.fixture
def path(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "profile"
    folder.mkdir()
    yield folder / "conversations.db"


def _message(n: int, text: str = "hello") -> Stored:
    return Stored(f"{n:064x}", "c" * 64, "a" * 64, "d" * 64, f"{text} {n}", 1_700_000_000_000 + n, None, True)


def _add(inbox: Inbox, n: int, text: str = "hello") -> None:
    assert inbox.add(_message(n, text), f"{n:063x}f", ["a" * 64, "b" * 64])


def _texts(inbox: Inbox) -> list[str]:
    return [m.text for m in inbox.messages("c" * 64)]


def _encodings(text: str) -> list[bytes]:
    raw = text.encode()
    forms = [raw, raw.hex().encode(), raw.hex().upper().encode(), text.encode("utf-16-le")]
    for shift in range(3):  # base64 of the text at every alignment inside a longer stream
        forms.append(base64.b64encode(b"\0" * shift + raw)[4:-4])
    return forms


def test_a_canary_is_in_no_file_of_the_profile(path: Path) -> None:
    inbox = Inbox.open(path)
    _add(inbox, 1)
    inbox.close()
    relock(path, None, "correct horse battery")
    inbox = Inbox.open(path, "correct horse battery")
    _add(inbox, 2, CANARY)
    inbox.set_cursor("http://127.0.0.1:1", Cursor(7, "ab" * 32))
    assert [m.text for m in inbox.search("harbour")] == [f"{CANARY} 2"]  # the index works, in memory
    files = [p for p in path.parent.iterdir() if p.is_file()]
    inbox.close()
    assert files and path in files
    for found in path.parent.iterdir():
        data = found.read_bytes()
        for form in _encodings("canary-7f3e"):
            assert form not in data, (found, form)
        assert b"SQLite format 3" not in data
    assert path.stat().st_mode & 0o777 == 0o600
    again = Inbox.open(path, "correct horse battery")
    assert _texts(again) == ["hello 1", f"{CANARY} 2"] and again.cursor("http://127.0.0.1:1") == Cursor(7, "ab" * 32)
    again.close()


def test_a_sealed_store_asks_and_a_wrong_passphrase_is_refused(path: Path) -> None:
    Inbox.open(path).close()
    relock(path, None, "right one")
    with pytest.raises(StoreLocked):
        Inbox.open(path)
    for wrong in ("wrong one", "right one ", "Right one"):
        with pytest.raises(WrongPassphrase) as refused:
            Inbox.open(path, wrong)
        assert f"wrong passphrase for the message store at {path}" in refused.value.message
    Inbox.open(path, "right one").close()


def test_the_same_letters_typed_another_way_open_it(path: Path) -> None:
    Inbox.open(path).close()
    relock(path, None, "caf\u00e9")  # composed é
    Inbox.open(path, "cafe\u0301").close()  # e and a combining accent


@pytest.mark.parametrize("damage", ["truncate", "flip-header", "flip-body", "magic-only", "new-version"])
def test_a_damaged_sealed_file_is_refused_with_a_reason(path: Path, damage: str) -> None:
    Inbox.open(path).close()
    relock(path, None, "pass phrase")
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:40]
    elif damage == "flip-header":
        data[40] ^= 1  # inside the salt: authenticated, so the tag fails
    elif damage == "flip-body":
        data[-1] ^= 1
    elif damage == "magic-only":
        data = bytearray(vault.MAGIC)
    else:
        data[12] = 9
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as refused:
        Inbox.open(path, "pass phrase")
    assert str(path) in refused.value.message


def test_a_crash_between_saves_leaves_the_last_store_whole(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Inbox.open(path).close()
    relock(path, None, "pass phrase")
    inbox = Inbox.open(path, "pass phrase")
    _add(inbox, 1)
    before = path.read_bytes()

    def no_rename(src: object, dst: object) -> None:
        raise OSError(5, "Input/output error", str(dst))

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(StoreError) as failed:
        _add(inbox, 2)
    assert "could not be saved" in failed.value.message
    monkeypatch.undo()
    inbox.close()
    assert path.read_bytes() == before
    again = Inbox.open(path, "pass phrase")
    assert _texts(again) == ["hello 1"]
    _add(again, 2)  # and it goes on from there
    again.close()
    reopened = Inbox.open(path, "pass phrase")
    assert _texts(reopened) == ["hello 1", "hello 2"]
    reopened.close()


def test_a_batch_is_saved_once_at_its_end(path: Path) -> None:
    Inbox.open(path).close()
    relock(path, None, "pass phrase")
    inbox = Inbox.open(path, "pass phrase")
    before = path.read_bytes()
    with inbox.batch():
        _add(inbox, 1)
        _add(inbox, 2)
        assert path.read_bytes() == before  # nothing written in the middle
    inbox.close()
    reopened = Inbox.open(path, "pass phrase")
    assert _texts(reopened) == ["hello 1", "hello 2"]
    reopened.close()


def test_set_change_remove_keeps_every_message(path: Path) -> None:
    inbox = Inbox.open(path)
    for n in range(50):
        _add(inbox, n, CANARY)
    inbox.mark_read("c" * 64)
    expected = inbox.messages("c" * 64)
    inbox.close()
    relock(path, None, "first")
    relock(path, "first", "second")
    with pytest.raises(WrongPassphrase):
        Inbox.open(path, "first")
    with pytest.raises(WrongPassphrase):
        relock(path, "first", "third")  # the old one no longer opens it, nor changes it
    relock(path, "second", None)
    assert path.read_bytes().startswith(b"SQLite format 3\0")
    plain = Inbox.open(path)
    assert plain.messages("c" * 64) == expected and len(plain.search("harbour")) == 50
    plain.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_unneeded_passphrase_opens_a_plain_store(path: Path) -> None:
    inbox = Inbox.open(path, "given anyway")
    _add(inbox, 1)
    inbox.close()
    assert path.read_bytes().startswith(b"SQLite format 3\0")


def test_ten_thousand_messages_open_and_save(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure for the notes, with the real Argon2id cost: printed, never asserted on (wall time varies)."""
    monkeypatch.setattr(vault, "DEFAULT_COST", vault.Cost())
    Inbox.open(path).close()
    relock(path, None, "pass phrase")
    inbox = Inbox.open(path, "pass phrase")
    with inbox.batch():  # in memory until the batch ends: one save
        for n in range(10_000):
            _add(inbox, n, "a message of about the length people write, with a few words to index")
    inbox.close()
    started = time.perf_counter()
    inbox = Inbox.open(path, "pass phrase")
    opened = time.perf_counter()
    _add(inbox, 10_000)
    saved = time.perf_counter()
    assert len(inbox.messages("c" * 64)) == 10_001
    inbox.close()
    size = path.stat().st_size
    print(f"\n10,001 messages, {size / 1e6:.1f} MB sealed: open {opened - started:.3f} s, save {saved - opened:.3f} s")


def test_a_sealed_store_is_held_by_one_program_at_a_time(path: Path) -> None:
    """Each program saves its own whole copy: a second one at once would save over the first's changes."""
    Inbox.open(path).close()
    relock(path, None, "pass phrase")
    first = Inbox.open(path, "pass phrase")
    with pytest.raises(StoreError) as held:
        Inbox.open(path, "pass phrase")
    assert "open in another murmur program" in held.value.message
    with pytest.raises(StoreError):
        relock(path, "pass phrase", None)
    first.close()
    with pytest.raises(WrongPassphrase):
        Inbox.open(path, "not it")  # a refusal lets go of the store too
    Inbox.open(path, "pass phrase").close()


def test_the_format_is_as_documented(path: Path) -> None:
    """Opened with the primitives alone, as another implementation would from docs/encryption.md §9.8."""
    import struct

    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    Inbox.open(path).close()
    relock(path, None, "cafe\u0301 phrase")
    data = path.read_bytes()
    magic, version, kdf, memory, iterations, lanes = struct.unpack(">12sBBIIH", data[:24])
    salt, nonce, header = data[24:40], data[40:52], data[:52]
    assert (magic, version, kdf, memory, iterations, lanes) == (b"MURMUR-VAULT", 1, 1, 1024, 1, 1)
    key = Argon2id(salt=salt, length=32, iterations=iterations, lanes=lanes, memory_cost=memory).derive(
        "caf\u00e9 phrase".encode()  # NFC
    )
    assert ChaCha20Poly1305(key).decrypt(nonce, data[52:], header).startswith(b"SQLite format 3\0")


def test_a_crash_while_setting_or_changing_leaves_the_old_store(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = Inbox.open(path)
    _add(inbox, 1)
    inbox.close()

    def no_rename(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device", str(dst))

    with monkeypatch.context() as failing:
        failing.setattr(os, "replace", no_rename)
        with pytest.raises(StoreError):
            relock(path, None, "first")
    plain = Inbox.open(path)  # still the plain store, whole
    assert _texts(plain) == ["hello 1"]
    plain.close()
    relock(path, None, "first")
    with monkeypatch.context() as failing:
        failing.setattr(os, "replace", no_rename)
        with pytest.raises(StoreError):
            relock(path, "first", "second")
    kept = Inbox.open(path, "first")
    assert _texts(kept) == ["hello 1"]
    kept.close()
