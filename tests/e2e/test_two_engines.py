"""A SQLite server and a PostgreSQL server, real processes, federating: the same protocol whatever the engine.

Which tests run on PostgreSQL (docs/architecture.md, "Two engines"): every store test, and this one, which holds
the server's process, migrate-db, its federation with a SQLite peer, and crash safety (kill -9 mid-burst).
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.e2e.harness import ServerProcess, murmur_cmd, stored_ids, wait_for
from tests.e2e.test_federation import FAST, member, peer
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.timeout(480)  # a PostgreSQL move and two restarts: past 240 s once at load 15


def peers_of(proc: ServerProcess) -> dict[str, tuple[int, int]]:
    listing = subprocess.run(
        murmur_cmd("peer", "list", "--data", str(proc.data), "--json"), capture_output=True, text=True, check=True
    )
    return {p["name"]: (p["push_cursor"], p["pull_cursor"]) for p in json.loads(listing.stdout)["peers"]}


def moved_cursors(url: str) -> dict[str, tuple[int, int]]:
    """``peers_of`` for a data directory copied into the PostgreSQL database at ``url``."""
    with psycopg.connect(url) as pg:
        return {str(name): (int(push), int(pull)) for name, push, pull in pg.execute(
            "SELECT name, push_cursor, pull_cursor FROM peers")}  # fmt: skip


def test_a_server_moved_to_postgresql_federates_on_and_survives_kill_9(
    tmp_path: Path, procs: list[ServerProcess], postgres: PostgresServer
) -> None:
    """One pair of servers for all of it (each start costs seconds): two SQLite servers federate; one is stopped,
    copied into PostgreSQL (migrate-db) and restarted on it; the pair goes on both ways from the cursors it had,
    nothing sent twice; then the PostgreSQL one is killed (SIGKILL) in a burst and catches up with every message."""
    lite = ServerProcess(tmp_path / "lite", config=FAST).start()
    moved = ServerProcess(tmp_path / "moved", config=FAST).start()
    procs.extend([lite, moved])
    peer(lite, moved, "moved")
    peer(moved, lite, "lite")
    ada, bo = member(tmp_path, lite, "ada"), member(tmp_path, moved, "bo")
    post = ada.json("post", "hello from sqlite")["id"]
    wait_for(lambda: post in stored_ids(moved))
    wait_for(lambda: peers_of(lite)["moved"][0] > 0)

    moved.stop()
    cursors = peers_of(moved)
    url = postgres.new_database()
    migrated = subprocess.run(
        murmur_cmd("admin", "migrate-db", "--data", str(moved.data), "--to", url), capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stderr
    assert f'database = "{url}"' in migrated.stdout
    held = stored_ids(moved)
    moved.extra = ("--database", url)
    moved.config = {**moved.config, "database": url}  # stored_ids reads PostgreSQL from now on
    # The moved server's cursors, as they were: read in PostgreSQL before it starts, since once running it pushes
    # and pulls on from them at once (`peer list --data` would read the SQLite file left behind, which never moves).
    assert moved_cursors(url) == cursors
    moved.start()
    assert sorted(stored_ids(moved)) == sorted(held)

    reply = bo.json("post", "hello from postgresql", "--reply-to", post)["id"]
    wait_for(lambda: reply in stored_ids(lite))
    assert [n["id"] for n in ada.json("thread", post)["root"]["children"]] == [reply]
    found = bo.json("search", "sqlite")["posts"]  # full-text search on PostgreSQL, over a copied post
    assert [p["message"]["id"] for p in found] == [post]
    ada.run("delete", post)
    wait_for(lambda: post not in stored_ids(moved))

    sent = [ada.json("post", f"burst {i}")["id"] for i in range(3)]
    moved.stop(signal.SIGKILL)
    sent += [ada.json("post", f"burst {i}")["id"] for i in range(3, 10)]
    moved.start()
    wait_for(lambda: set(sent) <= set(stored_ids(moved)), timeout=60)
    for proc in (lite, moved):
        ids = stored_ids(proc)
        assert len(ids) == len(set(ids)), "a message is stored twice"
    assert len(stored_ids(moved, "post")) == 11
