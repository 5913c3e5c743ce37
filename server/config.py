"""The home server's data directory and its config file.

A data directory holds everything one server owns::

    config.toml     settings, commented; written on first start, edited by the admin
    server.key      the server's Ed25519 key (0600): signs federation requests, names the server to peers
    murmur.db       the SQLite database (0600)
    serve.json      while a server runs: its pid and the URL it really listens on (with --port 0, the only
                    way to learn it); read by `murmur admin info` and `murmur up`
    serve.lock      locked (flock) by the one server running on the directory, for as long as it runs

All paths come from ``DataDir``; all settings from ``ServerConfig``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from murmur.errors import ConfigError, Refused
from murmur.keys import Identity, load_identity, save_identity, write_private_file
from murmur.toml_files import read, table
from murmur.validate import parse_json

DEFAULT_PORT = 8470
LOG_FORMATS = ("text", "json")
MAX_WORKERS = 64
CONFIG_FIX = "Fix it, or move it aside to regenerate it."

CONFIG_TEMPLATE = """\
# murmur home server configuration. Restart the server after editing.

# Shown to members and peers in /api/v1/info.
name = {name}

# Where `murmur serve` listens. Keep 127.0.0.1 behind a reverse proxy (see docs/self-hosting.md).
host = {host}
port = {port}

# The address members use to reach this server, if different from http://host:port (e.g. behind TLS).
public_url = {public_url}

# Anyone may join without an invite when true. Members-only (invites) when false.
open_registration = {open_registration}

# "full": every acknowledged write survives a power cut (fsync on commit).
# "normal": survives a process crash; the last commits may be lost on power loss. Faster.
durability = {durability}

# Empty: the SQLite file murmur.db in this directory (needs nothing else). A postgresql:// URL (e.g.
# "postgresql://murmur@db.example.org/murmur"): that PostgreSQL database instead (docs/self-hosting.md).
# Copy a server's state across with `murmur admin migrate-db`.
database = {database}

# Largest request body accepted, in bytes.
max_body_bytes = {max_body_bytes}

# Requests per minute allowed for one member key (0 = unlimited).
rate_per_minute = {rate_per_minute}

# Largest server-to-server batch accepted, in bytes, and requests per minute per peer (0 = unlimited).
max_batch_bytes = {max_batch_bytes}
peer_rate_per_minute = {peer_rate_per_minute}

# Federation timing: the longest wait between retries to a failing peer, and how often push-pull peers are
# pulled to catch up on anything their pushes missed (pull-only peers are long-polled continuously).
retry_max_seconds = {retry_max_seconds}
pull_interval_seconds = {pull_interval_seconds}

# Repair: how often each peer's set of public messages is reconciled with ours, so anything push and pull
# missed (a lost queue, a restored backup) converges; also run when a failing peer comes back. 0 = never.
repair_interval_seconds = {repair_interval_seconds}

# Prometheus metrics at /metrics (docs/self-hosting.md#metrics): off unless true. Even then they are answered only
# to a client on this machine (loopback, not through a proxy) or to a request signed by an admin's key.
metrics = {metrics}

# Processes answering requests (one per core at most): 1 runs everything in one process. With more, each serves
# the same port and data directory; replay protection, rate limits and live streams are shared between them, and
# federation runs once (docs/self-hosting.md#workers). `murmur serve --workers` overrides it.
workers = {workers}

# How the server logs on stderr: "text" (one line per event) or "json" (one JSON object per line).
# `murmur serve --log-format` overrides it.
log_format = {log_format}
"""


DATABASE_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class ServerConfig:
    """Settings of one home server, read from ``config.toml`` in its data directory."""

    name: str = "murmur"
    """Display name of the server."""
    host: str = "127.0.0.1"
    """Interface to listen on."""
    port: int = DEFAULT_PORT
    """TCP port to listen on."""
    public_url: str = ""
    """URL members use to reach the server; empty means http://host:port."""
    open_registration: bool = False
    """Whether anyone may join without an invite."""
    durability: str = "full"
    """SQLite synchronous level: "full" or "normal" (on PostgreSQL, "normal" turns synchronous_commit off)."""
    database: str = ""
    """Empty for the SQLite file in the data directory; a ``postgresql://`` URL to run on that database."""
    max_body_bytes: int = 256 * 1024
    """Largest request body accepted, in bytes."""
    rate_per_minute: int = 600
    """Requests per minute per member key; 0 disables the limit."""
    max_batch_bytes: int = 8 * 1024 * 1024
    """Largest server-to-server request body (a push batch), in bytes."""
    peer_rate_per_minute: int = 6000
    """Requests per minute per peer server key; 0 disables the limit."""
    retry_max_seconds: int = 300
    """Longest backoff between retries to a failing peer, in seconds."""
    pull_interval_seconds: int = 60
    """Seconds between catch-up pulls from push-pull peers."""
    repair_interval_seconds: int = 3600
    """Seconds between scheduled repairs (set reconciliation) with each dialed peer; 0 disables them."""
    metrics: bool = False
    """Whether /metrics answers (Prometheus text format); 404 when false."""
    log_format: str = "text"
    """The server log's format on stderr: "text" or "json"."""
    workers: int = 1
    """Processes answering HTTP on the one socket and data directory; 1 serves everything in one process."""

    @property
    def url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def render(self) -> str:
        return CONFIG_TEMPLATE.format(**{f.name: toml_value(getattr(self, f.name)) for f in fields(self)})

    @classmethod
    def from_toml(cls, text: str, path: Path) -> ServerConfig:
        return cls.from_table(table(text, path, CONFIG_FIX), path)

    @classmethod
    def from_table(cls, data: dict[str, Any], path: Path) -> ServerConfig:
        """The settings ``data`` (config.toml as read) holds, each checked; ``path`` names the file in errors."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise ConfigError(f"{path}: unknown setting {key!r}; known settings are {', '.join(known)}.")
            expected = type(getattr(cls(), key))
            if type(value) is not expected:
                raise ConfigError(
                    f"{path}: {key} = {value!r} should be {expected.__name__}, e.g. {key} = {getattr(cls(), key)!r}."
                )
            values[key] = value
        config = cls(**values)
        if config.log_format not in LOG_FORMATS:
            raise ConfigError(f'{path}: log_format = {config.log_format!r}; expected "text" or "json".')
        if config.durability not in ("full", "normal"):
            raise ConfigError(f'{path}: durability = {config.durability!r}; expected "full" or "normal".')
        if config.database and not config.database.startswith(DATABASE_SCHEMES):
            raise ConfigError(
                f"{path}: database = {config.database!r}; expected empty (SQLite) or a postgresql:// URL."
            )
        if not 0 <= config.port <= 65535:
            raise ConfigError(f"{path}: port = {config.port} is not a TCP port (0-65535).")
        if not 1 <= config.workers <= MAX_WORKERS:
            raise ConfigError(f"{path}: workers = {config.workers}; expected 1 to {MAX_WORKERS} (1: one process).")
        if config.repair_interval_seconds < 0:
            raise ConfigError(
                f"{path}: repair_interval_seconds = {config.repair_interval_seconds} is negative; use 0 to disable."
            )
        if config.max_body_bytes < 32 * 1024:
            raise ConfigError(f"{path}: max_body_bytes = {config.max_body_bytes} is below the 32768 minimum.")
        return config


def toml_value(value: Any) -> str:
    """A setting's value as config.toml writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


SECRET = {"secret": True}
"""Field metadata of a setting never shown in full (``murmur config show``): ``field(default="", metadata=SECRET)``."""


def redacted(config: ServerConfig) -> dict[str, Any]:
    """The settings as they may be shown: a secret setting as its last 4 characters at most, and the password
    of any URL (``postgresql://user:PASSWORD@host/db``) as ``****``."""
    shown: dict[str, Any] = {}
    for f in fields(config):
        value = getattr(config, f.name)
        if f.metadata.get("secret") and value:
            value = "****" + (value[-4:] if len(value) >= 16 else "")
        elif isinstance(value, str):
            value = _URL_PASSWORD.sub(r"\1****@", value)
        shown[f.name] = value
    return shown


_URL_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@:]*:)[^/@]*@")


@dataclass(frozen=True)
class DataDir:
    """A server's data directory: where its key, database and config live."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    @property
    def key_path(self) -> Path:
        return self.root / "server.key"

    @property
    def db_path(self) -> Path:
        return self.root / "murmur.db"

    @property
    def running_path(self) -> Path:
        return self.root / "serve.json"

    @property
    def lock_path(self) -> Path:
        return self.root / "serve.lock"

    def exists(self) -> bool:
        return self.key_path.exists()

    def mark_running(self, url: str) -> None:
        """Record that this process serves the directory at ``url`` (called once the socket is bound)."""
        record = {"pid": os.getpid(), "url": url}
        try:
            write_private_file(self.running_path, json.dumps(record).encode("utf-8"), force=True)
        except OSError as exc:
            raise ConfigError(f"Cannot write {self.running_path}: {exc.strerror}.") from exc

    def clear_running(self) -> None:
        """Remove the record at a clean stop, if it is still this process's."""
        if self._running_record().get("pid") == os.getpid():
            self.running_path.unlink(missing_ok=True)

    def running_url(self) -> str | None:
        """The URL of the server running on this directory, or None when none runs (no record, or its
        process is gone: a killed server leaves its record behind)."""
        running = self.running_server()
        return running[1] if running else None

    def running_server(self) -> tuple[int, str] | None:
        """The pid and URL of the server running on this directory, as ``running_url`` finds it."""
        record = self._running_record()
        pid, url = record.get("pid"), record.get("url")
        if not isinstance(pid, int) or not isinstance(url, str) or not process_alive(pid):
            return None
        return pid, url

    def _running_record(self) -> dict[str, object]:
        try:
            record = parse_json(self.running_path.read_bytes(), limit=None, strict=False)
        except (OSError, Refused):
            return {}
        return record if isinstance(record, dict) else {}

    def create(self, config: ServerConfig) -> None:
        """First start: make the directory (0700), the server key and a commented config."""
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.key_path.exists():
                save_identity(self.key_path, Identity.generate())
            if not self.config_path.exists():
                write_private_file(self.config_path, config.render().encode("utf-8"))
        except OSError as exc:
            raise ConfigError(f"Cannot create the server's data directory {self.root}: {exc.strerror}.") from exc

    def identity(self) -> Identity:
        return load_identity(self.key_path)

    def config(self) -> ServerConfig:
        if not self.config_path.exists():
            raise ConfigError(f"No server in {self.root}: run `murmur serve --data {self.root}` once to create it.")
        return ServerConfig.from_table(read(self.config_path, CONFIG_FIX), self.config_path)

    def sources(self) -> dict[str, str]:
        """Where each setting in effect comes from: ``config.toml`` when the file sets it, else ``default``.
        Read after ``config()``, which has checked the file."""
        data = read(self.config_path, CONFIG_FIX)
        return {f.name: "config.toml" if f.name in data else "default" for f in fields(ServerConfig)}

    def require(self) -> None:
        if not self.exists():
            raise ConfigError(f"No server in {self.root}: run `murmur serve --data {self.root}` once to create it.")


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie not yet reaped counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    except OSError:
        return False
    return True
