"""A catch-up cut short between fetching a page and writing it resumes without skipping a message: real
`murmur serve` processes, the puller killed (SIGKILL) by tests/e2e/halting.py just as its writer is about to write
a page it fetched and checked, then restarted as the ordinary program."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from murmur.keys import Identity
from tests.e2e import halting
from tests.e2e.harness import ServerProcess, stored_ids, wait_for
from tests.e2e.test_repair import CONFIG, bring, cli, cursors, posts
from tests.waiting import BOUND_S

pytestmark = pytest.mark.timeout(180)

PAGES = 5


def log_of(proc: ServerProcess) -> list[tuple[int, str]]:
    """(seq, id) of every message in the server's log, oldest first: what its peers' pull cursors count in."""
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        return [(int(seq), bytes(i).hex()) for seq, i in db.execute("SELECT seq, id FROM messages ORDER BY seq")]
    finally:
        db.close()


def test_a_catch_up_killed_before_a_fetched_page_is_written_resumes_and_skips_nothing(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    source = ServerProcess(tmp_path / "source", config=CONFIG).start()
    procs.append(source)
    # Scheduled repair is off (CONFIG): only the pull may bring the messages, so a skipped one stays missing.
    puller = ServerProcess(tmp_path / "puller", config=CONFIG, module="tests.e2e.halting").start()
    procs.append(puller)
    batch = posts(Identity.generate(), PAGES * halting.PAGE, 1_700_000_000_000)
    bring(source, batch, tmp_path / "batch.murmur")  # the whole log waits before the puller knows the source
    for here, there, mode in ((source, puller, "serve-only"), (puller, source, "pull-only")):
        done = cli("peer", "add", "--data", str(here.data), there.url, "--key", there.key, "--mode", mode)
        assert done.returncode == 0, done.stderr.decode()

    assert puller.proc is not None and puller.output is not None
    assert puller.proc.wait(timeout=BOUND_S) == -signal.SIGKILL  # halted as its writer took the second write
    puller.output.ended()
    held = set(stored_ids(puller))
    log = log_of(source)
    # The kill landed mid catch-up: the first write committed, later pages were fetched but are not stored.
    assert 0 < len(held) < len(batch), len(held)
    _, cursor = cursors(puller)
    behind = [msg_id for seq, msg_id in log if seq <= cursor and msg_id not in held]
    assert not behind, f"the pull cursor ({cursor}) passed {len(behind)} messages never written"

    puller.module = "murmur.client.cli"
    puller.start()
    everything = {m["id"] for m in batch}
    wait_for(lambda: set(stored_ids(puller)) == everything)
    ids = stored_ids(puller)
    assert len(ids) == len(everything)  # each once
    wait_for(lambda: cursors(puller)[1] == log[-1][0])
