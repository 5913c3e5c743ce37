"""``murmur serve``: open (or create) a data directory and run the home server until SIGINT/SIGTERM.

Before it serves, a server takes the data directory's lock (one server per directory: two would each run
their own federation loops and replay caches over one database) and checks the database's pages
(``quick_check``), so a damaged file is refused at start rather than found by a member's request.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import fcntl
import gc
import logging
import os
import signal
import socket
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from murmur.errors import ConfigError, StoreError
from murmur.server.app import create_app
from murmur.server.config import DATABASE_SCHEMES, MAX_WORKERS, DataDir, ServerConfig
from murmur.server.federation.federator import Federator
from murmur.server.logs import announce, configure
from murmur.server.state import ServerState
from murmur.server.workers import WorkerPool
from murmur.store import Store

log = logging.getLogger("murmur.server")

GRACEFUL_S = 3  # seconds open streams and requests get to finish at a stop


class Server(uvicorn.Server):
    """uvicorn's server with murmur's own signal handling.

    uvicorn re-raises SIGINT/SIGTERM once it has shut down, which would skip closing the database and exit
    130; here a signal only asks for the graceful shutdown, and the process exits 0 after cleanup.
    """

    stop_signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in self.stop_signals:
            loop.add_signal_handler(sig, self._request_exit, sig)
        try:
            yield
        finally:
            for sig in self.stop_signals:
                loop.remove_signal_handler(sig)

    def _request_exit(self, sig: signal.Signals) -> None:
        if self.should_exit:
            self.force_exit = True  # a second Ctrl-C stops without waiting for open streams
        self.should_exit = True


def prepare(
    data: Path,
    *,
    host: str | None,
    port: int | None,
    open_registration: bool | None,
    log_format: str | None = None,
    database: str | None = None,
    workers: int | None = None,
) -> ServerConfig:
    """Create the data directory on first start; return its config with command-line overrides applied."""
    data_dir = DataDir(data)
    if not data_dir.exists():
        data_dir.create(ServerConfig())
    config = data_dir.config()
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if open_registration is not None:
        overrides["open_registration"] = open_registration
    if log_format is not None:
        overrides["log_format"] = log_format
    if database is not None:
        if database and not database.startswith(DATABASE_SCHEMES):
            raise ConfigError(f"--database {database!r}: expected a postgresql:// URL (or empty for SQLite).")
        overrides["database"] = database
    if workers is not None:
        if not 1 <= workers <= MAX_WORKERS:
            raise ConfigError(f"--workers {workers}: expected 1 to {MAX_WORKERS} (1: one process).")
        overrides["workers"] = workers
    return dataclasses.replace(config, **overrides) if overrides else config


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"Cannot listen on {host}:{port}: {exc.strerror}. Choose another --port.") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def data_lock(data_dir: DataDir) -> Iterator[None]:
    """Hold the data directory's lock while the server runs; refuse when another process holds it.

    An OS lock (flock), not a pid file: it is released when the process ends however it ends, so a crash
    never leaves a stale lock behind. Who holds it is told by the running record (serve.json), when known.
    """
    path = data_dir.lock_path
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            # The first file a start writes: say what it is, as the database's own check would, not just "denied".
            raise ConfigError(
                f"{path.parent} is read-only: murmur must write its lock file, database and the files beside them "
                "there. Make it writable (check its permissions and whether it is mounted read-only)."
            ) from exc
        raise ConfigError(f"Cannot open the lock file {path}: {exc.strerror}.") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            running = data_dir.running_server()
            holder = f" (pid {running[0]}, {running[1]})" if running else ""
            raise ConfigError(
                f"Another murmur server is already running on {data_dir.root}{holder}; stop it first, or give "
                "this one its own --data."
            ) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


async def _refuse_damaged(store: Store, data_dir: DataDir) -> None:
    """Refuse to serve a database with damaged pages: every write to it could spread the damage."""
    found = await store.damage(full=False, most=1)
    if found:
        first = " ".join(found[0].split())[:200]
        raise StoreError(
            f"{data_dir.db_path} is damaged ({first}); not serving it. Run `murmur admin check --data "
            f"{data_dir.root}` for a full report, then restore the database from a backup (docs/self-hosting.md)."
        )


def uvicorn_server(app: ASGIApp) -> Server:
    """The HTTP server answering ``app``, as one process runs it or as each of ``workers`` does.

    What is alive by now (modules, the app, the store) lives as long as the process: frozen out of the cyclic
    garbage collector, so that its collections of the oldest generation, triggered by every request's short-lived
    objects, stop walking all of it (a few per cent of the CPU per post)."""
    gc.freeze()
    return Server(
        uvicorn.Config(
            app,
            log_level="warning",
            log_config=None,  # uvicorn's own warnings go through murmur's log handler, in its format
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=GRACEFUL_S,
            loop="auto",
            http="auto",
        )
    )


async def serve(data: Path, config: ServerConfig) -> None:
    data_dir = DataDir(data)
    with data_lock(data_dir):
        await _serve_locked(data_dir, config)


async def _serve_locked(data_dir: DataDir, config: ServerConfig) -> None:
    identity = data_dir.identity()
    sock = _bind(config.host, config.port)
    bound_port = sock.getsockname()[1]
    if bound_port != config.port:
        config = dataclasses.replace(config, port=bound_port)
    try:
        store = await Store.open(
            data_dir.db_path,
            durability=config.durability,
            database=config.database or None,
            shared=config.workers > 1,
        )
    except BaseException:
        sock.close()
        raise
    try:
        await _refuse_damaged(store, data_dir)
        state = ServerState(config=config, identity=identity, store=store)
        federation = Federator(
            state,
            backoff_max=float(config.retry_max_seconds),
            pull_interval=float(config.pull_interval_seconds),
        )
        if config.workers > 1:  # this process supervises them, and runs the federation loops for all
            pool = WorkerPool(state, data_dir, sock)
            await pool.start()
            run = pool.run
        else:
            server = uvicorn_server(create_app(state))
            run = partial(server.serve, sockets=[sock])
        data_dir.mark_running(config.url)
        federation.start()  # watched: should the supervisor ever stop, it is logged and restarted
        announce(
            config.log_format,
            f"murmur serving {config.url} server key {identity.public_key}",
            url=config.url,
            server_key=identity.public_key,
        )
        try:
            await run()
        finally:
            data_dir.clear_running()
            await federation.close()
            await state.fanout.aclose()  # streams cut by the shutdown may not all have left: stop their reader
    finally:
        await store.close()
        sock.close()
    announce(config.log_format, "murmur stopped")


def run(
    data: Path,
    *,
    host: str | None,
    port: int | None,
    open_registration: bool | None,
    log_format: str | None = None,
    database: str | None = None,
    workers: int | None = None,
) -> None:
    configure(log_format or "text")  # before reading the config, whose failure is printed, not logged
    config = prepare(
        data,
        host=host,
        port=port,
        open_registration=open_registration,
        log_format=log_format,
        database=database,
        workers=workers,
    )
    configure(config.log_format)
    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on Windows); the standard loop works, slower
        asyncio.run(serve(data, config))
    else:
        uvloop.run(serve(data, config))
