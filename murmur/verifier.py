"""Checking the signatures of many messages at once, on every core.

One Ed25519 verification is the floor cost of every message taken in, and the only part of ingest that needs
nothing but the message: so a large batch's signatures are checked in worker processes while this process
goes on parsing the rest of the batch and writing the previous one. Threads would not do: verification releases
the GIL, but each thread needs it back between two messages, and it waits for it (up to the interpreter's
switch interval) whenever this process runs Python, which is exactly when there is other work to overlap.

Small batches (a person's post, a few live messages from a peer) are checked here and now: handing them to
another process costs more than it saves. If the workers cannot start or die, batches are checked on threads
instead, and the pool is made again for the next large batch: a message is never refused for want of a worker.

Workers ignore SIGINT (Ctrl-C reaches the whole process group; the server decides when to stop) and leave on
their own when the process that started them is gone, even if it was killed without a chance to stop them.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from murmur.keys import verify_signature

log = logging.getLogger("murmur.verifier")

Claim = tuple[str, str, bytes]
"""What one signature check needs: the author's key and the signature (hex), and the signed bytes."""

CHUNK = 125  # claims per task: large enough that a hand-off costs ~1 % of the work, small enough to overlap
PROCESS_FROM = 2 * CHUNK  # fewer claims than this are checked on threads
WORKERS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def check_claims(claims: Sequence[Claim]) -> bytes:
    """One byte per claim: 1 if the signature verifies, 0 otherwise. Runs in a worker or a thread."""
    return bytes(verify_signature(key, sig, data) for key, sig, data in claims)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)  # the parent is gone: nothing will ever ask this worker for anything again


def _start_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), name="murmur-parent-watch", daemon=True).start()


class Verifier:
    """Where batches of claims are checked: worker processes when there are cores to spare, else threads."""

    def __init__(self, processes: int = WORKERS if WORKERS > 1 else 0) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._threads: ThreadPoolExecutor | None = None

    def threads(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="murmur-verify")
        return self._threads

    def in_processes(self, count: int) -> bool:
        """Whether a batch of ``count`` claims goes to the workers (and can be started part by part)."""
        return self.processes > 0 and count >= PROCESS_FROM

    def _executor(self, count: int) -> Executor:
        if not self.in_processes(count):
            return self.threads()
        if self._pool is None:
            # spawn: a fresh interpreter per worker, never a fork of a process that runs threads and an event loop.
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(os.getpid(),),
            )
        return self._pool

    def start(self, claims: Sequence[Claim], *, total: int | None = None) -> asyncio.Future[bytes]:
        """Begin checking ``claims`` (part of a batch of ``total``) and return the future of their answers."""
        loop = asyncio.get_running_loop()
        executor = self._executor(len(claims) if total is None else total)
        try:
            return asyncio.ensure_future(loop.run_in_executor(executor, check_claims, list(claims)))
        except (BrokenProcessPool, RuntimeError) as exc:
            self._lost_pool(exc)
            return asyncio.ensure_future(loop.run_in_executor(self.threads(), check_claims, list(claims)))

    async def finish(self, claims: Sequence[Claim], pending: asyncio.Future[bytes]) -> bytes:
        """The answers of a ``start``; checked again on a thread if the worker holding them died."""
        try:
            return await pending
        except BrokenProcessPool as exc:
            self._lost_pool(exc)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.threads(), check_claims, list(claims))

    def _lost_pool(self, exc: BaseException) -> None:
        if self._pool is not None:
            log.warning("signature workers stopped (%s); checking on threads until they are started again", exc)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None


_shared: Verifier | None = None


def shared() -> Verifier:
    """The process's verifier, made on first use (its workers only on the first large batch)."""
    global _shared
    if _shared is None:
        _shared = Verifier()
    return _shared
