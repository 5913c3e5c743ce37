"""``murmur dm passphrase set|change|remove`` and the passphrase every ``murmur dm`` command asks for when the
device's message store is sealed: from the environment for scripts, from a hidden prompt otherwise."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from murmur.client.conversations import inbox_path
from murmur.client.profiles import resolve
from murmur.store import vault
from murmur.store.inbox import Inbox, Stored
from tests.cli.fakehome import Ran

CANARY = "canary-5d1 the keys are under the mat"
# CliRunner's input is no terminal, so the hidden prompt warns that it cannot hide it: expected here.
hidden_prompt = pytest.mark.filterwarnings("ignore::getpass.GetPassWarning")


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hidden prompt reads the controlling terminal when there is one (a developer's shell, tmux), where the
    typed input is not: read what the test types from stdin, as it would be read without a terminal."""
    monkeypatch.setattr(getpass, "getpass", getpass.fallback_getpass)


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault, "DEFAULT_COST", vault.Cost(memory_kib=1024, iterations=1, lanes=1))
    for variable in ("MURMUR_PASSPHRASE", "MURMUR_NEW_PASSPHRASE"):
        monkeypatch.delenv(variable, raising=False)


def _run(home: Path, *args: str, typed: str | None = None) -> Ran:
    from murmur.client.cli.main import main

    with CliRunner().isolation(input=typed) as (out, err, _):
        try:
            main(["--home", str(home), *args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        return Ran(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A profile whose device opened one direct message."""
    home = tmp_path / "home"
    assert _run(home, "init", "--name", "ada").exit_code == 0
    inbox = Inbox.open(inbox_path(resolve(home, None).key_path))
    message = Stored("1" * 64, "c" * 64, "a" * 64, "d" * 64, CANARY, 1_700_000_000_000, None, True)
    assert inbox.add(message, "2" * 64, ["a" * 64, "b" * 64])
    inbox.close()
    yield home


def _found(ran: Ran) -> list[str]:
    assert ran.exit_code == 0, ran.output
    return [line for line in ran.stdout.splitlines() if "mat" in line]


@hidden_prompt
def test_set_from_a_hidden_prompt_then_every_dm_command_asks(home: Path) -> None:
    set_ = _run(home, "dm", "passphrase", "set", typed="long secret\nlong secret\n")
    assert set_.exit_code == 0, set_.output
    assert "long secret" not in set_.output  # hidden as typed
    folder = inbox_path(resolve(home, None).key_path).parent
    for path in folder.iterdir():
        assert b"canary-5d1" not in path.read_bytes()
    assert len(_found(_run(home, "dm", "search", "mat", typed="long secret\n"))) == 1
    wrong = _run(home, "dm", "search", "mat", typed="not it\n")
    assert wrong.exit_code == 3 and "wrong passphrase for the message store at" in wrong.stderr
    assert "Traceback" not in wrong.output and wrong.stderr.splitlines()[-1].endswith("(or the file is damaged).")
    nothing = _run(home, "dm", "search", "mat")  # no terminal, no variable
    assert nothing.exit_code == 2 and "MURMUR_PASSPHRASE" in nothing.stderr


@hidden_prompt
def test_mistyped_confirmation_sets_nothing(home: Path) -> None:
    ran = _run(home, "dm", "passphrase", "set", typed="one\ntwo\none\none\n")
    assert ran.exit_code == 0, ran.output  # asked again until both match
    assert len(_found(_run(home, "dm", "search", "mat", typed="one\n"))) == 1


def test_set_change_remove_from_the_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MURMUR_NEW_PASSPHRASE", "first phrase")
    assert _run(home, "dm", "passphrase", "set").exit_code == 0
    again = _run(home, "dm", "passphrase", "set")
    assert again.exit_code == 2 and "passphrase change" in again.stderr
    monkeypatch.setenv("MURMUR_PASSPHRASE", "first phrase")
    assert len(_found(_run(home, "dm", "search", "mat"))) == 1
    monkeypatch.setenv("MURMUR_NEW_PASSPHRASE", "second phrase")
    assert _run(home, "dm", "passphrase", "change").exit_code == 0
    stale = _run(home, "dm", "search", "mat")
    assert stale.exit_code != 0 and "wrong passphrase" in stale.stderr
    monkeypatch.setenv("MURMUR_PASSPHRASE", "second phrase")
    assert len(_found(_run(home, "dm", "search", "mat"))) == 1
    assert _run(home, "dm", "passphrase", "remove").exit_code == 0
    monkeypatch.delenv("MURMUR_PASSPHRASE")
    assert len(_found(_run(home, "dm", "search", "mat"))) == 1  # asks nothing now
    removed = _run(home, "dm", "passphrase", "remove")
    assert removed.exit_code == 2 and "has no passphrase" in removed.stderr


def test_an_empty_passphrase_is_refused(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MURMUR_NEW_PASSPHRASE", "")
    ran = _run(home, "dm", "passphrase", "set")
    assert ran.exit_code == 2 and "cannot be empty" in ran.stderr
    assert len(_found(_run(home, "dm", "search", "mat"))) == 1  # still plain, still there


def test_a_wrong_current_passphrase_changes_nothing(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MURMUR_NEW_PASSPHRASE", "right")
    assert _run(home, "dm", "passphrase", "set").exit_code == 0
    monkeypatch.setenv("MURMUR_PASSPHRASE", "wrong")
    for command in ("change", "remove"):
        ran = _run(home, "dm", "passphrase", command)
        assert ran.exit_code != 0 and "wrong passphrase" in ran.stderr and "Traceback" not in ran.output
    monkeypatch.setenv("MURMUR_PASSPHRASE", "right")
    assert len(_found(_run(home, "dm", "search", "mat"))) == 1
