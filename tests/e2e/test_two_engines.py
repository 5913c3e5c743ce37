"""A SQLite server and a PostgreSQL server, real processes, federating: the same protocol whatever the engine.

Which tests run on PostgreSQL (docs/architecture.md, "Two engines"): every store test, and these, which hold
the server's process, its federation with a SQLite peer, and crash safety (kill -9 mid-burst) on PostgreSQL.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.e2e.harness import ServerProcess, stored_ids, wait_for
from tests.e2e.test_federation import FAST, member, peer
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.timeout(240)


def on_postgresql(tmp_path: Path, name: str, postgres: PostgresServer) -> ServerProcess:
    return ServerProcess(tmp_path / name, config={**FAST, "database": postgres.new_database()}).start()


def test_a_sqlite_and_a_postgresql_server_converge_and_survive_kill_9(
    tmp_path: Path, procs: list[ServerProcess], postgres: PostgresServer
) -> None:
    """One pair of servers for both (each start costs seconds): federation both ways, then the PostgreSQL one
    killed (SIGKILL) in the middle of a burst, restarted, catching up with every message once."""
    lite = ServerProcess(tmp_path / "lite", config=FAST).start()
    pg = on_postgresql(tmp_path, "pg", postgres)
    procs.extend([lite, pg])
    assert not (pg.data / "murmur.db").exists()  # the PostgreSQL server keeps nothing in a SQLite file
    peer(lite, pg, "pg")
    peer(pg, lite, "lite")
    ada, bo = member(tmp_path, lite, "ada"), member(tmp_path, pg, "bo")
    post = ada.json("post", "hello from sqlite")["id"]
    wait_for(lambda: post in stored_ids(pg))
    reply = bo.json("post", "hello from postgresql", "--reply-to", post)["id"]
    wait_for(lambda: reply in stored_ids(lite))
    assert [n["id"] for n in ada.json("thread", post)["root"]["children"]] == [reply]
    found = bo.json("search", "sqlite")["posts"]  # full-text search on PostgreSQL, over a post from SQLite
    assert [p["message"]["id"] for p in found] == [post]
    ada.run("delete", post)
    wait_for(lambda: post not in stored_ids(pg))

    sent = [ada.json("post", f"burst {i}")["id"] for i in range(5)]
    pg.stop(signal.SIGKILL)
    sent += [ada.json("post", f"burst {i}")["id"] for i in range(5, 25)]
    pg.start()
    wait_for(lambda: set(sent) <= set(stored_ids(pg)), timeout=60)
    later = bo.json("post", "after the crash")["id"]  # the restarted server still pushes from its cursor
    wait_for(lambda: later in stored_ids(lite))
    for proc in (lite, pg):
        ids = stored_ids(proc)
        assert len(ids) == len(set(ids)), "a message is stored twice"
    assert len(stored_ids(pg, "post")) == 27
