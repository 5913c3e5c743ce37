"""Resource limits on a real server: body and batch caps, per-key and per-peer rate limits, bounded requests, and
fairness: a flood from one member or one peer does not starve the others (measured, figures printed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from murmur.httpsig import sign_request
from tests.reliability.conftest import ServerFactory
from tests.reliability.harness import API, FED, Member, Peer, Server, peer_add, percentile, raw
from tests.waiting import BOUND_S

pytestmark = pytest.mark.timeout(180)


def refusal(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, (answer.status_code, answer.text[:200])
    assert answer.json()["error"]["code"] == code


def test_request_body_cap(make_server: ServerFactory) -> None:
    server = make_server(max_body_bytes=32 * 1024)
    member = Member(server.url).join()
    big = b'{"pad":"' + b"x" * 40_000 + b'"}'
    refusal(member.request("POST", f"{API}/messages", big), 413, "too_large")

    # Without Content-Length (chunked), the cap still holds: the body is counted as it streams in.
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 1024

    headers = sign_request(
        member.identity, "POST", f"{API}/messages", "", b"x" * 40 * 1024, recipient=member.server_key
    ).as_dict()
    refusal(member.http.post(f"{API}/messages", content=chunks(), headers=headers), 413, "too_large")
    assert member.publish(member.post("still fine")).status_code == 201
    assert server.count() == 1
    member.close()


def test_batch_caps(make_server: ServerFactory) -> None:
    server = make_server(max_batch_bytes=64 * 1024)
    peer = Peer(server.url)
    peer_add(server, "http://127.0.0.1:9", peer.key, mode="serve-only")
    author = Member(server.url)
    lines = [raw(author.post(f"batch line {i}")) for i in range(400)]  # about 150 kB
    refusal(peer.push(lines), 413, "too_large")
    assert server.count() == 0
    many_lines = b"{}\n" * 1001  # more lines than a batch may hold, well under the byte cap
    refusal(peer.request("POST", f"{FED}/messages", many_lines), 413, "too_large")
    answer = peer.push(lines[:50])
    assert answer.status_code == 200 and answer.json()["stored"] == 50
    peer.close()
    author.close()


def test_log_requests_are_bounded(make_server: ServerFactory) -> None:
    server = make_server()
    peer = Peer(server.url)
    peer_add(server, "http://127.0.0.1:9", peer.key, mode="serve-only")
    refusal(peer.request("GET", f"{FED}/log", params={"limit": 1001}), 400, "bad_limit")
    refusal(peer.request("GET", f"{FED}/log", params={"wait": 31}), 400, "bad_number")
    refusal(peer.request("GET", f"{FED}/log", params={"after": 2**53}), 400, "bad_cursor")
    member = Member(server.url).join()
    refusal(member.request("GET", f"{API}/timelines/local", params={"limit": 101}), 400, "bad_limit")
    peer.close()
    member.close()


def test_per_key_rate_limit_answers_429_with_retry_after(make_server: ServerFactory) -> None:
    server = make_server(rate_per_minute=30)
    greedy, other = Member(server.url).join(), Member(server.url).join()
    answers = [greedy.publish(greedy.post(f"greedy {i}")) for i in range(40)]
    limited = [a for a in answers if a.status_code == 429]
    assert len(limited) >= 9, [a.status_code for a in answers]
    for answer in limited:
        assert answer.json()["error"]["code"] == "rate_limited"
        assert int(answer.headers["retry-after"]) >= 1
    assert server.count() == sum(a.status_code == 201 for a in answers)
    # The limit is per key: another member is served at once.
    assert other.publish(other.post("not starved")).status_code == 201
    greedy.close()
    other.close()


def test_per_peer_rate_limit_answers_429_with_retry_after(make_server: ServerFactory) -> None:
    server = make_server(peer_rate_per_minute=20)
    greedy, other = Peer(server.url), Peer(server.url)
    for p in (greedy, other):
        peer_add(server, "http://127.0.0.1:9", p.key, mode="serve-only")
    author = Member(server.url)
    answers = [greedy.push([raw(author.post(f"p {i}"))]) for i in range(30)]
    limited = [a for a in answers if a.status_code == 429]
    assert len(limited) >= 9
    assert all(a.json()["error"]["code"] == "rate_limited" and int(a.headers["retry-after"]) >= 1 for a in limited)
    assert other.push([raw(author.post("other peer"))]).status_code == 200
    for s in (greedy, other, author):
        s.close()


def latencies(member: Member, count: int) -> tuple[list[float], int]:
    """Publish ``count`` posts one after another; their latencies in ms, and how many were accepted."""
    times: list[float] = []
    ok = 0
    for i in range(count):
        message = member.post(f"measured {i}")
        start = time.perf_counter()
        answer = member.publish(message)
        times.append((time.perf_counter() - start) * 1000)
        ok += answer.status_code == 201
    return times, ok


def flood(
    stop: threading.Event, send: list[object], counts: dict[int, int], lock: threading.Lock, answered: threading.Event
) -> None:
    sender = send[0]
    while not stop.is_set():
        try:
            status = sender() if callable(sender) else 0
        except httpx.TransportError:
            status = -1
        with lock:
            counts[status] = counts.get(status, 0) + 1
        answered.set()


def measure_under_flood(server: Server, victim: Member, senders: list[object], count: int) -> dict[str, object]:
    idle, idle_ok = latencies(victim, count)
    stop, lock = threading.Event(), threading.Lock()
    counts: dict[int, int] = {}
    answered = [threading.Event() for _ in senders]
    pairs = zip(senders, answered, strict=True)
    threads = [threading.Thread(target=flood, args=(stop, [s], counts, lock, a)) for s, a in pairs]
    for t in threads:
        t.start()
    for first in answered:  # measure once every flooding connection is under way, however long that takes
        assert first.wait(BOUND_S), f"a flooding connection never got an answer: {counts}"
    busy, busy_ok = latencies(victim, count)
    stop.set()
    for t in threads:
        t.join(30)
    return {
        "idle_p50": percentile(idle, 50),
        "idle_p99": percentile(idle, 99),
        "flood_p50": percentile(busy, 50),
        "flood_p99": percentile(busy, 99),
        "victim_ok": (idle_ok, busy_ok, count),
        "flood_answers": dict(sorted(counts.items())),
    }


FLOOD_THREADS = 6
MEASURED = 150


def test_a_flooding_member_does_not_starve_another(make_server: ServerFactory) -> None:
    server = make_server(rate_per_minute=600)
    victim, flooder = Member(server.url).join(), Member(server.url).join()
    clients = [Member(server.url, flooder.identity) for _ in range(FLOOD_THREADS)]
    senders: list[object] = [
        (lambda c=c: c.publish(c.post("flood")).status_code)  # type: ignore[misc]
        for c in clients
    ]
    figures = measure_under_flood(server, victim, senders, MEASURED)
    print(f"\nmember flood ({FLOOD_THREADS} connections, one key, 600/min limit): {figures}")
    assert figures["victim_ok"] == (MEASURED, MEASURED, MEASURED)
    answers = figures["flood_answers"]
    assert isinstance(answers, dict) and answers.get(429, 0) > 0, answers
    for c in (victim, flooder, *clients):
        c.close()


def test_a_flooding_peer_does_not_starve_members(make_server: ServerFactory) -> None:
    server = make_server(peer_rate_per_minute=600)
    victim = Member(server.url).join()
    peer_id = Peer(server.url)
    peer_add(server, "http://127.0.0.1:9", peer_id.key, mode="serve-only")
    clients = [Peer(server.url, peer_id.identity) for _ in range(FLOOD_THREADS)]
    author = Member(server.url)
    lock = threading.Lock()

    def push(c: Peer) -> int:
        with lock:
            batch = [raw(author.post("peer flood")) for _ in range(100)]
        return c.push(batch).status_code

    senders: list[object] = [(lambda c=c: push(c)) for c in clients]  # type: ignore[misc]
    figures = measure_under_flood(server, victim, senders, MEASURED)
    print(f"\npeer flood ({FLOOD_THREADS} connections, 100-message batches, 600/min limit): {figures}")
    assert figures["victim_ok"] == (MEASURED, MEASURED, MEASURED)
    for c in (victim, peer_id, author, *clients):
        c.close()
