"""Every rule an ingest batch runs, explained on PostgreSQL as the write connection plans it, on a big database.

    python -m bench.pg_plans [--quick] [--tree DIR ...] [--database URL] [--batch N] [--json FILE]

The database is ``timeline_ms``'s on PostgreSQL (``bench.bigdb``: 1,000,000 messages, 100,000 with ``--quick``,
stored through the store and kept in the bench's cluster; built first when missing), or ``--database``. For each
tree given (default this one), a child process importing murmur from it lists the rules a batch runs (what the
kinds derive, their notices, ``PLACE_NOTICES``, the audience's batch rules) as its dialect translates them. Each is
prepared as the write connection prepares it (``plan_cache_mode = force_generic_plan``: one plan, made without
its values) and run under ``EXPLAIN (ANALYZE, BUFFERS)`` over the log's last ``N`` messages, three times, each in
a transaction rolled back. Reported per rule: its median execution time, the shared buffers it touched, the rows
its scans read (with the rows their filters dropped), and its scans; the trees take turns rule by rule and run by
run. A rule whose work follows the batch reads about as many rows as the batch holds; one that reads many times
more reads the log.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from bench.context import MODES, Context
from bench.figures.common import big_db

HERE = Path(__file__).resolve().parent.parent
RUNS = 3

_CHILD = """
import json
from murmur.kinds import REGISTRY
from murmur.store.audience.narrowing import BATCH_RULES
from murmur.store.dialect import POSTGRES
from murmur.store.ingest import PLACE_NOTICES

rules = [(f"{k.name}.derive[{i}]", r) for k in REGISTRY.values() for i, r in enumerate(k.derive)]
rules += [(f"{k.name}.notices[{i}]", r) for k in REGISTRY.values() for i, r in enumerate(k.notices)]
rules += [("ingest.PLACE_NOTICES", PLACE_NOTICES)]
rules += [(f"audience[{i}]", r) for i, r in enumerate(BATCH_RULES)]
print(json.dumps([(name, POSTGRES.translate(sql)[0]) for name, sql in rules]))
"""


def rules_of(tree: Path) -> list[tuple[str, str]]:
    """The rules of the murmur in ``tree``, translated for PostgreSQL, named by kind (or module) and position."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, cwd=tree, capture_output=True, text=True, check=True
    )  # fmt: skip
    return [(str(name), str(text)) for name, text in json.loads(done.stdout)]


def _type(value: int) -> str:
    # As psycopg types an int it sends to a prepared statement (murmur.store.postgres._widths).
    return next((name for bits, name in ((15, "int2"), (31, "int4"), (63, "int8")) if -(2**bits) <= value < 2**bits))


def _scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    if "Relation Name" in node:
        loops = node.get("Actual Loops", 1)
        read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        read += node.get("Rows Removed by Index Recheck", 0)
        what = f"{node['Node Type']} {node.get('Index Name', '')}".rstrip() + f" on {node['Alias']}"
        found.append({"scan": what, "rows": round(read * loops), "loops": loops})
    for child in node.get("Plans", []):
        found += _scans(child)
    return found


def _run(conn: psycopg.Connection[Any], text: str, lo: int, hi: int) -> tuple[float, dict[str, Any]]:
    """One run of a rule's generic plan over [lo, hi], rolled back: its execution time and plan."""
    sql = text.replace("%(lo)s", "$1").replace("%(hi)s", "$2")
    conn.execute("BEGIN")
    try:
        conn.execute(f"PREPARE murmur_rule ({_type(lo)}, {_type(hi)}) AS {sql}")
        got = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE murmur_rule ({lo}, {hi})")
        (document,) = got.fetchone() or ([],)
    finally:
        conn.execute("ROLLBACK")
        conn.execute("DEALLOCATE ALL")
    return float(document[0]["Execution Time"]), document[0]["Plan"]


def explain(url: str, trees: dict[str, list[tuple[str, str]]], batch: int) -> dict[str, list[dict[str, Any]]]:
    """Each tree's rules, by their generic plans run over the log's last ``batch`` messages (rolled back), summed
    up. The trees take turns rule by rule and run by run, so that a cache warming or a load moving favours none."""
    out: dict[str, list[dict[str, Any]]] = {tree: [] for tree in trees}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.prepare_threshold = None  # its own statements stay unprepared: DEALLOCATE ALL would drop them
        conn.execute("SET jit = off")
        conn.execute("SET plan_cache_mode = force_generic_plan")
        last = f"SELECT seq FROM messages ORDER BY seq DESC LIMIT {int(batch)}"
        row = conn.execute(f"SELECT min(seq), max(seq) FROM ({last}) b")
        lo, hi = row.fetchone() or (None, None)
        if lo is None:
            raise SystemExit(f"python -m bench.pg_plans: {url} holds no messages to run the rules over")
        for at in range(max(len(rules) for rules in trees.values())):
            runs: dict[str, list[tuple[float, dict[str, Any]]]] = {tree: [] for tree in trees if at < len(trees[tree])}
            for _ in range(RUNS):
                for tree in runs:
                    runs[tree].append(_run(conn, trees[tree][at][1], lo, hi))
            for tree, done in runs.items():
                plan = done[-1][1]
                scans = _scans(plan)
                out[tree].append({
                    "rule": trees[tree][at][0], "ms": round(statistics.median(ms for ms, _ in done), 3),
                    "buffers": plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0),
                    "rows_read": sum(s["rows"] for s in scans), "scans": scans, "batch": [lo, hi],
                })  # fmt: skip
    return out


def _report(tree: str, results: list[dict[str, Any]], batch: int) -> None:
    print(f"\n{tree}: rules over the log's last {batch} messages (generic plans; median of {RUNS} runs)")
    for r in results:
        flag = "  READS THE LOG" if r["rows_read"] > 20 * batch else ""
        print(f"  {r['rule']:24s} {r['ms']:9.2f} ms {r['buffers']:8d} buffers {r['rows_read']:9d} rows{flag}")
        for s in r["scans"]:
            print(f"      {s['scan']}: {s['rows']} rows in {s['loops']} loops")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pg_plans", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the quick mode's database (100,000 messages)")
    parser.add_argument("--tree", type=Path, action="append", help="a murmur tree whose rules to explain (repeatable)")
    parser.add_argument("--database", help="explain on this database instead of the bench's big one")
    parser.add_argument("--batch", type=int, default=500, help="messages in the batch the rules run over")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args(argv)
    trees = [t.resolve() for t in args.tree or [HERE]]
    everything: dict[str, Any] = {}
    if args.database:
        url = args.database
        everything["database"] = url
        _explain_all(url, trees, args.batch, everything)
    else:
        mode = "quick" if args.quick else "full"
        with tempfile.TemporaryDirectory(prefix="murmur-pg-plans-") as tmp:
            ctx = Context(mode=mode, sizes=MODES[mode], tmp=Path(tmp), engines=("sqlite", "postgresql"))
            try:
                made = big_db(ctx, "postgresql")
                everything["messages"] = made.messages
                _explain_all(made.database, trees, args.batch, everything)
            finally:
                ctx.close()  # stops the cluster
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))
    return 0


def _explain_all(url: str, trees: list[Path], batch: int, everything: dict[str, Any]) -> None:
    results = explain(url, {str(tree): rules_of(tree) for tree in trees}, batch)
    for tree, found in results.items():
        _report(tree, found, batch)
        everything[tree] = found


if __name__ == "__main__":
    sys.exit(main())
