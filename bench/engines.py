"""The engines a run measures (``--engines sqlite,postgresql``) and the PostgreSQL server they share.

SQLite needs nothing. PostgreSQL runs as the tests run it (``tests.postgres_server``: Debian's binaries, a Unix
socket only, a watchdog that stops it if the run is killed), with fsync on, as a server's would be. Its cluster is
kept under the bench cache beside the SQLite big databases (``bench.bigdb``), so the big database stored into it
is reused by later runs; the databases a figure writes into are made fresh each time. Tiny mode (the smoke test)
and a run that finds the kept cluster in use by another start a throwaway one.

A figure measured on PostgreSQL is named as its SQLite figure with ``_pg`` after it (``timeline_ms_pg``).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import psycopg

from bench.context import Context
from tests.postgres_server import INSTALL, PostgresServer, binaries

ENGINES = ("sqlite", "postgresql")
ALIASES = {"postgres": "postgresql", "pg": "postgresql"}
SUFFIX = "_pg"
FORMAT = 1  # of the kept cluster: raise it when what the bench keeps there changes


def parse(text: str) -> tuple[str, ...]:
    """``--engines``: names separated by commas; refused (SystemExit) when unknown. SQLite always runs, first: it is
    the baseline each PostgreSQL figure is read against, and the figures of every other group run on it."""
    chosen: list[str] = ["sqlite"]
    for name in (n.strip().lower() for n in text.split(",") if n.strip()):
        name = ALIASES.get(name, name)
        if name not in ENGINES:
            raise SystemExit(f"python -m bench: unknown engine {name!r}; known: {', '.join(ENGINES)}")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def engine_of(figure: str) -> str:
    return "postgresql" if figure.endswith(SUFFIX) else "sqlite"


def named(figure: str, engine: str) -> str:
    """The name of ``figure`` measured on ``engine``."""
    return figure + SUFFIX if engine == "postgresql" else figure


def both(*figures: str) -> tuple[str, ...]:
    """The names of ``figures`` on every engine: what an engine-aware group registers."""
    return tuple(name for figure in figures for name in (figure, figure + SUFFIX))


def cluster_root(cache: Path) -> Path:
    return cache / f"postgres-v{FORMAT}"


def _kept_root(ctx: Context) -> Path | None:
    """The kept cluster's directory, locked for this run; None (a throwaway cluster) in tiny mode, whose copy takes
    seconds, or while another run holds it: two runs cannot share one server, whose watchdog stops it when the
    run that started it ends."""
    from bench.bigdb import cache_dir  # bigdb builds its PostgreSQL copy through this module

    if ctx.mode == "tiny":
        return None
    root = cluster_root(cache_dir())
    root.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(root.parent / f"{root.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        ctx.progress(f"postgresql: {root} is in use by another run; using a throwaway server")
        return None
    ctx.on_exit(lambda: os.close(lock))  # closing the descriptor releases the lock
    return root


def cluster(ctx: Context) -> PostgresServer:
    """The run's PostgreSQL server, started on first use and stopped at the end of the run."""

    def make() -> PostgresServer:
        bindir = binaries()
        if bindir is None:
            raise SystemExit(f"python -m bench: PostgreSQL is not installed; run `{INSTALL}`, or --engines sqlite")
        root = _kept_root(ctx)
        server = PostgresServer(bindir, durable=True, root=root)
        ctx.on_exit(server.stop)
        ctx.progress(f"postgresql: starting the server in {server.root}")
        server.boot()
        return server

    server: PostgresServer = ctx.cached("postgres", make)
    return server


def has_database(server: PostgresServer, name: str) -> bool:
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def fresh_database(server: PostgresServer, name: str) -> str:
    """An empty database ``name`` (dropped first if an earlier run left it); its URL. Migrated by its first open."""
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return server.url(name)
