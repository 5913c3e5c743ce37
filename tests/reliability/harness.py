"""Real `murmur serve` processes on 127.0.0.1 for the reliability suite, and the people and peers that load them.

Unlike tests/e2e/harness.py, a server's stderr goes to a file rather than a pipe: a server under fault injection
logs a lot, and a pipe nobody drains would fill and stall it, which would look like the very hang we test for.
The log is kept so that a test can assert no traceback was ever printed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from murmur.httpsig import sign_request
from murmur.jcs import canonicalize
from murmur.keys import Identity, load_identity, write_private_file
from murmur.message import sign_draft
from murmur.server.config import ServerConfig
from tests.waiting import BOUND_S, ServeOutput, poll

API = "/api/v1"
FED = "/fed/v1"


def murmur_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "murmur.client.cli", *args]


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = BOUND_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        murmur_cmd(*args), capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


@dataclass
class Server:
    """One `murmur serve` process. ``settings`` go into config.toml before the first start."""

    data: Path
    settings: dict[str, Any] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""
    key: str = ""
    starts: int = 0
    output: ServeOutput | None = None

    @property
    def log_path(self) -> Path:
        return self.data.parent / f"{self.data.name}.log"

    @property
    def db_path(self) -> Path:
        return self.data / "murmur.db"

    def write_config(self) -> None:
        if not (self.data / "config.toml").exists():
            self.data.mkdir(parents=True, exist_ok=True, mode=0o700)
            config = dataclasses.replace(ServerConfig(), **self.settings)
            write_private_file(self.data / "config.toml", config.render().encode("utf-8"))

    def start(self, preexec_fn: Callable[[], None] | None = None) -> Server:
        self.write_config()
        args = murmur_cmd("serve", "--data", str(self.data), "--host", "127.0.0.1", "--port", str(self.port))
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=preexec_fn)
        self.starts += 1
        self.output = ServeOutput(self.proc, self._log_line)
        self.url, self.key = self.output.ready()
        self.port = int(self.url.rsplit(":", 1)[1])  # the same port across restarts: peers know it
        # The line is printed once the socket listens: this request waits in its backlog if need be.
        assert httpx.get(f"{self.url}/health", timeout=BOUND_S).status_code == 200
        return self

    def _log_line(self, line: str) -> None:
        # The disk-full tests fill the disk the log is on as well: the line is lost, the test goes on.
        with contextlib.suppress(OSError), self.log_path.open("a", encoding="utf-8") as log:
            log.write(line)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the server."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=BOUND_S)
        self._drained()

    def stop(self, timeout: float = BOUND_S) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._drained()
        return code

    def _drained(self) -> None:
        """Every line the process wrote is in the log (a child it started may hold the pipe: not for long)."""
        if self.output is not None:
            self.output.ended()

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def identity(self) -> Identity:
        return load_identity(self.data / "server.key")

    # -- reading the database file directly, read-only ---------------------------------------------------------
    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def ids(self, where: str = "1") -> set[str]:
        return {bytes(r[0]).hex() for r in self.query(f"SELECT id FROM messages WHERE {where}")}

    def public_ids(self) -> set[str]:
        return self.ids("visibility = 'public'")

    def count(self) -> int:
        return int(self.query("SELECT count(*) FROM messages")[0][0])

    def integrity(self) -> str:
        return str(self.query("PRAGMA integrity_check")[0][0])


def peer_add(server: Server, url: str, key: str, mode: str = "push-pull", name: str = "") -> None:
    result = run_cli("peer", "add", "--data", str(server.data), url, "--key", key, "--mode", mode, "--name", name)
    assert result.returncode == 0, result.stderr


def link(a: Server, b: Server, *, a_url: str | None = None, b_url: str | None = None) -> None:
    """Make ``a`` and ``b`` peers of each other (push-pull both ways); a URL may point at a proxy instead."""
    peer_add(a, b_url or b.url, b.key, name=b.data.name)
    peer_add(b, a_url or a.url, a.key, name=a.data.name)


class Signer:
    """Sends requests signed with one key (a member's or a server's) to one server, as raw httpx."""

    def __init__(self, url: str, identity: Identity | None = None, timeout: float = BOUND_S) -> None:
        self.identity = identity or Identity.generate()
        self.http = httpx.Client(base_url=url, timeout=timeout)
        self._server_key: str | None = None

    @property
    def server_key(self) -> str:
        """The key of the server this signer signs for (requests are bound to one server), asked once."""
        if self._server_key is None:
            self._server_key = str(self.http.get(f"{API}/info").json()["server_key"])
        return self._server_key

    @property
    def key(self) -> str:
        return self.identity.public_key

    def close(self) -> None:
        self.http.close()

    def build(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Request:
        request = self.http.build_request(method, path, params=params, content=body)
        query = request.url.query.decode("ascii")
        signed = sign_request(self.identity, method, request.url.path, query, body, recipient=self.server_key)
        request.headers.update(signed.as_dict())
        if headers:
            request.headers.update(headers)
        return request

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.http.send(self.build(method, path, body, params, headers))


class Member(Signer):
    """A person on a server with open registration."""

    def join(self) -> Member:
        answer = self.request("POST", f"{API}/join", b"{}")
        assert answer.status_code in (200, 201), answer.text
        return self

    def sign(self, draft: dict[str, Any]) -> dict[str, Any]:
        return sign_draft(self.identity, draft)

    def post(self, text: str, **body: Any) -> dict[str, Any]:
        return self.sign({"kind": "post", "body": {"text": text, **body}})

    def publish(self, message: dict[str, Any]) -> httpx.Response:
        return self.request("POST", f"{API}/messages", canonicalize(message))

    def get_raw(self, msg_id: str) -> bytes | None:
        answer = self.request("GET", f"{API}/messages/{msg_id}")
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.text
        return answer.content

    def get_json(self, path: str, **params: Any) -> Any:
        answer = self.request("GET", path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


class Peer(Signer):
    """A peer server as another server sees it: pushes JSON Lines batches signed with its server key."""

    def push(self, raws: list[bytes]) -> httpx.Response:
        return self.request("POST", f"{FED}/messages", b"".join(r + b"\n" for r in raws))


def raw(message: dict[str, Any]) -> bytes:
    """The canonical bytes a server stores for a signed message, and gives back."""
    return canonicalize(message)


def wait_until(test: Callable[[], bool], timeout: float) -> bool:
    return poll(test, timeout)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]
