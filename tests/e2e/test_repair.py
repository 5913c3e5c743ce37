"""Repair between real `murmur serve` processes: lost rows and a restored backup converge with `sync --repair`."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.sync.bundle import BundleWriter
from tests.e2e.harness import ServerProcess, admin, murmur_cmd, stored_ids, wait_for

pytestmark = pytest.mark.timeout(120)

# Scheduled repair off, so only the command under test repairs; quick retries so a restarted peer is seen soon.
CONFIG = {"retry_max_seconds": 1, "pull_interval_seconds": 1, "rate_per_minute": 0, "repair_interval_seconds": 0}


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(murmur_cmd(*args), input=stdin, capture_output=True, timeout=60)
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    return result


def link(a: ServerProcess, b: ServerProcess) -> None:
    for x, y, name in ((a, b, "b"), (b, a, "a")):
        done = cli("peer", "add", "--data", str(x.data), y.url, "--key", y.key, "--name", name)
        assert done.returncode == 0, done.stderr.decode()


def drop(proc: ServerProcess, ids: list[str]) -> None:
    """Rows lost from under a running server: gone from its database with no delete message to explain it."""
    db = sqlite3.connect(proc.data / "murmur.db")
    try:
        db.executemany("DELETE FROM messages WHERE id = ?", [(bytes.fromhex(i),) for i in ids])
        db.commit()
    finally:
        db.close()


def bring(proc: ServerProcess, messages: list[dict[str, Any]], path: Path) -> None:
    """Give a server messages as if its members had written them: a bundle, imported into its data dir."""
    with path.open("wb") as out, BundleWriter(out, len(messages), {}) as writer:
        for m in messages:
            writer.add(json.dumps(m, separators=(",", ":")).encode())
    done = cli("import", "--data", str(proc.data), str(path))
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def cursors(proc: ServerProcess) -> tuple[int, int]:
    """The server's (push, pull) cursors with its one peer."""
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        push, pull = db.execute("SELECT push_cursor, pull_cursor FROM peers").fetchone()
        return int(push), int(pull)
    finally:
        db.close()


def sync_repair(proc: ServerProcess) -> dict[str, Any]:
    done = cli("sync", "--data", str(proc.data), "--repair", "--json")
    assert done.returncode == 0, done.stderr.decode()
    report: dict[str, Any] = json.loads(done.stdout)["peers"][0]
    return report


def posts(author: Identity, count: int, start_ms: int) -> list[dict[str, Any]]:
    return [sign_draft(author, {"created_at": start_ms + i, "body": {"text": f"n{i}"}}) for i in range(count)]


def test_rows_deleted_on_both_servers_are_restored_by_repair(tmp_path: Path, procs: list[ServerProcess]) -> None:
    a = ServerProcess(tmp_path / "a", config=CONFIG).start()
    procs.append(a)
    b = ServerProcess(tmp_path / "b", config=CONFIG).start()
    procs.append(b)
    link(a, b)
    batch = posts(Identity.generate(), 300, 1_700_000_000_000)
    bring(a, batch, tmp_path / "batch.murmur")
    everything = {m["id"] for m in batch}
    wait_for(lambda: set(stored_ids(b)) == everything)  # a's push loop relays the import

    # Every loop caught up, so the lost rows below are behind every cursor and only repair can find them. a's
    # push loop must be done too: b may hold all 300 through its pull first, and a push still under way would
    # then hand b back some of the rows dropped below before the repair runs.
    wait_for(lambda: cursors(a) == (300, 300) and cursors(b)[1] == 300)
    lost_on_b, lost_on_a = [m["id"] for m in batch[::30]], [m["id"] for m in batch[7::50]]
    drop(b, lost_on_b)
    drop(a, lost_on_a)  # a is the responder here: its in-memory repair set must notice the loss
    report = sync_repair(b)
    assert report["error"] == "", report
    assert (report["need"], report["have"]) == (len(lost_on_b), len(lost_on_a))
    assert (report["stored"], report["sent"]) == (len(lost_on_b), len(lost_on_a))
    assert report["reconcile_round_trips"] <= 3
    for proc in (a, b):
        held = stored_ids(proc)
        assert set(held) == everything and len(held) == len(everything)

    again = sync_repair(b)
    assert (again["need"], again["have"], again["reconcile_round_trips"]) == (0, 0, 1)
    text = cli("sync", "--data", str(b.data), "--repair").stdout.decode()
    assert "repair found 0 to fetch and 0 to send in 1 round trips" in text


def test_a_server_restored_from_an_older_backup_converges(tmp_path: Path, procs: list[ServerProcess]) -> None:
    a = ServerProcess(tmp_path / "a", config=CONFIG).start()
    procs.append(a)
    b = ServerProcess(tmp_path / "b", config=CONFIG).start()
    procs.append(b)
    link(a, b)
    ada = Identity.generate()
    before, after = posts(ada, 50, 1_700_000_000_000), posts(ada, 40, 1_700_000_100_000)
    bring(a, before, tmp_path / "before.murmur")
    wait_for(lambda: len(stored_ids(b)) == 50)
    backup = tmp_path / "a-backup.db"
    done = cli("admin", "backup", "--data", str(a.data), str(backup))
    assert done.returncode == 0, done.stderr.decode()
    bring(a, after, tmp_path / "after.murmur")
    wait_for(lambda: len(stored_ids(b)) == 90)

    a.stop()
    for suffix in ("-wal", "-shm"):
        (a.data / f"murmur.db{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, a.data / "murmur.db")
    a.start()
    assert len(stored_ids(a)) == 50 and admin(a.data, "info")["messages"] == 50

    report = sync_repair(a)
    assert report["error"] == "" and report["need"] == 40 and report["stored"] == 40
    assert set(stored_ids(a)) == set(stored_ids(b)) == {m["id"] for m in before + after}
