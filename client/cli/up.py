"""``murmur up`` and ``murmur down``: from nothing to a running TUI in one step, and back.

``up`` creates a key if there is none, starts a home server on the embedded default (a data directory
inside the murmur home, SQLite) in the background if the profile has no server yet or its local server is
not running, joins it, makes the key the first device of an identity if it speaks for none yet (what direct
messages are sealed to: the same inception as ``murmur identity create``), and opens the TUI. The server keeps
running after the TUI closes; ``down`` stops it.

The server half (start, admit, stop) works on a data directory, which only the server package may do: the
entry module hands it in as a ``LocalServer`` factory, so this module talks to the server over HTTP alone.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Protocol

import typer

from murmur.client.cli.common import EXIT_LOCAL, fail
from murmur.client.cli.devices import FIRST_DEVICE, new_identity, said_created
from murmur.client.cli.session import client_for, profile_of, publish_name
from murmur.client.devices import speaks_for
from murmur.client.profiles import ProfileRef
from murmur.keys import Identity, save_identity
from murmur.terminal import say


class LocalServer(Protocol):
    """What ``up`` and ``down`` need from the server package's local server."""

    def start(self) -> str: ...
    def admit(self, key: str) -> None: ...
    def server_key(self) -> str: ...
    def stop(self) -> int | None: ...


LocalServerFactory = Callable[[Path, Path], LocalServer]
"""Builds the local server from its data directory and its state directory (log, pid)."""


def _local(ref: ProfileRef, factory: LocalServerFactory) -> tuple[Path, LocalServer]:
    data = ref.local_server_data
    return data, factory(data, ref.local_server_state)


async def _publish_name(ref: ProfileRef, identity: Identity, name: str) -> None:
    async with client_for(ref, identity) as api:
        await publish_name(api, identity, name)


def _ensure_identity(ref: ProfileRef, name: str | None) -> Identity:
    if ref.key_path.exists():
        return ref.identity()
    identity = Identity.generate()
    save_identity(ref.key_path, identity)
    config = ref.config()
    config.section(ref.name)["name"] = name or getpass.getuser()
    config.save()
    say(f"Created your key {identity.fingerprint} (key file {ref.key_path}, mode 0600).")
    return identity


def up_command(factory: LocalServerFactory) -> Callable[..., None]:
    """The ``up`` command, running its home server through ``factory``."""

    def up(
        ctx: typer.Context,
        name: Annotated[str | None, typer.Option(help="Display name for a new identity (default: your login).")] = None,
        no_tui: Annotated[bool, typer.Option("--no-tui", help="Set everything up, but do not open the TUI.")] = False,
    ) -> None:
        """Get going in one step: identity, a local home server in the background, membership, then the TUI."""
        ref = profile_of(ctx)
        identity = _ensure_identity(ref, name)
        config = ref.config()
        section = config.section(ref.name)
        data, local = _local(ref, factory)
        started = not section.get("server") or section.get("local_server") == str(data)
        if started:
            url = local.start()
            local.admit(identity.public_key)
            if section.get("server") != url:
                section.update(server=url, server_key=local.server_key(), local_server=str(data))
                config.save()
            say(f"Home server running at {url} (data {data}; stop it with `murmur down`).")
        if section.get("server") and speaks_for(ref.key_path) is None:
            said_created(new_identity(ref, FIRST_DEVICE), FIRST_DEVICE)
        if started and section.get("name"):
            asyncio.run(_publish_name(ref, identity, str(section["name"])))
        if no_tui:
            return
        from murmur.client.cli.tui_cmd import tui

        tui(ctx)

    return up


def down_command(factory: LocalServerFactory) -> Callable[..., None]:
    """The ``down`` command, stopping the home server ``up`` started through ``factory``."""

    def down(ctx: typer.Context) -> None:
        """Stop the local home server that `murmur up` started."""
        data, local = _local(profile_of(ctx), factory)
        pid = local.stop()
        if pid is None:
            fail(f"no local home server is running for this profile (looked in {data}).", EXIT_LOCAL)
        say(f"Stopped the home server (pid {pid}).")

    return down
