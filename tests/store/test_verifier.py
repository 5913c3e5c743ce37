"""Signature checks on worker processes: right answers in the right places, threads when workers fail, and no
worker left behind when the process that started them dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from murmur import verifier
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store
from murmur.verifier import Claim, Verifier
from tests.waiting import until_exited

PEOPLE = [Identity.from_seed(bytes([n]) * 32) for n in range(1, 6)]
FORGED_AT = {0, 7, 124, 125, 126, 249, 250, 399, 599}


def messages(count: int) -> list[dict[str, object]]:
    out = []
    for n in range(count):
        message = sign_draft(PEOPLE[n % len(PEOPLE)], {"body": {"text": f"post {n}"}}, created_at=1_000 + n)
        if n in FORGED_AT:
            message = {**message, "sig": ("%02x" % (n % 256)) * 64}
        out.append(message)
    return out


def claims(count: int) -> list[Claim]:
    data = [b"claim %d" % n for n in range(count)]
    return [
        (PEOPLE[n % 5].public_key, ("ab" * 64 if n in FORGED_AT else PEOPLE[n % 5].sign(data[n])), data[n])
        for n in range(count)
    ]


def expected(count: int) -> bytes:
    return bytes(0 if n in FORGED_AT else 1 for n in range(count))


async def check_all(v: Verifier, items: list[Claim]) -> bytes:
    parts = [items[i : i + verifier.CHUNK] for i in range(0, len(items), verifier.CHUNK)]
    started = [(part, v.start(part, total=len(items))) for part in parts]
    return b"".join([await v.finish(part, pending) for part, pending in started])


async def test_a_large_batch_is_checked_on_workers_with_each_refusal_in_its_place(tmp_path: Path) -> None:
    batch = messages(600)
    async with await Store.open(tmp_path / "m.db") as store:
        results = await store.ingest(batch, origin="import")
    refused = {n for n, r in enumerate(results) if r.status == "refused"}
    assert refused == FORGED_AT
    assert all(results[n].code == "bad_signature" for n in refused)
    assert all(r.status == "stored" for n, r in enumerate(results) if n not in FORGED_AT)
    if verifier.shared().processes:
        assert verifier.shared()._pool is not None  # the batch went to worker processes, not threads


@pytest.mark.parametrize("processes", [0, 2])
async def test_threads_and_processes_give_the_same_answers(processes: int) -> None:
    v = Verifier(processes=processes)
    try:
        assert await check_all(v, claims(600)) == expected(600)
        assert (v._pool is not None) == bool(processes)
    finally:
        v.close()


async def test_a_killed_worker_costs_a_retry_on_threads_not_an_answer() -> None:
    v = Verifier(processes=2)
    try:
        assert await check_all(v, claims(500)) == expected(500)
        assert v._pool is not None
        workers = list(v._pool._processes)  # type: ignore[attr-defined]
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        until_exited(workers)
        assert await check_all(v, claims(500)) == expected(500)
        # ...and the next large batch starts a fresh pool
        assert await check_all(v, claims(500)) == expected(500)
        assert v._pool is not None
    finally:
        v.close()


def ignores_sigint(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(mask, 16) >> (signal.SIGINT - 1) & 1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone in every way that matters, it only waits for its (dead) parent's reaping.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and sends POSIX signals")
def test_workers_ignore_ctrl_c_and_leave_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, os, signal, time
        from tests.store.test_verifier import _alive, check_all, claims, expected, ignores_sigint
        from murmur.verifier import Verifier

        async def main():
            v = Verifier(processes=2)
            assert await check_all(v, claims(500)) == expected(500)
            pids = list(v._pool._processes)
            # A worker is spawned on demand and ignores SIGINT once its initializer ran, which can be just after
            # the batch was answered by another worker: wait for that, bounded. An ignored signal is dropped when
            # it is sent, so once this holds no SIGINT can end them later.
            deadline = time.monotonic() + 30
            while not all(ignores_sigint(pid) for pid in pids) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert all(ignores_sigint(pid) for pid in pids), "a worker would die of Ctrl-C"
            for pid in pids:
                os.kill(pid, signal.SIGINT)  # what Ctrl-C in a terminal sends the whole process group
            assert all(_alive(pid) for pid in pids), "a worker died of SIGINT"
            assert await check_all(v, claims(500)) == expected(500)
            tasks = os.listdir(f"/proc/{os.getpid()}/task")
            children = [c for t in tasks for c in open(f"/proc/{os.getpid()}/task/{t}/children").read().split()]
            print(" ".join(children), flush=True)  # the workers and anything else multiprocessing started
            os.kill(os.getpid(), signal.SIGKILL)  # no chance to stop the workers

        asyncio.run(main())
        """
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=root, env=env)
    assert done.returncode == -signal.SIGKILL, done.stderr
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) >= 2
    until_exited(pids)  # a process started for signature checks must not outlive its parent
