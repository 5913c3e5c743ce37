"""``murmur serve``: open (or create) a data directory and run the home server until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from murmur.errors import ConfigError
from murmur.server.app import create_app
from murmur.server.config import DataDir, ServerConfig
from murmur.server.federation.federator import Federator
from murmur.server.state import ServerState
from murmur.store import Store

log = logging.getLogger("murmur.server")


class _Server(uvicorn.Server):
    """uvicorn's server with murmur's own signal handling.

    uvicorn re-raises SIGINT/SIGTERM once it has shut down, which would skip closing the database and exit
    130; here a signal only asks for the graceful shutdown, and the process exits 0 after cleanup.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._request_exit, sig)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _request_exit(self, sig: signal.Signals) -> None:
        if self.should_exit:
            self.force_exit = True  # a second Ctrl-C stops without waiting for open streams
        self.should_exit = True


def prepare(data: Path, *, host: str | None, port: int | None, open_registration: bool | None) -> ServerConfig:
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


async def serve(data: Path, config: ServerConfig) -> None:
    data_dir = DataDir(data)
    identity = data_dir.identity()
    sock = _bind(config.host, config.port)
    bound_port = sock.getsockname()[1]
    if bound_port != config.port:
        config = dataclasses.replace(config, port=bound_port)
    store = await Store.open(data_dir.db_path, durability=config.durability)
    try:
        state = ServerState(config=config, identity=identity, store=store)
        app = create_app(state)
        uv_config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
            loop="auto",
            http="auto",
        )
        server = _Server(uv_config)
        federation = Federator(
            state,
            backoff_max=float(config.retry_max_seconds),
            pull_interval=float(config.pull_interval_seconds),
        )
        data_dir.mark_running(config.url)
        federator = asyncio.create_task(federation.run(), name="federator")
        print(f"murmur serving {config.url} server key {identity.public_key}", file=sys.stderr, flush=True)
        try:
            await server.serve(sockets=[sock])
        finally:
            data_dir.clear_running()
            federator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await federator
    finally:
        await store.close()
        sock.close()
    print("murmur stopped", file=sys.stderr, flush=True)


def run(data: Path, *, host: str | None, port: int | None, open_registration: bool | None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = prepare(data, host=host, port=port, open_registration=open_registration)
    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on Windows); the standard loop works, slower
        asyncio.run(serve(data, config))
    else:
        uvloop.run(serve(data, config))
