"""A reader's server that lost some of an author's public posts tells the reader, and `murmur repair` gets them
back from a peer: real `murmur serve` processes, the real CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import ServerProcess, stored_ids, wait_for
from tests.e2e.test_repair import cursors, drop
from tests.e2e.two_servers import deliver, signed, two_servers

pytestmark = pytest.mark.timeout(180)  # a dozen CLI processes; slow on a loaded machine


def last_seq(proc: ServerProcess) -> int:
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT max(seq) FROM messages").fetchone()[0])
    finally:
        db.close()


def test_a_reader_is_told_of_lost_posts_and_repair_brings_them_back(tmp_path: Path, procs: list[ServerProcess]) -> None:
    # Scheduled repair off: only the reader's request may bring the lost posts back.
    servers = two_servers(tmp_path, procs, "cy", config={"repair_interval_seconds": 0})
    cy, bea = servers.others[0], servers.bea
    posts: list[dict[str, Any]] = []
    for n in range(1, 5):
        previous = [["previous", posts[-1]["id"]]] if posts else []
        draft = {"kind": "post", "body": {"text": f"number {n}"}, "tags": [["counter", str(n)], *previous]}
        posts.append(signed(cy, draft))
    servers.trust(tmp_path)
    deliver(cy, servers.a, tmp_path / "cy.murmur", *posts)
    wanted = {p["id"] for p in posts}
    wait_for(lambda: wanted <= set(stored_ids(servers.b)))
    # Every loop caught up, so nothing but a repair hands b back what it loses below.
    wait_for(lambda: cursors(servers.a)[0] == cursors(servers.b)[1] == last_seq(servers.a))
    drop(servers.b, [posts[1]["id"], posts[2]["id"]])

    profile = bea.json("profile", cy.key)
    assert profile["missing"] == [{"device": cy.key, "device_name": "", "count": 2, "ranges": [[2, 3]]}]
    assert "2 public messages from" in bea.run("profile", cy.key).stdout

    repaired = bea.json("repair", cy.key)
    assert [(p["name"], p["stored"], p["error"]) for p in repaired["peers"]] == [("a", 2, "")]
    assert repaired["missing"] == []
    assert wanted <= set(stored_ids(servers.b))
    assert "not on this server" not in bea.run("profile", cy.key).stdout
