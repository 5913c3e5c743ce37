"""``murmur dm passphrase set|change|remove``, and asking for the passphrase when a ``murmur dm`` command finds the
device's message store locked (docs/cli.md, "Direct messages"; docs/encryption.md §9, "The device's store").

The current passphrase comes from ``MURMUR_PASSPHRASE``, a new one from ``MURMUR_NEW_PASSPHRASE``; each is asked
for, hidden, when its variable is unset (a new one twice).
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import typer

from murmur.client.cli.common import EXIT_USAGE, fail
from murmur.client.cli.session import profile_of
from murmur.client.conversations import inbox_path
from murmur.client.private_groups import groups_path
from murmur.store.inbox import Inbox, relock
from murmur.store.vault import is_sealed
from murmur.terminal import say

CURRENT_VARIABLE = "MURMUR_PASSPHRASE"
NEW_VARIABLE = "MURMUR_NEW_PASSPHRASE"

passphrase_app = typer.Typer(
    help="Seal this device's store of opened direct messages under a passphrase (or change or remove it).",
    no_args_is_help=True,
)


def _ask(variable: str, prompt: str, *, twice: bool = False) -> str:
    given = os.environ.get(variable)
    if given is None:
        try:
            given = str(click.prompt(prompt, hide_input=True, confirmation_prompt=twice, default="",
                                     show_default=False))  # fmt: skip
        except click.Abort:
            fail(f"No passphrase was typed; set {variable} to give one without a terminal.", EXIT_USAGE)
    if not given:
        fail("A passphrase cannot be empty.", EXIT_USAGE)
    return given


def current_passphrase(path: Path) -> str | None:
    """The passphrase the store at ``path`` needs, asked for only when it is sealed."""
    if not is_sealed(path):
        return None
    return _ask(CURRENT_VARIABLE, f"Passphrase for the message store at {path}")


def _store(ctx: typer.Context) -> Path:
    return inbox_path(profile_of(ctx).key_path)


@passphrase_app.command("set")
def set_(ctx: typer.Context) -> None:
    """Seal the store under a new passphrase; from then on every `murmur dm` command and the TUI ask for it."""
    path = _store(ctx)
    if is_sealed(path):
        fail(f"The message store at {path} has a passphrase already: `murmur dm passphrase change` changes it.",
             EXIT_USAGE)  # fmt: skip
    _relock_all(path, None, _ask(NEW_VARIABLE, "New passphrase", twice=True))
    say(f"The message store at {path} is sealed under your passphrase. Forgotten, it cannot be recovered: move the"
        " file aside and the messages still on your server are fetched again.")  # fmt: skip


@passphrase_app.command("change")
def change(ctx: typer.Context) -> None:
    """Seal the store under another passphrase (the current one is asked for first)."""
    path = _store(ctx)
    current = _sealed_passphrase(path, "set")
    Inbox.open(path, current).close()  # a wrong one is refused before a new one is asked for
    _relock_all(path, current, _ask(NEW_VARIABLE, "New passphrase", twice=True))
    say(f"The message store at {path} is sealed under the new passphrase.")


@passphrase_app.command("remove")
def remove(ctx: typer.Context) -> None:
    """Keep the store unsealed again (a plain SQLite file, mode 0600)."""
    path = _store(ctx)
    _relock_all(path, _sealed_passphrase(path, "remove"), None)
    say(f"The message store at {path} is no longer sealed: it is readable by whoever can read the file.")


def _relock_all(path: Path, current: str | None, new: str | None) -> None:
    """The direct messages' store at ``path`` and the private groups' store beside it, both under one passphrase
    (a groups' store still plain while the other was sealed is sealed now)."""
    relock(path, current, new)
    groups = groups_path(path)
    if groups.exists():
        relock(groups, current if is_sealed(groups) else None, new)


def _sealed_passphrase(path: Path, doing: str) -> str:
    passphrase = current_passphrase(path)
    if passphrase is None:
        how = "`murmur dm passphrase set` sets one" if doing == "set" else "there is nothing to remove"
        fail(f"The message store at {path} has no passphrase: {how}.", EXIT_USAGE)
    return passphrase
