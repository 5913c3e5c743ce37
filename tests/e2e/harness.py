"""Real murmur processes for end-to-end tests: `murmur serve` on 127.0.0.1 and the CLI, each with its own dirs."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SERVE_LINE = re.compile(r"murmur serving (\S+) server key ([0-9a-f]{64})")


def murmur_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "murmur.client.cli", *args]


@dataclass
class ServerProcess:
    """One `murmur serve` process. ``start`` waits until it answers /health; ``stop`` and ``kill`` end it."""

    data: Path
    extra: tuple[str, ...] = ()
    port: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None
    url: str = ""
    key: str = ""
    log: list[str] = field(default_factory=list)

    def start(self, timeout: float = 20.0) -> ServerProcess:
        if self.config and not (self.data / "config.toml").exists():
            from murmur.server.config import ServerConfig

            self.data.mkdir(parents=True, exist_ok=True, mode=0o700)
            (self.data / "config.toml").write_text(ServerConfig(**self.config).render())
            (self.data / "config.toml").chmod(0o600)
        args = murmur_cmd(
            "serve", "--data", str(self.data), "--host", "127.0.0.1", "--port", str(self.port), *self.extra
        )
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + timeout
        assert self.proc.stderr is not None
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError(f"murmur serve exited early: {''.join(self.log)}")
            self.log.append(line)
            match = SERVE_LINE.search(line)
            if match:
                self.url, self.key = match.group(1), match.group(2)
                self.port = int(self.url.rsplit(":", 1)[1])  # keep the same port across restarts
                break
        else:
            raise TimeoutError("murmur serve did not report its URL in time")
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise TimeoutError("murmur serve did not answer /health in time")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        if self.proc.stderr is not None:
            self.log.extend(self.proc.stderr.readlines())
            self.proc.stderr.close()
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


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, interval: float = 0.2) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def stored_ids(proc: ServerProcess) -> list[str]:
    """Every message id in the server's database, read-only (duplicates would show twice)."""
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        return [bytes(r[0]).hex() for r in db.execute("SELECT id FROM messages")]
    finally:
        db.close()
