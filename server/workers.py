"""``workers = N``: N processes answer one listening socket on one data directory, so a server uses N cores.

The process ``murmur serve`` starts stays the supervisor. It holds what must exist once: the data directory's
lock, the listening socket (bound before any worker starts, shared by them all: the kernel hands each
connection to whichever worker accepts first), the migrations (run when it opened the store, before any worker
opens it), the federation loops (push, pull, retries, offers, repair: ``murmur.server.federation``), and the
replay cache and rate limits every worker asks (``murmur.server.gate``). It answers no HTTP itself.

Each worker (``python -m murmur.server.worker``) is handed, as inherited descriptors, the listening socket and two
socket pairs to the supervisor: a stream for its gate requests, and datagrams for its wake-ups
(``murmur.server.bell``): what one worker stores wakes the supervisor's federation loops and the live streams of
every other worker. Its settings come on its stdin as one JSON line (so a database URL's password is never in
its command line), and stdin stays open: its end-of-file is how a worker learns its supervisor is gone, however
it went, SIGKILL included, and it then stops serving.

A worker that ends unexpectedly is logged and started again; the others serve meanwhile. The store takes care of
two writers: SQLite's write lock with a busy timeout (murmur.store.db), PostgreSQL's advisory write lock
(murmur.store.postgres); a write is acknowledged only once committed, whichever process made it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
import sys
from dataclasses import dataclass

import orjson

from murmur.errors import ConfigError
from murmur.server.bell import Bell
from murmur.server.config import DataDir
from murmur.server.gate import GateServer, LocalGate
from murmur.server.state import ServerState

log = logging.getLogger("murmur.server")

RESTART_S = 1.0  # the first wait before a worker that ended is started again; doubled each time, up to MAX
RESTART_MAX_S = 30.0
STOP_S = 10.0  # a worker's graceful stop (its open streams and requests) before it is killed


@dataclass
class _Running:
    index: int
    process: asyncio.subprocess.Process
    bell: socket.socket
    gate: asyncio.Transport


class WorkerPool:
    """The supervisor's workers: ``start`` them all (each ready to serve), ``run`` until SIGINT or SIGTERM."""

    def __init__(self, state: ServerState, data_dir: DataDir, sock: socket.socket) -> None:
        self.state = state
        self.data_dir = data_dir
        self.sock = sock
        self.bell = Bell()
        state.hub.others = self.bell  # what the federation loops store reaches every worker's streams
        assert isinstance(state.gate, LocalGate)
        self.gate = state.gate
        self.running: dict[int, _Running] = {}
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        try:
            spawned = await asyncio.gather(
                *(self._spawn(index) for index in range(1, self.state.config.workers + 1)), return_exceptions=True
            )
            for failed in spawned:
                if isinstance(failed, BaseException):
                    raise failed
        except BaseException:
            await self._stop_all()
            raise

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stopping.set)
        watchers = [asyncio.create_task(self._watch(index), name=f"murmur worker {index}") for index in self.running]
        try:
            await self._stopping.wait()
        finally:
            self._stopping.set()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await self._stop_all()
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)

    async def _spawn(self, index: int) -> None:
        loop = asyncio.get_running_loop()
        gate_ours, gate_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        bell_ours, bell_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        theirs = (self.sock.fileno(), gate_theirs.fileno(), bell_theirs.fileno())
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "murmur.server.worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                pass_fds=theirs,
            )
        finally:
            gate_theirs.close()
            bell_theirs.close()
        gate, _ = await loop.connect_accepted_socket(lambda: GateServer(self.gate), gate_ours)
        self.bell.add(bell_ours, self.bell.relaying(self.state.hub.hear))
        running = self.running[index] = _Running(index, process, bell_ours, gate)
        settings = {
            "data": str(self.data_dir.root),
            "config": dataclasses.asdict(self.state.config),
            "index": index,
            "fds": {"listen": theirs[0], "gate": theirs[1], "bell": theirs[2]},
        }
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(orjson.dumps(settings) + b"\n")
        await process.stdin.drain()
        if await process.stdout.readline() != b"ready\n":  # it logged why on the stderr it shares with us
            code = await process.wait()
            self._forget(running)
            raise ConfigError(f"Worker {index} could not start (exit code {code}); see the log above.")

    async def _watch(self, index: int) -> None:
        """Start worker ``index`` again whenever it ends while the server is not stopping."""
        while True:
            running = self.running[index]
            code = await running.process.wait()
            if self._stopping.is_set():
                return
            self._forget(running)
            log.error("worker %d (pid %d) ended with exit code %s; starting it again", index, running.process.pid, code)
            wait = RESTART_S
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), wait)
                    return
                try:
                    await self._spawn(index)
                    break
                except ConfigError as exc:
                    log.error("%s", exc)
                    wait = min(RESTART_MAX_S, wait * 2)

    def _forget(self, running: _Running) -> None:
        self.bell.forget(running.bell)
        running.gate.close()
        if running.process.stdin is not None:
            running.process.stdin.close()

    async def _stop_all(self) -> None:
        for running in self.running.values():
            if running.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    running.process.send_signal(signal.SIGTERM)
        for running in self.running.values():
            try:
                await asyncio.wait_for(running.process.wait(), STOP_S)
            except TimeoutError:
                log.error("worker %d did not stop within %d s; killing it", running.index, STOP_S)
                with contextlib.suppress(ProcessLookupError):
                    running.process.kill()
                await running.process.wait()
            self._forget(running)
