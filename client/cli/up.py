"""``murmur up`` and ``murmur down``: from nothing to a running TUI in one step, and back.

``up`` creates an identity if there is none, starts a home server on the embedded default (a data directory
inside the murmur home, SQLite) in the background if the profile has no server yet or its local server is
not running, joins it, and opens the TUI. The server keeps running after the TUI closes; ``down`` stops it.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from murmur.client.api import MurmurClient
from murmur.client.cli.common import EXIT_LOCAL, EXIT_SERVER, fail
from murmur.client.cli.session import profile_of, publish_draft
from murmur.client.profiles import ProfileRef
from murmur.keys import Identity, save_identity
from murmur.server.config import DEFAULT_PORT, DataDir, ServerConfig
from murmur.store import Store
from murmur.store.members import add_member, count_members
from murmur.terminal import say

START_TIMEOUT_S = 20.0


def _data_dir(ref: ProfileRef) -> Path:
    return ref.home / "server"


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _pid(data: Path) -> int | None:
    try:
        pid = int((data / "serve.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_server(data: Path) -> str:
    """Start ``murmur serve`` on ``data`` in the background; return its URL once it answers."""
    data_dir = DataDir(data)
    if not data_dir.exists():
        port = DEFAULT_PORT if _port_free(DEFAULT_PORT) else 0
        data_dir.create(ServerConfig(port=port))
    config = data_dir.config()
    if _pid(data) is not None and _healthy(config.url):
        return config.url
    log = open(data / "serve.log", "ab")  # noqa: SIM115 - handed to the child, which outlives this process
    proc = subprocess.Popen(
        [sys.executable, "-m", "murmur.client.cli", "serve", "--data", str(data)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,  # not killed with the terminal's process group when the TUI exits
    )
    (data / "serve.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + START_TIMEOUT_S
    url = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"the home server stopped at once; see {data / 'serve.log'}.", EXIT_SERVER)
        url = url or _served_url(data / "serve.log")
        if url and _healthy(url):
            return url
        time.sleep(0.1)
    fail(f"the home server did not start within {START_TIMEOUT_S:.0f} s; see {data / 'serve.log'}.", EXIT_SERVER)


def _served_url(log: Path) -> str:
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if line.startswith("murmur serving "):
            return line.split()[2]
    return ""


async def _publish_name(url: str, identity: Identity, name: str) -> None:
    """Sign and publish a profile with the display name, so other people see it beside the key."""
    async with MurmurClient(url, identity) as api:
        current = await api.profile(identity.public_key)
        if not current.get("name"):
            await publish_draft(api, identity, {"kind": "profile", "body": {"name": name, "bio": ""}})


def _ensure_identity(ref: ProfileRef, name: str | None) -> Identity:
    if ref.key_path.exists():
        return ref.identity()
    identity = Identity.generate()
    save_identity(ref.key_path, identity)
    config = ref.config()
    config.section(ref.name)["name"] = name or getpass.getuser()
    config.save()
    say(f"Created your identity {identity.fingerprint} (key file {ref.key_path}, mode 0600).")
    return identity


async def _join_local(data: Path, key: str) -> None:
    """Make the key a member (the first one an admin) straight through the database we own."""
    store = await Store.open(DataDir(data).db_path)
    try:
        role = "admin" if await count_members(store) == 0 else "member"
        await add_member(store, key, role=role, invited_by="murmur up")
    finally:
        await store.close()


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
    local = _data_dir(ref)
    if not section.get("server") or section.get("local_server") == str(local):
        url = start_server(local)
        asyncio.run(_join_local(local, identity.public_key))
        if section.get("server") != url:
            section.update(server=url, server_key=DataDir(local).identity().public_key, local_server=str(local))
            config.save()
        if section.get("name"):
            asyncio.run(_publish_name(url, identity, str(section["name"])))
        say(f"Home server running at {url} (data {local}; stop it with `murmur down`).")
    if no_tui:
        return
    from murmur.client.cli.tui_cmd import tui

    tui(ctx)


def down(ctx: typer.Context) -> None:
    """Stop the local home server that `murmur up` started."""
    data = _data_dir(profile_of(ctx))
    pid = _pid(data)
    if pid is None:
        fail(f"no local home server is running for this profile (looked in {data}).", EXIT_LOCAL)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _pid(data) is not None:
        time.sleep(0.1)
    (data / "serve.pid").unlink(missing_ok=True)
    say(f"Stopped the home server (pid {pid}).")
