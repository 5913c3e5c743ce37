"""One worker of a server run with ``workers = N`` (murmur.server.workers): answers HTTP on the socket its
supervisor hands it, until SIGINT, SIGTERM or the end of its stdin (the supervisor is gone).

Started by the supervisor only, as ``python -m murmur.server.worker``; its settings arrive on stdin as one JSON
line, and it says ``ready`` on stdout once it can serve (then its stdout is its stderr).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import orjson

from murmur.errors import MurmurError
from murmur.server.app import create_app
from murmur.server.bell import Bell
from murmur.server.config import DataDir, ServerConfig
from murmur.server.gate import GateClient
from murmur.server.hub import Hub
from murmur.server.logs import configure
from murmur.server.serve import Server, uvicorn_server
from murmur.server.state import ServerState
from murmur.store import Store


async def work(settings: dict[str, Any]) -> None:
    data_dir = DataDir(Path(settings["data"]))
    config = ServerConfig(**settings["config"])
    fds = settings["fds"]
    listening = socket.socket(fileno=fds["listen"])
    to_gate = socket.socket(fileno=fds["gate"])
    loop = asyncio.get_running_loop()
    # The supervisor migrated the store before starting any worker: opening it here finds nothing to do.
    store = await Store.open(
        data_dir.db_path, durability=config.durability, database=config.database or None, shared=True
    )
    bell = Bell()
    state: ServerState | None = None
    try:
        _, gate = await loop.connect_accepted_socket(GateClient, to_gate)
        hub = Hub(bell)
        bell.add(socket.socket(fileno=fds["bell"]), lambda _, datagram: hub.hear(datagram))
        state = ServerState(
            config=config, identity=data_dir.identity(), store=store, hub=hub, gate=gate, worker=settings["index"]
        )
        server = uvicorn_server(create_app(state))
        # Ctrl-C reaches every process of the terminal's group: a worker stops when its supervisor says (SIGTERM),
        # so that the supervisor never takes a worker stopping with it for one that failed.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop_signals = (signal.SIGTERM,)
        loop.add_reader(sys.stdin.fileno(), _supervisor_gone, server)
        os.write(sys.stdout.fileno(), b"ready\n")
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nothing else is ever read from the pipe
        await server.serve(sockets=[listening])
    finally:
        if state is not None:
            await state.fanout.aclose()
        bell.close()
        await store.close()
        listening.close()


def _supervisor_gone(server: Server) -> None:
    if not os.read(sys.stdin.fileno(), 4096):
        asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
        server.should_exit = True


def main() -> None:
    settings = orjson.loads(sys.stdin.buffer.readline())
    config = ServerConfig(**settings["config"])
    configure(config.log_format)
    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    try:
        run(work(settings))
    except MurmurError as exc:
        print(f"murmur worker {settings['index']}: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
