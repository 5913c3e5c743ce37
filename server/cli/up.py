"""The local home server behind ``murmur up`` and ``murmur down``: start it in the background, make the
person a member, stop it.

``up`` (murmur.client.cli.up) creates an identity if there is none, starts a home server on the embedded default
(SQLite) in the background if the profile has no server yet or its local server is not running, joins it, and
opens the TUI. The server keeps running after the TUI closes; ``down`` stops it. This module is the part that
owns the server's data directory; the entry module hands it to the client's ``up``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from murmur.console import EXIT_LOCAL, EXIT_SERVER, fail
from murmur.keys import write_private_file
from murmur.server.config import DEFAULT_PORT, DataDir, ServerConfig, process_alive

START_TIMEOUT_S = 20.0


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if process_alive(pid) else None


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as serve binds: a TIME_WAIT port is free
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_to_use(host: str, wanted: int) -> int:
    """``wanted`` when it is free, else a free port; never 0, so the port chosen can be remembered."""
    return wanted if wanted and _port_free(host, wanted) else _free_port(host)


@dataclass(frozen=True)
class LocalServer:
    """The home server ``murmur up`` runs for one person: its data directory, and where its log and pid go."""

    data: Path
    state: Path

    @property
    def log_path(self) -> Path:
        return self.state / "serve.log"

    @property
    def pid_path(self) -> Path:
        return self.state / "serve.pid"

    def server_key(self) -> str:
        return DataDir(self.data).identity().public_key

    def pid(self) -> int | None:
        """The pid of the running local server, or None. Versions before 0.2 kept the pid file in the data
        directory: a server they started is still found there."""
        return _pid(self.pid_path) or _pid(self.data / "serve.pid")

    def start(self) -> str:
        """Start ``murmur serve`` on the data directory in the background; return its URL once it answers.

        Its port is the config's (8470 at first) when free; when another program holds it, a free one, which is
        written to the config so the next start uses it again.
        """
        data_dir = DataDir(self.data)
        if not data_dir.exists():
            data_dir.create(ServerConfig(port=_port_to_use(ServerConfig().host, DEFAULT_PORT)))
        running = data_dir.running_url()
        if running is not None and _healthy(running):
            return running
        config = data_dir.config()
        if self.pid() is not None and _healthy(config.url):  # started by a version that wrote no serve.json
            return config.url
        port = _port_to_use(config.host, config.port)
        if port != config.port:
            config = dataclasses.replace(config, port=port)
            write_private_file(data_dir.config_path, config.render().encode("utf-8"), force=True)
        self.state.mkdir(parents=True, exist_ok=True, mode=0o700)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, which outlives this process
        proc = subprocess.Popen(
            [sys.executable, "-m", "murmur.client.cli", "serve", "--data", str(self.data)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # not killed with the terminal's process group when the TUI exits
        )
        self.pid_path.write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                fail(f"the home server stopped at once; see {self.log_path}.", EXIT_SERVER)
            url = data_dir.running_url()
            if url and _healthy(url):
                return url
            time.sleep(0.1)
        fail(f"the home server did not start within {START_TIMEOUT_S:.0f} s; see {self.log_path}.", EXIT_SERVER)

    def admit(self, key: str) -> None:
        """Make the key a member (the first one an admin) straight through the database this server owns."""
        asyncio.run(_join_local(self.data, key))

    def stop(self) -> int | None:
        """Stop the local server (SIGTERM, then wait for it); its pid, or None when none was running."""
        pid = self.pid()
        if pid is None:
            return None
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:  # it ended meanwhile
            return None
        except PermissionError:
            fail(f"process {pid} in {self.pid_path} is another user's, not this murmur's; remove the file.", EXIT_LOCAL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.1)
        self.pid_path.unlink(missing_ok=True)
        return pid


async def _join_local(data: Path, key: str) -> None:
    # Imported here: the store is only opened the first time (``murmur up`` runs each time the TUI is opened).
    from murmur.store import Store
    from murmur.store.members import add_member, count_members

    store = await Store.open(DataDir(data).db_path)
    try:
        role = "admin" if await count_members(store) == 0 else "member"
        await add_member(store, key, role=role, invited_by="murmur up")
    finally:
        await store.close()
