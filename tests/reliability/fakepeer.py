"""A fake peer server on 127.0.0.1 that answers pulls (GET /fed/v1/log) with whatever a test queues, and pushes
(POST) with ``push_answer`` (404 until a test sets one), noting when each push arrived.

A real server that pulls from it (mode pull-only: it long-polls continuously) takes one queued answer per request;
with nothing queued, the fake holds the request for a moment and then answers an empty page, like a long poll.
Counting requests tells a test when the server has finished with an answer: it asks again only afterwards.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from murmur.keys import Identity
from tests.waiting import BOUND_S


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class FakePeer:
    def __init__(self) -> None:
        self.identity = Identity.generate()
        self.answers: queue.Queue[Answer] = queue.Queue()
        self.requests = 0
        self.pulling = 0  # pulls being answered now
        self.most_pulling = 0  # the most ever answered at once: a server runs one pull loop per peer
        self.push_answer = Answer(404)
        self.offer_answer = Answer(404)  # an offer of ids (POST /fed/v1/offers): by default a peer that predates them
        self.pushes: list[float] = []  # time.monotonic() of each push of messages received
        self.offers: list[float] = []  # likewise of each offer of ids
        self._cond = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                pull = self.path.startswith("/fed/v1/log")
                with fake._cond:
                    fake.requests += 1
                    fake.pulling += pull
                    fake.most_pulling = max(fake.most_pulling, fake.pulling)
                    fake._cond.notify_all()
                try:
                    answer = fake.answers.get(timeout=0.5)
                except queue.Empty:
                    answer = Answer(headers={"Murmur-Cursor": "0", "Murmur-More": "0"})
                finally:
                    with fake._cond:
                        fake.pulling -= pull
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                offer = self.path.startswith("/fed/v1/offers")
                answer = fake.offer_answer if offer else fake.push_answer
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
                with fake._cond:
                    (fake.offers if offer else fake.pushes).append(time.monotonic())
                    fake._cond.notify_all()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="fake-peer")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def key(self) -> str:
        return self.identity.public_key

    def start(self) -> FakePeer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_for_pushes(self, count: int, timeout: float = BOUND_S, *, offers: bool = False) -> bool:
        """Wait for ``count`` pushes of messages (or, with ``offers``, offers of ids)."""
        seen = self.offers if offers else self.pushes
        with self._cond:
            return self._cond.wait_for(lambda: len(seen) >= count, timeout)

    def until_asked(self, timeout: float = BOUND_S, times: int = 1) -> bool:
        """Wait for the server's first request (its pull loop has started), or its ``times``-th."""
        with self._cond:
            return self._cond.wait_for(lambda: self.requests >= times, timeout)

    def serve(self, answer: Answer, timeout: float = BOUND_S) -> bool:
        """Queue one answer and wait until the server has taken it and come back for more."""
        with self._cond:
            seen = self.requests
            self.answers.put(answer)
            # The answer goes out on request seen+1 at the latest (one may already be waiting); the request
            # after the one that took it proves the server is done with it.
            return self._cond.wait_for(lambda: self.requests >= seen + 2 and self.answers.empty(), timeout)
