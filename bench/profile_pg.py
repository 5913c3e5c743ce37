"""Store CPU a message on both engines, and PostgreSQL's ingest statements by cost.

    python -m bench.profile_pg [--messages N] [--rounds R] [--tree DIR ...] [--statements K]

Already-verified messages of the bench corpus go through ``Store.ingest`` in batches of 500 (the store's work
alone: no parsing, no signature), into a fresh SQLite file and a fresh PostgreSQL database, on every tree given
(default: this one), round after round and interleaved (tree A SQLite, tree A PostgreSQL, tree B SQLite, ...), so
that a machine whose load moves moves every figure alike. Each ingest runs in a child process importing murmur
from its tree. CPU is what holds on a loaded machine: the child's own CPU, plus, on PostgreSQL, every process of
the cluster (its backends, the WAL writer, autovacuum) over the same span.

The cluster (fsync on, as ``bench --engines`` runs it) loads ``pg_stat_statements``: after each PostgreSQL ingest
the most costly statements are listed, with their calls, execution and planning time per message stored.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from bench.corpus import make_corpus
from bench.server import cpu_seconds
from tests.postgres_server import TEMPLATE, PostgresServer, binaries

BATCH = 500
HERE = Path(__file__).resolve().parent.parent

_CHILD = """
import asyncio, os, pickle, sys, time
from pathlib import Path
from murmur.store import Store
from murmur.validate import check

raw = pickle.loads(Path(sys.argv[1]).read_bytes())
messages = [check(r) for r in raw]
database = sys.argv[3] or None
BATCH = int(sys.argv[4])

def backends():  # CPU seconds of this database's backends (the store's connections) so far
    if not database:
        return 0.0
    import psycopg
    with psycopg.connect(database, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )]
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")

async def main():
    async with await Store.open(Path(sys.argv[2]), database=database) as store:
        server = backends()
        cpu, wall = time.process_time(), time.perf_counter()
        stored = 0
        for at in range(0, len(messages), BATCH):
            stored += sum(r.status == "stored" for r in await store.ingest(messages[at : at + BATCH]))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(cpu, wall, stored, backends() - server)

asyncio.run(main())
"""


def _cluster_pids(server: PostgresServer) -> list[int]:
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    return [postmaster, *map(int, children)]


def _cluster_cpu(server: PostgresServer) -> float:
    return cpu_seconds(_cluster_pids(server))


def _statements(url: str, count: int) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT calls, total_exec_time, total_plan_time, rows, query FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " ORDER BY total_exec_time + total_plan_time DESC LIMIT %s",
            (count,),
        ).fetchall()
    return [
        {"calls": c, "exec_ms": e, "plan_ms": p, "rows": r, "query": " ".join(str(q).split())} for c, e, p, r, q in rows
    ]


def _one(tree: Path, corpus: Path, path: Path, url: str, server: PostgresServer | None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    if server is not None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
        before = _cluster_cpu(server)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(corpus), str(path), url, str(BATCH)],
        env=env, cwd=tree, capture_output=True, text=True, check=True,
    )  # fmt: skip
    client, wall, stored, backends = done.stdout.split()
    out: dict[str, Any] = {"client_s": float(client), "wall_s": float(wall), "stored": int(stored)}
    if server is not None:
        # The store's backends (they end with the child), and the cluster's own processes (WAL writer, checkpointer,
        # autovacuum's launcher) over the child's whole life, opening and closing included.
        out["backends_s"] = float(backends)
        out["cluster_s"] = _cluster_cpu(server) - before
        out["server_s"] = out["backends_s"] + out["cluster_s"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_pg", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=6000)
    parser.add_argument("--authors", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", type=Path, action="append", help="a murmur tree to measure (repeatable)")
    parser.add_argument("--statements", type=int, default=30, help="PostgreSQL statements listed per ingest")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args(argv)
    trees = [t.resolve() for t in args.tree or [HERE]]
    bindir = binaries()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install -y postgresql)")
    print(f"signing {args.messages:,} messages…", file=sys.stderr)
    raw = make_corpus(args.messages, args.authors).messages
    server = PostgresServer(bindir, durable=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="murmur-profile-pg-") as tmp:
        corpus = Path(tmp) / "corpus.pickle"
        corpus.write_bytes(pickle.dumps(raw))
        try:
            server.start()
            with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
                conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            server._run(str(bindir / "pg_ctl"), "-D", str(server.data), "-l", str(server.root / "log"), "-w", "restart")
            with psycopg.connect(server.url(TEMPLATE), autocommit=True) as conn:  # every new database has it
                conn.execute("CREATE EXTENSION pg_stat_statements")
                conn.execute("ALTER SYSTEM SET pg_stat_statements.track_planning = on")
                conn.execute("SELECT pg_reload_conf()")
            for number in range(args.rounds):
                for tree in trees:
                    for engine in ("sqlite", "postgresql"):
                        url = server.new_database() if engine == "postgresql" else ""
                        got = _one(
                            tree, corpus, Path(tmp) / f"{number}-{len(results)}.db", url,
                            server if url else None,
                        )  # fmt: skip
                        if url:
                            got["statements"] = _statements(url, args.statements)
                        got.update(round=number, tree=str(tree), engine=engine)
                        results.append(got)
                        _report(got)
        finally:
            server.stop()
    _summary(results, trees)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def _cpu_us(got: dict[str, Any]) -> float:
    return (got["client_s"] + got.get("server_s", 0.0)) / got["stored"] * 1e6


def _report(got: dict[str, Any]) -> None:
    per = 1e6 / got["stored"]
    line = f"round {got['round']} {Path(got['tree']).name} {got['engine']:10s} CPU {_cpu_us(got):6.1f} µs/msg"
    line += f" (client {got['client_s'] * per:6.1f}"
    if "server_s" in got:
        line += f", server {got['server_s'] * per:6.1f}: backends {got['backends_s'] * per:6.1f}"
    print(f"{line}); wall {got['wall_s'] * per:6.1f} µs/msg", flush=True)
    for s in got.get("statements", []):
        print(
            f"    {s['calls']:5d} calls  exec {s['exec_ms'] * 1e3 / got['stored']:6.2f}"
            f"  plan {s['plan_ms'] * 1e3 / got['stored']:5.2f} µs/msg  {s['query'][:150]}"
        )


def _summary(results: list[dict[str, Any]], trees: list[Path]) -> None:
    print("\nCPU a message stored (client + cluster), per round:")
    for tree in trees:
        for engine in ("sqlite", "postgresql"):
            cpu = [_cpu_us(r) for r in results if r["tree"] == str(tree) and r["engine"] == engine]
            print(
                f"  {tree.name:12s} {engine:10s} "
                + " / ".join(f"{c:.0f}" for c in cpu)
                + f" µs (median {statistics.median(cpu):.0f})"
            )


if __name__ == "__main__":
    sys.exit(main())
