"""A federation of mixed versions converges: a kind only the newer servers know crosses an older one.

The newer version is stood in for by tests/e2e/newer.py (today's program with a ``survey`` kind registered before
it starts); the older one is today's program, which carries surveys as a kind it does not know
(docs/protocol.md §7.3). Peer modes pin which loop carries each hop, so each way a message can travel is proved
on its own: push into the old server and pull out of it, pull into it and push out of it, and repair.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError, MurmurClient
from murmur.keys import Identity
from murmur.message import sign_draft
from tests.e2e.harness import ServerProcess, admin, murmur_cmd, stored_ids, wait_for
from tests.e2e.test_repair import cursors, drop, sync_repair

pytestmark = pytest.mark.timeout(240)

FAST = {"retry_max_seconds": 1, "pull_interval_seconds": 1, "rate_per_minute": 0, "repair_interval_seconds": 0}
NEWER = "tests.e2e.newer"


def server(tmp_path: Path, name: str, procs: list[ServerProcess], *, newer: bool = False) -> ServerProcess:
    proc = ServerProcess(tmp_path / name, config=FAST, module=NEWER if newer else "murmur.client.cli").start()
    procs.append(proc)
    return proc


def peer(a: ServerProcess, b: ServerProcess, mode: str) -> None:
    """Server ``a`` trusts ``b``; ``serve-only`` means ``a`` never dials ``b``."""
    url = b.url if mode != "serve-only" else ""
    args = ["peer", "add", "--data", str(a.data), *([url] if url else []), "--key", b.key, "--mode", mode]
    done = subprocess.run(murmur_cmd(*args), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def seq_of(proc: ServerProcess, msg_id: str) -> int:
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT seq FROM messages WHERE id = ?", (bytes.fromhex(msg_id),)).fetchone()
        return int(row[0]) if row else 0
    finally:
        db.close()


def survey(author: Identity, question: str) -> dict[str, Any]:
    return sign_draft(author, {"kind": "survey", "body": {"question": question, "options": "yes|no"}, "tags": []})


async def publish(proc: ServerProcess, message: dict[str, Any], author: Identity) -> dict[str, Any]:
    """Join ``proc`` as ``author`` and publish ``message`` there as a member."""
    async with MurmurClient(proc.url, author) as api:
        await api.join(admin(proc.data, "invite")["code"])
        return await api.publish(message)


def test_a_kind_the_old_server_does_not_know_crosses_it_by_push_and_by_pull(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    pusher, pulled = server(tmp_path, "new-a", procs, newer=True), server(tmp_path, "new-b", procs, newer=True)
    old = server(tmp_path, "old", procs)
    pulls, pushed_to = server(tmp_path, "third-a", procs), server(tmp_path, "third-b", procs)
    peer(pusher, old, "push-pull")  # pusher -> old: only pusher's push (old never dials it)
    peer(old, pusher, "serve-only")
    peer(old, pulled, "pull-only")  # pulled -> old: only old's pull (pulled never dials it)
    peer(pulled, old, "serve-only")
    peer(pulls, old, "pull-only")  # old -> third-a: only third-a's pull
    peer(old, pulls, "serve-only")
    peer(old, pushed_to, "push-pull")  # old -> third-b: only old's push
    peer(pushed_to, old, "serve-only")

    ada, bea = Identity.generate(), Identity.generate()
    first, second = survey(ada, "lunch at noon?"), survey(bea, "standup at ten?")
    assert asyncio.run(publish(pusher, first, ada))["status"] == "stored"
    assert asyncio.run(publish(pulled, second, bea))["status"] == "stored"
    both = {first["id"], second["id"]}
    for proc in (old, pulls, pushed_to):
        wait_for(lambda proc=proc: both <= set(stored_ids(proc, "survey")))  # type: ignore[misc]

    # The old server carries surveys but takes none from its own members: it could not show them.
    cy = Identity.generate()
    with pytest.raises(ApiError) as refused:
        asyncio.run(publish(old, survey(cy, "tea?"), cy))
    assert refused.value.code == "unknown_kind"


def test_repair_converges_between_old_and_new(tmp_path: Path, procs: list[ServerProcess]) -> None:
    new, old = server(tmp_path, "new", procs, newer=True), server(tmp_path, "old", procs)
    third = server(tmp_path, "third", procs)
    peer(new, old, "push-pull")  # new -> old by new's push only
    peer(old, new, "serve-only")
    peer(third, old, "pull-only")  # old -> third by third's pull only
    peer(old, third, "serve-only")
    ada = Identity.generate()
    message = survey(ada, "move the retro?")
    assert asyncio.run(publish(new, message, ada))["status"] == "stored"
    wait_for(lambda: message["id"] in stored_ids(third))

    # Both loops are past it (their cursors saved), so what the rows below lose only repair can bring back.
    def settled() -> bool:
        return cursors(new)[0] >= seq_of(new, message["id"]) and cursors(third)[1] >= seq_of(old, message["id"])

    wait_for(settled)
    # Out of the old server: third initiates, and the old server's repair set holds the survey.
    drop(third, [message["id"]])
    out_of_old = sync_repair(third)
    assert out_of_old["error"] == "" and out_of_old["stored"] == 1, out_of_old
    # Into the old server: new initiates, finds the old one lacks the survey, and sends it.
    drop(old, [message["id"]])
    into_old = sync_repair(new)
    assert into_old["error"] == "" and into_old["sent"] == 1, into_old
    assert all(message["id"] in stored_ids(proc) for proc in (new, old, third))
