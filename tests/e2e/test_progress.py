"""Long work shows its progress on stderr when that is a terminal (a pseudo-terminal here), and nothing extra when
stderr is piped or the command was asked for --json: export, import (--data and --mine), sync --repair, backup."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import sqlite3
import struct
import subprocess
import termios
from pathlib import Path

import pytest

from murmur.keys import Identity, load_identity
from murmur.message import sign_draft
from murmur.server.config import DataDir, ServerConfig
from murmur.store import Store
from murmur.sync.bundle import BundleWriter
from tests.e2e.harness import Person, ServerProcess, admin, murmur_cmd
from tests.waiting import BOUND_S

COUNT = 300
ENV = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "NO_COLOR": "1"}


def on_terminal(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``murmur ARGS`` with stderr on a pseudo-terminal (stdout piped); its exit code, stdout and what the
    terminal showed. Reads until the child closes the terminal (EIO on Linux), so nothing is missed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen(
        murmur_cmd(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env or ENV
    )
    os.close(slave)
    shown = bytearray()
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child's end is closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    return proc.wait(timeout=BOUND_S), out, shown.decode(errors="replace")


def piped(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(murmur_cmd(*args), capture_output=True, text=True, env=ENV, timeout=BOUND_S)


def make_server(data: Path, count: int = COUNT) -> Path:
    """A data directory holding ``count`` public posts."""
    DataDir(data).create(ServerConfig())
    me = Identity.generate()

    async def fill() -> None:
        async with await Store.open(data / "murmur.db") as store:
            posts = [sign_draft(me, {"body": {"text": f"post {n}"}}, created_at=1_700_000_000_000 + n) for n in
                     range(count)]  # fmt: skip
            results = await store.ingest([json.dumps(p).encode() for p in posts], origin="local")
            assert {r.status for r in results} == {"stored"}

    asyncio.run(fill())
    return data


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return make_server(tmp_path / "srv")


def test_export_and_import_show_progress_on_a_terminal_only(data: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "all.murmur"
    code, _, shown = on_terminal("export", "--data", str(data), str(bundle))
    assert code == 0, shown
    assert "Exporting" in shown and f"{COUNT}/{COUNT}" in shown and "messages/s" in shown
    assert f"Exported {COUNT} messages" in shown

    quiet = piped("export", "--data", str(data), str(tmp_path / "again.murmur"))
    assert (
        quiet.returncode == 0
        and quiet.stderr == f"Exported {COUNT} messages from {data} to {tmp_path / 'again.murmur'}.\n"
    )

    other = tmp_path / "other"
    DataDir(other).create(ServerConfig())
    code, out, shown = on_terminal("import", "--data", str(other), str(bundle))
    assert code == 0, shown
    assert "Importing" in shown and f"{COUNT}/{COUNT}" in shown and f"stored {COUNT}" in out

    code, out, shown = on_terminal("import", "--data", str(other), str(bundle), "--json")
    assert code == 0 and json.loads(out)["duplicate"] == COUNT
    assert "Importing" not in shown and shown.strip() == ""  # --json: nothing extra, even on a terminal


def test_backup_shows_pages_copied_on_a_terminal_only(data: Path, tmp_path: Path) -> None:
    code, out, shown = on_terminal("admin", "backup", "--data", str(data), str(tmp_path / "copy.db"))
    assert code == 0, shown
    assert "Backing up" in shown and "pages" in shown
    done, total = next(
        part.split("/") for part in shown.replace("\r", " ").split() if "/" in part and part.replace("/", "").isdigit()
    )
    assert int(done) <= int(total)
    assert "integrity: ok" in out
    quiet = piped("admin", "backup", "--data", str(data), str(tmp_path / "copy2.db"))
    assert quiet.returncode == 0 and quiet.stderr == "" and "Backing up" not in quiet.stdout


def test_sync_repair_shows_the_difference_moving(data: Path, tmp_path: Path, procs: list[ServerProcess]) -> None:
    """Our data directory holds posts a running peer lacks; a repair sends them, with a bar while it does."""
    peer = ServerProcess(tmp_path / "peer", config={"repair_interval_seconds": 0, "rate_per_minute": 0}).start()
    procs.append(peer)
    ours = DataDir(data).identity().public_key
    for args in (
        ("peer", "add", "--data", str(data), peer.url, "--key", peer.key, "--name", "far"),
        ("peer", "add", "--data", str(peer.data), "--key", ours, "--mode", "serve-only", "--name", "near"),
    ):
        assert piped(*args).returncode == 0
    # As after the peer restored an old backup: our push cursor says it has everything; only repair finds out.
    db = sqlite3.connect(data / "murmur.db")
    with db:
        db.execute("UPDATE peers SET push_cursor = (SELECT max(seq) FROM messages)")
    db.close()
    code, out, shown = on_terminal("sync", "--data", str(data), "far", "--repair")
    assert code == 0, shown
    assert "Repair far" in shown and f"{COUNT}/{COUNT}" in shown and "messages/s" in shown
    assert f"repair found 0 to fetch and {COUNT} to send" in out
    quiet = piped("sync", "--data", str(data), "far", "--repair", "--json")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_import_mine_shows_progress_on_a_terminal(tmp_path: Path, procs: list[ServerProcess]) -> None:
    server = ServerProcess(tmp_path / "srv", config={"rate_per_minute": 0}).start()
    procs.append(server)
    ada = Person(tmp_path / "home")
    ada.run("init", "--name", "ada")
    ada.run("join", server.url, "--invite", admin(server.data, "invite")["code"])
    me = load_identity(next((tmp_path / "home").rglob("key.pem")))
    bundle = tmp_path / "mine.murmur"
    with bundle.open("wb") as out, BundleWriter(out, COUNT, {}) as writer:
        for n in range(COUNT):
            writer.add(json.dumps(sign_draft(me, {"body": {"text": f"mine {n}"}})).encode())
    env = {**ENV, "MURMUR_HOME": str(tmp_path / "home")}
    code, out, shown = on_terminal("import", "--mine", str(bundle), env=env)
    assert code == 0, shown
    assert "Importing" in shown and f"{COUNT}/{COUNT}" in shown and f"stored {COUNT}" in out
