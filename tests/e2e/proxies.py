"""Minimal forward proxies for tests: HTTP (absolute-form requests) and SOCKS5 (CONNECT, no auth).

Each runs on 127.0.0.1 in a thread of its own, relays to 127.0.0.1 only, and records what went through it,
so a test can prove that a server dialed its peer through the proxy and not around it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field

from bench.meshnet import pipe
from tests.waiting import BOUND_S


@dataclass
class Proxy:
    kind: str  # "http" or "socks5"
    port: int = 0
    seen: list[str] = field(default_factory=list)  # request lines (http) or CONNECT targets (socks5)
    carried: bytearray = field(default_factory=bytearray)  # every byte relayed, both ways (http)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'http' if self.kind == 'http' else 'socks5'}://127.0.0.1:{self.port}"

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode("latin-1")
        self.seen.append(line.strip())
        method, target, version = line.split(" ", 2)
        host_port = target.split("//", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        if host != "127.0.0.1":
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        path = "/" + target.split("//", 1)[1].split("/", 1)[1]
        # One request per connection: ask both ends to close, so the next request shows up here again.
        up_writer.write(f"{method} {path} {version}".encode("latin-1"))
        up_writer.write(b"Connection: close\r\n")
        carry = self.carried.extend
        await asyncio.gather(pipe(reader, up_writer, carry), pipe(up_reader, writer, carry))

    async def _socks(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        greeting = await reader.readexactly(2)
        await reader.readexactly(greeting[1])
        writer.write(b"\x05\x00")  # no authentication
        head = await reader.readexactly(4)
        if head[3] == 1:
            host = ".".join(str(b) for b in await reader.readexactly(4))
        elif head[3] == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        else:
            writer.close()
            return
        port = int.from_bytes(await reader.readexactly(2), "big")
        self.seen.append(f"CONNECT {host}:{port}")
        if host not in ("127.0.0.1", "localhost"):
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + port.to_bytes(2, "big"))
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def start(self) -> Proxy:
        ready = threading.Event()

        async def main() -> None:
            handler = self._http if self.kind == "http" else self._socks
            server = await asyncio.start_server(handler, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self._loop = asyncio.get_running_loop()
            ready.set()
            async with server:
                with contextlib.suppress(asyncio.CancelledError):  # stop() cancels it
                    await server.serve_forever()

        self._thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
        self._thread.start()
        assert ready.wait(BOUND_S)
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        def cancel_all() -> None:  # on the proxy's own loop: its task list is not safe to read from this thread
            for task in asyncio.all_tasks(loop):
                task.cancel()

        # One hand-over: once the serving task is cancelled, asyncio.run may end and close the loop at once, so a
        # second call_soon_threadsafe could meet a closed loop. A loop already closed has nothing left to stop.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(cancel_all)
        if self._thread is not None:
            self._thread.join(timeout=30)
