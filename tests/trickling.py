"""A server on 127.0.0.1 that answers any request 200 with a chunked body of one byte at a time, for ever: each
read is quick, the answer never ends. What httpx's timeout (one read's) does not catch, and an answer's deadline
must."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def trickling_server(every: float) -> Iterator[str]:
    """The server's URL; it sends a byte of its answer every ``every`` seconds until the block ends."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n")
                conn.sendall(b"transfer-encoding: chunked\r\n\r\n")
                while not stop.wait(every):
                    conn.sendall(b"1\r\n\n\r\n")
            except OSError:
                return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()
