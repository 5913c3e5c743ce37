"""Clients that vanish mid-request never wedge a server: writes keep working and nothing acknowledged is lost.

A real `murmur serve` is loaded by members publishing steadily while other connections are cut with a TCP reset
at every stage of a request: half-way through the body, right after a whole publish was sent (the server is
storing it), and in the middle of a live stream. Afterwards every acknowledged message is stored as signed, the
server still takes writes, and its log shows no stuck transaction and no traceback.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.reliability.conftest import ServerFactory
from tests.reliability.harness import API, Member, raw
from tests.waiting import BOUND_S

pytestmark = pytest.mark.timeout(180)

PUBLISHERS = 3
CUTTERS = 3
CUTS_EACH = 60
SEED = 20261130


def raw_request(request: httpx.Request) -> bytes:
    head = f"{request.method} {request.url.raw_path.decode('ascii')} HTTP/1.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
    return head.encode("latin-1") + b"\r\n" + request.content


def cut(port: int, payload: bytes, *, read_first: int = 0) -> None:
    """Send ``payload``, optionally read a few bytes of the answer, then reset the connection (no FIN)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=BOUND_S)
    try:
        sock.sendall(payload)
        if read_first:
            sock.recv(read_first)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()


def cutter(member: Member, port: int, seed: int) -> int:
    rng = random.Random(seed)
    done = 0
    for n in range(CUTS_EACH):
        way = rng.choice(("half-body", "whole", "stream"))
        if way == "stream":
            request = member.build("GET", f"{API}/stream")
            cut(port, raw_request(request), read_first=16)
        else:
            message = member.post(f"cut {member.key[:8]} #{n}")
            wire = raw_request(member.build("POST", f"{API}/messages", raw(message)))
            cut(port, wire[: rng.randrange(len(wire) // 2, len(wire) - 1)] if way == "half-body" else wire)
        done += 1
    return done


def publisher(member: Member, acked: dict[str, bytes], lock: threading.Lock, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        message = member.post(f"steady {member.key[:8]} #{n}")
        n += 1
        answer = member.publish(message)
        assert answer.status_code in (200, 201), f"publish refused while clients vanish: {answer.text}"
        with lock:
            acked[message["id"]] = raw(message)


def test_reset_connections_under_load_never_wedge_the_writer(make_server: ServerFactory) -> None:
    server = make_server()
    port = int(server.url.rsplit(":", 1)[1])
    members = [Member(server.url).join() for _ in range(PUBLISHERS + CUTTERS)]
    acked: dict[str, bytes] = {}
    lock = threading.Lock()
    stop = threading.Event()
    try:
        with ThreadPoolExecutor(PUBLISHERS + CUTTERS) as pool:
            steady = [pool.submit(publisher, m, acked, lock, stop) for m in members[:PUBLISHERS]]
            cuts = [pool.submit(cutter, m, port, SEED + i) for i, m in enumerate(members[PUBLISHERS:])]
            assert sum(f.result() for f in cuts) == CUTTERS * CUTS_EACH
            stop.set()
            for f in steady:
                f.result()
        assert acked, "no publish was acknowledged during the load"
        # The server still writes, through every path that opens a transaction.
        after = members[0].post("after the resets")
        assert members[0].publish(after).status_code in (200, 201)
        for msg_id, body in acked.items():
            assert members[1].get_raw(msg_id) == body, f"acknowledged {msg_id} lost or changed"
        log = server.log()
        assert "within a transaction" not in log
        assert "Traceback" not in log
        assert server.integrity() == "ok"
    finally:
        for member in members:
            member.close()
