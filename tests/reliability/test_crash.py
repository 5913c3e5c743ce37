"""Nothing acknowledged is lost: SIGKILL a real server at random points while it is being written to.

Each test loads a server from a bounded number of threads, kills it with SIGKILL (no cleanup runs) at a random
moment, restarts it, and checks every message whose id the server acknowledged: stored, byte for byte what was
signed, verifiable by ``murmur.validate.check``, and the database passes ``PRAGMA integrity_check``. Messages
whose request was cut off by the kill may or may not be stored; both are correct, so they are not checked.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from murmur.validate import check
from tests.reliability.conftest import ServerFactory
from tests.reliability.harness import Member, Peer, Server, link, peer_add, raw, wait_until
from tests.waiting import BOUND_S

pytestmark = pytest.mark.timeout(180)

WRITERS = 6
CYCLES = 4
SEED = 20261123


def publish_until_down(
    member: Member, acked: dict[str, bytes], lock: threading.Condition, stop: threading.Event
) -> None:
    """Publish posts one after another until the server stops answering; record what it acknowledged."""
    n = 0
    while not stop.is_set():
        message = member.post(f"crash-test {member.key[:8]} #{n}")
        n += 1
        try:
            answer = member.publish(message)
        except httpx.TransportError:
            return  # the server died with this request in flight: not acknowledged
        if answer.status_code in (200, 201):
            with lock:
                acked[message["id"]] = raw(message)
                lock.notify_all()
        else:
            raise AssertionError(f"publish refused while healthy: {answer.status_code} {answer.text}")


def verify_acknowledged(server: Server, reader: Member, acked: dict[str, bytes]) -> None:
    """Every acknowledged message comes back from the API exactly as signed, and still verifies."""

    def fetch(msg_id: str) -> tuple[str, bytes | None]:
        return msg_id, reader.get_raw(msg_id)

    with ThreadPoolExecutor(4) as pool:
        got = dict(pool.map(fetch, list(acked)))
    missing = [i for i, body in got.items() if body is None]
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {missing[:3]}"
    for msg_id, body in got.items():
        assert body == acked[msg_id], f"{msg_id} changed in storage"
        assert check(body, now=2**53 - 1).id == msg_id
    assert server.integrity() == "ok"


def kill_under_load(
    server: Server,
    loads: list[Callable[[threading.Event], None]],
    rng: random.Random,
    acked: dict[str, bytes],
    progress: threading.Condition,
    least: int,
) -> None:
    """Run each load in a thread, SIGKILL the server at a random moment, stop and join the loads, restart it.

    The moment is counted in acknowledgements (``least`` to 3 x ``least`` more of them), not in seconds: on a
    loaded machine a time window may see almost no writes, and the kill would test nothing.
    """
    stop = threading.Event()
    threads = [threading.Thread(target=load, args=(stop,)) for load in loads]
    wanted = len(acked) + rng.randint(least, 3 * least)
    for t in threads:
        t.start()
    with progress:
        reached = progress.wait_for(lambda: len(acked) >= wanted, BOUND_S)
    server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=BOUND_S)  # no shorter than a request's own timeout (Member)
    assert not any(t.is_alive() for t in threads), "a load thread hung after the kill"
    assert reached, f"only {len(acked)} acknowledged of the {wanted} waited for before the kill"
    server.start()


def run_publish_cycles(server: Server, cycles: int, writers: int, rng: random.Random) -> dict[str, bytes]:
    members = [Member(server.url).join() for _ in range(writers)]
    acked: dict[str, bytes] = {}
    lock = threading.Condition()
    try:
        for _ in range(cycles):
            loads = [functools.partial(publish_until_down, m, acked, lock) for m in members]
            kill_under_load(server, loads, rng, acked, lock, least=15)
            verify_acknowledged(server, members[0], acked)
    finally:
        for m in members:
            m.close()
    return acked


def test_acknowledged_publishes_survive_sigkill(make_server: ServerFactory) -> None:
    server = make_server()
    acked = run_publish_cycles(server, CYCLES, WRITERS, random.Random(SEED))
    assert len(acked) > 50, "the load was too light to mean anything"
    print(f"\npublish crash: {CYCLES} SIGKILL cycles, {WRITERS} writers, {len(acked)} acknowledged, all intact")
    assert "Traceback" not in server.log()


def remote_posts(author: Member, count: int, prefix: str) -> list[bytes]:
    return [raw(author.post(f"{prefix} {i}")) for i in range(count)]


def test_acknowledged_peer_batches_survive_sigkill(make_server: ServerFactory) -> None:
    """A peer pushes 100-message batches from two connections while the receiving server is killed."""
    server = make_server()
    rng = random.Random(SEED + 1)
    peers = [Peer(server.url) for _ in range(2)]
    for i, peer in enumerate(peers):
        peer_add(server, f"http://127.0.0.1:9/{i}", peer.key, mode="serve-only")
    authors = [Member(server.url) for _ in range(4)]  # remote people: not members here
    acked: dict[str, bytes] = {}
    lock = threading.Condition()

    def push_until_down(peer: Peer, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            batch = remote_posts(authors[n % len(authors)], 100, f"batch {peer.key[:6]} {n}")
            n += 1
            try:
                answer = peer.push(batch)
            except httpx.TransportError:
                return
            assert answer.status_code == 200, answer.text
            results = answer.json()["results"]
            assert all(r["status"] in ("stored", "duplicate") for r in results), results
            with lock:
                acked.update({r["id"]: line for r, line in zip(results, batch, strict=True)})
                lock.notify_all()

    reader = Member(server.url).join()
    try:
        for _ in range(CYCLES):
            loads = [functools.partial(push_until_down, p) for p in peers]
            kill_under_load(server, loads, rng, acked, lock, least=100)
            stored = server.ids()
            lost = set(acked) - stored
            assert not lost, f"{len(lost)} acknowledged pushed messages lost"
            assert server.integrity() == "ok"
        sample = rng.sample(sorted(acked), 50)
        verify_acknowledged(server, reader, {i: acked[i] for i in sample})
    finally:
        for s in [*peers, *authors, reader]:
            s.close()
    assert len(acked) >= 400
    print(f"\npeer batch crash: {CYCLES} SIGKILL cycles, {len(acked)} acknowledged pushed messages, all intact")
    assert "Traceback" not in server.log()


def test_delivery_survives_sender_sigkill(make_server: ServerFactory) -> None:
    """Kill the sending server mid-burst, several times: afterwards the peer holds everything, once."""
    a, b = make_server("a"), make_server("b")
    link(a, b)
    acked = run_publish_cycles(a, 3, 4, random.Random(SEED + 2))

    def delivered() -> bool:
        return set(acked) <= b.ids()

    healed = time.monotonic()
    assert wait_until(delivered, BOUND_S), f"{len(set(acked) - b.ids())} of {len(acked)} never reached b"
    print(f"\nsender crash: {len(acked)} acknowledged on a, all on b {time.monotonic() - healed:.1f} s after restart")
    # Each message is stored once (ids are unique in the log), and b holds nothing from a that a did not send.
    rows = b.query(f"SELECT count(*), count(DISTINCT id) FROM messages WHERE origin = 'peer:{a.key}'")
    assert rows[0][0] == rows[0][1] == len(a.public_ids())
    assert b.integrity() == "ok" and a.integrity() == "ok"
    # a's push cursor to b has caught up with a's log: nothing is left waiting to be sent again.
    assert wait_until(
        lambda: a.query("SELECT push_cursor FROM peers")[0][0] >= a.query("SELECT max(seq) FROM messages")[0][0],
        BOUND_S,
    )
    for server in (a, b):
        assert "Traceback" not in server.log()
