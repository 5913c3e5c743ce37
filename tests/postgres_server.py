"""A real PostgreSQL server for the tests: Debian's binaries, data in a temporary directory, a Unix socket only.

One server per test session (``initdb`` and ``pg_ctl start -w``, which returns once the server accepts
connections); a database per test, cloned from a template that was migrated once (``CREATE DATABASE ...
TEMPLATE``), and emptied for the next test when the test is done (DELETE: milliseconds, where a clone costs
most of a second). initdb refuses to run as root, so as root the server runs as the
``postgres`` user Debian's package creates, in a directory given to it.

Nothing else listens: ``listen_addresses`` is empty, and the socket lives in the temporary directory.

The cluster dies with the process that started it: a watchdog (``tests.postgres_watchdog``), started before the
cluster, stops it and removes its directory when that process is gone, SIGKILL included.

``python -m bench --engines sqlite,postgresql`` starts its PostgreSQL the same way, with ``durable=True``: fsync
on, as a server's would be, where the tests turn it off.
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from murmur.store import Store
from tests.postgres_watchdog import stop_cluster

INSTALL = "apt-get install -y postgresql"  # the one command a developer runs (make test does it when missing)
TEMPLATE = "murmur_template"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


# Tables whose rows the migrations wrote, the same in every database: kept when a database is emptied.
_KEPT = {"murmur_schema", "kind_schema", "murmur_fts_columns", "murmur_sequence"}


def _shape(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """Every table with its columns, in order: what a test must leave as it found it for its database to be reused."""
    rows = conn.execute(
        "SELECT table_name, string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns"
        " WHERE table_schema = 'public' GROUP BY table_name ORDER BY table_name"
    ).fetchall()
    return [(str(t), str(c)) for t, c in rows]


class PostgresServer:
    def __init__(self, bindir: Path, *, durable: bool = False, root: Path | None = None) -> None:
        """A cluster in a new temporary directory, removed when it stops; or, given ``root``, the cluster kept there
        (made on first start, started again by later ones: the bench keeps its big databases so)."""
        self.bindir = bindir
        self.durable = durable
        self.kept = root is not None
        self.watchdog: subprocess.Popen[str] | None = None
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        self.root = root or Path(tempfile.mkdtemp(prefix="murmur-pg-"))
        self.data = self.root / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._names = itertools.count(1)
        self._free: list[str] = []
        self._shape: list[tuple[str, str]] = []
        self._sequences: list[str] = []

    def url(self, dbname: str) -> str:
        return f"postgresql://murmur@/{dbname}?host={self.root}"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}")

    def _watch(self) -> None:
        """Start the watchdog and wait until it watches: from then on this cluster cannot outlive this process."""
        command = [sys.executable, "-m", "tests.postgres_watchdog", str(os.getpid()), str(self.root)]
        command += ["keep" if self.kept else "remove", str(self.bindir / "pg_ctl"), *self._as]
        root = Path(__file__).resolve().parent.parent
        self.watchdog = subprocess.Popen(
            command, cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert self.watchdog.stdout is not None
        if self.watchdog.stdout.readline().strip() != "watching":
            raise RuntimeError(f"the PostgreSQL watchdog did not start (exit {self.watchdog.wait()})")

    def start(self) -> None:
        """Start the cluster with a migrated template database, for ``new_database``."""
        self.boot()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        asyncio.run(self._migrate_template())

        with psycopg.connect(self.url(TEMPLATE)) as conn:
            self._shape = _shape(conn)
            self._sequences = [str(r[0]) for r in conn.execute("SELECT sequencename FROM pg_sequences")]

    def boot(self) -> None:
        """Start the cluster (made first, unless kept from an earlier start), under its watchdog."""
        self._watch()
        if not (self.data / "PG_VERSION").exists():
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "murmur",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )
        options = f"-c listen_addresses='' -k {self.root} -c max_connections=200"
        if not self.durable:
            # fsync off: the tests kill murmur's processes, never this server, and a commit still has to reach it.
            options += " -c fsync=off -c full_page_writes=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "start",
        )

    async def _migrate_template(self) -> None:
        store = await Store.open(self.root / "unused.db", database=self.url(TEMPLATE))
        await store.close()

    def new_database(self) -> str:
        """A migrated database holding nothing, for one test; its URL. Give it back with ``release``."""
        if self._free:
            return self.url(self._free.pop())
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def release(self, url: str) -> None:
        """Empty a test's database for the next test (CREATE DATABASE costs most of a second; DELETE does not),
        or drop it if the test changed its tables' shape or the emptying fails."""
        name = url.split("@/", 1)[1].split("?")[0]
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                if _shape(conn) != self._shape:
                    raise psycopg.DataError("the test changed the tables")
                # DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE replaces every table's files.
                emptied = [f"DELETE FROM {t}" for t, _ in self._shape if t not in _KEPT]
                restarts = [f"ALTER SEQUENCE {q} RESTART" for q in self._sequences]
                conn.execute(";".join([*emptied, *restarts, "UPDATE murmur_sequence SET seq = 0"]).encode())
        except psycopg.Error:
            with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        self._free.append(name)

    def stop(self) -> None:
        stop_cluster(self.root, str(self.bindir / "pg_ctl"), self._as, keep=self.kept)
        if self.watchdog is not None:
            self.watchdog.terminate()
            self.watchdog.wait()
            if self.watchdog.stdout is not None:
                self.watchdog.stdout.close()
            self.watchdog = None
