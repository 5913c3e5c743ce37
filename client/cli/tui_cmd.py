"""``murmur tui`` (and a bare ``murmur``): open the terminal UI for the chosen profile.

Textual is imported inside the functions only: every other command must start without loading it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import typer

from murmur.client.cli.session import client_for, profile_of
from murmur.client.editor_files import default_editor
from murmur.terminal import say

GUIDE = """\
murmur has no identity and home server for this profile yet. To get going:

  make run                              # from a source checkout: key, local server, join, TUI in one step
or, by hand:
  murmur init                           # create your key
  murmur serve --data ./murmur-data &   # start a home server (or use one you were invited to)
  murmur admin invite --data ./murmur-data
  murmur join http://127.0.0.1:8470 --invite CODE
  murmur                                # opens the TUI
"""


def tui(ctx: typer.Context) -> None:
    """Open the terminal UI: timelines, threads, compose, search (press ? inside for every key)."""
    ref = profile_of(ctx)
    api = client_for(ref, ref.identity())

    from murmur.client.tui.app import MurmurApp
    from murmur.client.tui.settings import from_profile

    settings = from_profile(ref, editor=default_editor())

    async def go() -> None:
        async with api:
            await MurmurApp(api, settings).run_async()

    asyncio.run(go())


def ready(ctx: typer.Context) -> bool:
    """Whether this profile has a key and a home server, i.e. whether a bare ``murmur`` can open the TUI."""
    ref = profile_of(ctx)
    section = ref.config().profiles.get(ref.name, {})
    return ref.key_path.exists() and bool(section.get("server"))


def bare(ctx: typer.Context, *, interactive: bool, help_text: Callable[[], str]) -> None:
    """A bare ``murmur``: the TUI when there is an identity, a server and a terminal; else the program's help
    (``help_text``, after a short guide when the profile is not set up). Without a terminal (a pipe, a script,
    cron) a full-screen UI would only hang or garble its output."""
    if interactive and ready(ctx):
        tui(ctx)
        return
    if not ready(ctx):
        say(GUIDE)
    say(help_text())
