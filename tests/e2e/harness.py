"""Real murmur processes for end-to-end tests: `murmur serve` on 127.0.0.1 and the CLI, each with its own dirs."""

from __future__ import annotations

import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg

from tests.waiting import BOUND_S, ServeOutput, poll

T = TypeVar("T")


def murmur_cmd(*args: str, module: str = "murmur.client.cli") -> list[str]:
    return [sys.executable, "-m", module, *args]


@dataclass
class ServerProcess:
    """One `murmur serve` process. ``start`` waits for its readiness line; ``stop`` and ``kill`` end it.

    ``module`` is the program run with ``python -m``: tests/e2e/newer.py stands in for a newer version."""

    data: Path
    extra: tuple[str, ...] = ()
    port: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None
    url: str = ""
    key: str = ""
    log: list[str] = field(default_factory=list)
    output: ServeOutput | None = None
    module: str = "murmur.client.cli"

    def start(self) -> ServerProcess:
        if self.config and not (self.data / "config.toml").exists():
            from murmur.server.config import ServerConfig

            self.data.mkdir(parents=True, exist_ok=True, mode=0o700)
            (self.data / "config.toml").write_text(ServerConfig(**self.config).render())
            (self.data / "config.toml").chmod(0o600)
        args = murmur_cmd(
            "serve",
            "--data",
            str(self.data),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *self.extra,
            module=self.module,
        )
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        self.output = ServeOutput(self.proc, self.log.append)
        self.url, self.key = self.output.ready()
        self.port = int(self.url.rsplit(":", 1)[1])  # keep the same port across restarts
        # The line is printed once the socket listens: this request waits in its backlog if need be.
        assert httpx.get(f"{self.url}/health", timeout=BOUND_S).status_code == 200
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = BOUND_S) -> int:
        assert self.proc is not None and self.output is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.output.ended()
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@dataclass
class Person:
    """A person with their own home directory, running the real CLI."""

    home: Path

    def run(self, *args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MURMUR_HOME": str(self.home)}
        result = subprocess.run(murmur_cmd(*args), input=stdin, capture_output=True, text=True, env=env, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"murmur {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def json(self, *args: str, stdin: str = "") -> Any:
        return json.loads(self.run(*args, "--json", stdin=stdin).stdout)

    @property
    def key(self) -> str:
        return str(self.json("whoami")["key"])


def admin(data: Path, *args: str) -> Any:
    result = subprocess.run(murmur_cmd("admin", *args, "--data", str(data), "--json"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def together(*calls: Callable[[], T]) -> list[T]:
    """Run independent CLI calls (each its own process and home) at once, their results in order: the steps of
    several people or servers that do not wait on each other, so a test waits for the slowest, not the sum."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


def wait_for(condition: Callable[[], bool], timeout: float = BOUND_S) -> None:
    """Poll ``condition`` (state in other processes' files) until it holds; fail after ``timeout`` seconds."""
    if not poll(condition, timeout):
        raise AssertionError(f"condition not met within {timeout} s")


def encodings(secret: str) -> list[bytes]:
    """The phrase as bytes in every encoding a file or log line could hold it in: raw, hex, base64 (standard and
    URL-safe, at each of the three alignments it could start at inside a longer text) and UTF-16."""
    raw = secret.encode()
    found = [
        raw,
        raw.hex().encode(),
        raw.hex().upper().encode(),
        secret.encode("utf-16-le"),
        secret.encode("utf-16-be"),
    ]
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            # the characters that depend only on the phrase's own bytes, whatever precedes it
            text = encode(b"\0" * shift + raw)[4 if shift else 0 :]
            found.append(text[: len(text) - 4])
    return found


def stored_ids(proc: ServerProcess, kind: str | None = None) -> list[str]:
    """Every message id in the server's database (of one kind, if given), read-only (duplicates would show
    twice)."""
    if proc.config.get("database"):  # a server on PostgreSQL (tests/e2e/test_two_engines.py)
        with psycopg.connect(str(proc.config["database"])) as pg:
            where, params = ("WHERE kind = %s", (kind,)) if kind else ("", ())
            return [bytes(r[0]).hex() for r in pg.execute(f"SELECT id FROM messages {where}", params)]
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        if kind is None:
            return [bytes(r[0]).hex() for r in db.execute("SELECT id FROM messages")]
        return [bytes(r[0]).hex() for r in db.execute("SELECT id FROM messages WHERE kind = ?", (kind,))]
    finally:
        db.close()
