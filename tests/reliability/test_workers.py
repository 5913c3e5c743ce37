"""``workers = 2``: two processes answer one socket on one data directory, and the server still behaves as one.

Each test reaches a chosen worker by opening connections until one is answered by it (``/health`` names the
worker): a keep-alive connection stays with the process that accepted it.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import orjson
import pytest

from tests.reliability.conftest import BASE_SETTINGS, ServerFactory
from tests.reliability.fakepeer import FakePeer
from tests.reliability.harness import API, Member, Server, peer_add, raw
from tests.reliability.test_crash import run_publish_cycles
from tests.waiting import BOUND_S, poll

pytestmark = pytest.mark.timeout(180)

WORKERS = 2


def on_worker(server: Server, worker: int, member: Member | None = None, timeout: float = BOUND_S) -> Member:
    """A member (``member``'s key, or a new one) whose connection the given worker accepted."""
    for _ in range(200):  # the kernel hands each connection to either worker: 200 misses in a row do not happen
        candidate = Member(server.url, member.identity if member else None, timeout=timeout)
        answer = candidate.http.get("/health").json()
        if answer.get("worker") == worker:
            return candidate
        candidate.close()
    raise AssertionError(f"no connection was accepted by worker {worker}")


def test_health_names_the_worker_and_both_serve(make_server: ServerFactory) -> None:
    server = make_server(workers=WORKERS)
    members = [on_worker(server, worker) for worker in range(1, WORKERS + 1)]
    for member in members:
        member.close()


def test_a_request_replayed_to_the_other_worker_is_refused(make_server: ServerFactory) -> None:
    server = make_server(workers=WORKERS)
    first = on_worker(server, 1).join()
    second = on_worker(server, 2, first)
    try:
        for to, replayed_to in ((first, second), (second, first)):
            signed = to.build("POST", f"{API}/messages", raw(to.post("once")))
            assert to.http.send(signed).status_code == 201
            again = replayed_to.http.send(signed)
            assert again.status_code == 401, again.text
            assert again.json()["error"]["code"] == "replayed"
    finally:
        first.close()
        second.close()


def test_a_client_on_both_workers_gets_its_limit_once(make_server: ServerFactory) -> None:
    limit = 3  # one token back every 20 s: the test is over long before (the bound below counts them anyway)
    server = make_server(workers=WORKERS, rate_per_minute=limit)
    first = on_worker(server, 1)
    second = on_worker(server, 2, first)
    try:
        started = first.http.get("/health")  # a Date header: when the counting began, by the server's clock
        allowed = 0
        for _ in range(2 * limit):
            for member in (first, second):
                # Not a member: refused (403) once past the limiter, which comes first; 429 is the limiter's.
                if member.request("GET", f"{API}/timelines/local").status_code != 429:
                    allowed += 1
        ended = first.http.get("/health")
        refilled = int((_seconds(started, ended) + 1) * limit / 60)  # the Date header counts whole seconds
        assert allowed <= limit + refilled, f"{allowed} requests let through; two limiters would let {2 * limit}"
        assert allowed >= limit
    finally:
        first.close()
        second.close()


def _seconds(started: httpx.Response, ended: httpx.Response) -> float:
    return (parsedate_to_datetime(ended.headers["date"]) - parsedate_to_datetime(started.headers["date"])).seconds


def test_a_stream_on_one_worker_receives_a_post_made_through_the_other(make_server: ServerFactory) -> None:
    server = make_server(workers=WORKERS)
    author = on_worker(server, 1).join()
    reader = on_worker(server, 2, timeout=BOUND_S).join()
    try:
        signed = reader.build("GET", f"{API}/stream")
        with reader.http.stream(signed.method, signed.url, headers=signed.headers) as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith(": murmur stream")  # the stream is open and listening on worker 2
            message = author.post("through worker 1")
            assert author.publish(message).status_code == 201
            for line in lines:  # each read waits for the next event, as long as the client's timeout
                if line.startswith("data: ") and orjson.loads(line[6:]).get("message", {}).get("id") == message["id"]:
                    break
    finally:
        author.close()
        reader.close()


def test_federation_runs_in_one_process(make_server: ServerFactory) -> None:
    """A pull-only peer is long-polled by one pull loop: with one per process, the fake would see pulls overlap."""
    server = make_server(workers=WORKERS)
    fake = FakePeer().start()
    try:
        peer_add(server, fake.url, fake.key, mode="pull-only", name="fake")
        assert fake.until_asked(times=6), "the server never pulled from the fake peer"
        assert fake.most_pulling == 1
    finally:
        fake.close()


class _Group(Server):
    """A server whose supervisor and workers die together, as on a crash of the machine's power or the kernel's
    OOM killer taking the process group: SIGKILL to every process at once, nothing cleans up."""

    def start(self, preexec_fn: object = None) -> Server:
        return super().start(preexec_fn=os.setsid)

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=BOUND_S)
        self._drained()


def test_acknowledged_publishes_survive_sigkill_of_every_worker(make_server: ServerFactory) -> None:
    server = _Group(make_server("group", start=False).data, {**BASE_SETTINGS, "workers": WORKERS})
    server.start()
    try:  # six writers whose connections land on either worker, three kills of every process at once
        acked = run_publish_cycles(server, 3, 6, random.Random(20261130))
    finally:
        if server.running():
            server.kill()
    assert len(acked) > 50, "the load was too light to mean anything"
    assert "Traceback" not in server.log()


def _workers_of(server: Server) -> list[int]:
    assert server.proc is not None
    return [int(pid) for pid in Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()]


def test_a_worker_killed_is_started_again_while_the_other_serves(make_server: ServerFactory) -> None:
    server = make_server(workers=WORKERS)
    member = on_worker(server, 1).join()
    try:
        first = _workers_of(server)
        assert len(first) == WORKERS
        os.kill(first[0], signal.SIGKILL)
        # Its connections die with it; the other worker serves new ones, and the supervisor starts another.
        assert poll(lambda: len(set(_workers_of(server)) - set(first)) == 1), "the killed worker was not replaced"
        for worker in range(1, WORKERS + 1):
            again = on_worker(server, worker, member)
            assert again.publish(again.post(f"after the kill, on worker {worker}")).status_code == 201
            again.close()
        # the supervisor's line, read from its stderr by another thread of this test: waited for, not assumed read
        assert poll(lambda: "starting it again" in server.log()), server.log()
    finally:
        member.close()


def test_ctrl_c_stops_every_process_at_once_and_cleanly(make_server: ServerFactory) -> None:
    server = _Group(make_server("ctrlc", start=False).data, {**BASE_SETTINGS, "workers": WORKERS})
    server.start()
    workers = _workers_of(server)
    assert server.proc is not None
    os.killpg(server.proc.pid, signal.SIGINT)  # what a terminal sends its foreground group
    assert server.proc.wait(timeout=BOUND_S) == 0
    server._drained()
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert "starting it again" not in server.log()
    assert "Traceback" not in server.log()


def test_both_workers_write_at_once_on_every_engine(
    make_server: ServerFactory, engine: str, database: str | None
) -> None:
    """Posts through both workers at once, on SQLite and on PostgreSQL: each acknowledged, each stored once."""
    server = make_server(workers=WORKERS, **({"database": database} if database else {}))
    writers = [on_worker(server, worker).join() for worker in (1, 2, 1, 2)]
    acked: dict[str, bytes] = {}
    lock = threading.Lock()

    def publish(member: Member) -> None:
        for n in range(40):
            message = member.post(f"{member.key[:6]} {n}")
            answer = member.publish(message)
            assert answer.status_code == 201, answer.text
            with lock:
                acked[message["id"]] = raw(message)

    try:
        with ThreadPoolExecutor(len(writers)) as pool:
            list(pool.map(publish, writers))
        assert len(acked) == 40 * len(writers)
        for msg_id, body in acked.items():
            assert writers[0].get_raw(msg_id) == body
        seqs = [item["seq"] for item in writers[1].get_json(f"{API}/timelines/local", limit=100)["items"]]
        assert len(seqs) == len(set(seqs)) == 100
    finally:
        for member in writers:
            member.close()
