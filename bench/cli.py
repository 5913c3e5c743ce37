"""Command line of the suite: choose the mode and figures, run them, print JSON or a table.

Progress goes to stderr, results to stdout, so ``python -m bench --json > run.json`` keeps only the result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import cryptography
from cryptography.hazmat.backends.openssl.backend import backend as openssl_backend

from bench.context import MODES, Context, Figure
from bench.engines import engine_of, parse
from bench.figures import REGISTRY, Group, all_figures, group_of


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="murmur benchmarks beside their limits.")
    parser.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes on 2 cores")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--only", metavar="NAME[,NAME]", help="figures or groups to run (default: all)")
    parser.add_argument("--list", action="store_true", help="print every registered figure, one a line, and exit")
    parser.add_argument(
        "--engines",
        default="sqlite",
        metavar="ENGINE[,ENGINE]",
        help="engines of the ingest, timeline and catchup figures: sqlite, postgresql (SQLite always runs)",
    )
    parser.add_argument(
        "--workers",
        default="1",
        metavar="N[,N]",
        help="server processes (murmur serve --workers) of publish_http; several alternate run by run",
    )
    # Sizes only the smoke test uses: every figure end to end in seconds, numbers meaningless.
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cryptography": cryptography.__version__,
        "openssl": openssl_backend.openssl_version_text(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "processor": platform.machine(),
    }


def select(only: str | None) -> list[Group]:
    if not only:
        return list(REGISTRY)
    chosen: list[Group] = []
    for name in (n.strip() for n in only.split(",") if n.strip()):
        group = group_of(name)
        if group is None:
            known = ", ".join(g.name + " (" + ", ".join(g.figures) + ")" for g in REGISTRY)
            raise SystemExit(f"python -m bench: unknown figure {name!r}; known: {known}")
        if group not in chosen:
            chosen.append(group)
    return chosen


def run(
    mode: str,
    groups: list[Group],
    tmp: Path,
    engines: tuple[str, ...] = ("sqlite",),
    workers: tuple[int, ...] = (1,),
) -> dict[str, Figure]:
    ctx = Context(mode=mode, sizes=MODES[mode], tmp=tmp, engines=engines, workers=workers)
    done: set[str] = set()

    def run_group(group: Group) -> None:
        if group.name in done:
            return
        done.add(group.name)
        started = time.perf_counter()
        ctx.results.update(group.run(ctx))
        ctx.progress(f"{group.name}: done in {time.perf_counter() - started:.1f} s")

    def run_for_limit(figure: str) -> None:
        group = group_of(figure)
        if group is not None:
            run_group(group)

    ctx.run_group = run_for_limit
    try:
        for group in groups:
            run_group(group)
    finally:
        ctx.close()
    wanted = [name for group in groups for name in group.figures if engine_of(name) in engines]
    return {name: ctx.results[name] for name in wanted}


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return "" if value is None else str(value)


TEXT_COLUMNS = (0, 2, 4)  # figure, unit, limit name: the rest are numbers, right-aligned


def table(report: dict[str, Any]) -> str:
    rows = [("figure", "value", "unit", "limit", "limit name", "ratio", "target")]
    for name, fig in report["figures"].items():
        ratio, target = fig.get("ratio"), fig.get("target_ratio")
        rows.append(
            (
                name,
                _num(fig["value"]),
                fig["unit"],
                _num(fig.get("limit")),
                fig.get("limit_name", ""),
                f"{ratio:.1%}" if isinstance(ratio, float) else "",
                f"{target:.0%}" if isinstance(target, float) else "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i in TEXT_COLUMNS else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    m = report["machine"]
    head = (
        f"murmur bench, {report['mode']} mode, {report['seconds']} s — {m['cores_usable']} cores, Python {m['python']},"
        f" cryptography {m['cryptography']}, SQLite {m['sqlite']}; engines {', '.join(report['engines'])}"
    )
    return "\n".join([head, "", *lines])


def _workers(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(n) for n in text.split(",") if n.strip())
    except ValueError:
        counts = ()
    if not counts or any(n < 1 for n in counts):
        raise SystemExit(f"python -m bench: --workers {text!r}: expected worker counts such as 1 or 1,2")
    return counts


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        print("\n".join(all_figures()))
        return 0
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    groups = select(args.only)
    engines = parse(args.engines)
    workers = _workers(args.workers)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="murmur-bench-") as tmp:
        figures = run(mode, groups, Path(tmp), engines, workers)
    report = {
        "mode": mode,
        "engines": list(engines),
        "machine": machine(),
        "seconds": round(time.perf_counter() - started, 1),
        "figures": figures,
    }
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(table(report))
    return 0
