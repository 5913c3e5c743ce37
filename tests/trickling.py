"""A server on 127.0.0.1 that answers any request 200 with a chunked body of one byte at a time, for ever: each
read is quick, the answer never ends. What httpx's timeout (one read's) does not catch, and an answer's deadline
must. Given larger pieces and an end, it is a slow link bringing a large answer instead, which the deadline must
let come."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def trickling_server(
    every: float,
    piece: bytes = b"\n",
    pieces: int | None = None,
    last: bytes = b"",
    *,
    late: float = 0,
    headers: bytes = b"",
) -> Iterator[str]:
    """The server's URL; it sends a ``piece`` of its answer every ``every`` seconds until the block ends, or
    ``pieces`` of them, then ``last`` and the answer's end. ``late``: the seconds it works before the answer
    begins (its status line and ``headers``, each ending in CRLF)."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                if stop.wait(late):
                    return
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n" + headers)
                conn.sendall(b"transfer-encoding: chunked\r\n\r\n")
                sent = 0
                while not stop.wait(every):
                    if sent == pieces:
                        ending = b"%x\r\n%s\r\n" % (len(last), last) if last else b""
                        conn.sendall(ending + b"0\r\n\r\n")
                        conn.shutdown(socket.SHUT_WR)
                        while conn.recv(65536):  # the rest of the request: closing on it unread would reset
                            pass
                        return
                    conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                    sent += 1
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
