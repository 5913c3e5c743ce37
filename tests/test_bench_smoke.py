"""The benchmark suite runs end to end: every registered figure comes out with a number, a unit and its ratio.

Benchmarks are not tests and never run here at real sizes; ``--tiny`` shrinks every load so the suite takes a
few seconds, and the figures' values mean nothing beyond being measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench.pg_plans import explain, rules_of
from murmur.keys import Identity
from murmur.kinds import derive_rules, notice_rules
from murmur.message import now_ms, sign_draft
from murmur.store import Store
from murmur.store.audience.narrowing import BATCH_RULES
from murmur.store.dialect import POSTGRES
from murmur.store.ingest import PLACE_NOTICES
from tests.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parent.parent


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m bench ARGS`` from the repository's root, its output captured; with a cache of its own, as two
    of these may run at once (two workers, or two suites on one machine)."""
    with tempfile.TemporaryDirectory(prefix="murmur-bench-cache-") as cache:
        env = {**os.environ, "MURMUR_BENCH_CACHE": cache}
        return subprocess.run(
            [sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env
        )


def registered() -> set[str]:
    # Asked of the suite itself: bench/ is a folder of the repository, not an installed package.
    listed = bench("--list")
    assert listed.returncode == 0, listed.stderr
    return set(listed.stdout.split())


# Every figure on both engines takes about a minute on a quiet machine and two or more on a loaded one: the
# suite's 120 s default would cut it before the run's own 240 s bound.
@pytest.mark.timeout(300)
def test_every_figure_is_reported_with_value_unit_and_ratio() -> None:
    done = bench("--tiny", "--json", "--engines", "sqlite,postgresql", timeout=240)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["mode"] == "tiny"
    assert report["machine"]["cores"] >= 1 and report["machine"]["sqlite"]
    figures = report["figures"]
    assert set(figures) == registered() and "ingest_store" in figures
    for name, figure in figures.items():
        assert isinstance(figure["value"], int | float) and figure["value"] > 0, (name, figure)
        assert isinstance(figure["unit"], str) and figure["unit"], name
        if "limit_name" in figure:
            assert figure["limit"] > 0, name
            assert figure["ratio"] == round(figure["value"] / figure["limit"], 4), name
    assert figures["ingest_store"]["statuses"] == {"stored": figures["ingest_store"]["messages"]}
    # The HTTP figures ran against real servers, every request answered as it should be.
    assert all(not run["errors"] for run in figures["ingest_http"]["runs"] + figures["publish_http"]["runs"])
    assert figures["ingest_http"]["generator_ceiling"] > figures["ingest_http"]["value"]
    assert figures["catchup"]["messages"] == figures["catchup"]["stored"] > 0
    assert set(figures["timeline_ms"]["statuses"]) == {"200"} and not figures["timeline_ms"]["errors"]
    assert figures["rss_mb_tui"]["posts_scrolled"] > 0
    assert figures["key_log_resolve_ms"]["verifications"] > figures["key_log_resolve_ms"]["events"] > 0
    # Every open stream got every post, each post accepted.
    assert all(run["missing"] == 0 and run["refused"] == 0 for run in figures["stream_fanout"]["runs"])
    # PostgreSQL's figures ran on it, beside SQLite's from the same run and the bars of issue 20.
    assert report["engines"] == ["sqlite", "postgresql"]
    assert figures["ingest_store_pg"]["statuses"] == {"stored": figures["ingest_store_pg"]["messages"]}
    assert figures["ingest_http_pg"]["target_ratio"] == 0.6 and not figures["ingest_http_pg"]["runs"][0]["errors"]
    assert figures["timeline_ms_pg"]["limit_name"] == "timeline_ms" and figures["timeline_ms_pg"]["target_ratio"] == 2
    assert set(figures["timeline_ms_pg"]["statuses"]) == {"200"}
    assert figures["catchup_pg"]["messages"] == figures["catchup_pg"]["stored"] == figures["catchup"]["messages"]


def test_without_postgresql_its_figures_are_left_out() -> None:
    done = bench("--tiny", "--json", "--only", "timeline_ms")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["engines"] == ["sqlite"] and set(report["figures"]) == {"timeline_ms"}


def test_an_unknown_engine_is_refused_with_the_known_ones() -> None:
    done = bench("--tiny", "--engines", "mysql")
    assert done.returncode != 0
    assert "postgresql" in done.stderr and "Traceback" not in done.stderr


def test_only_selects_figures_and_measures_the_limit_it_needs() -> None:
    done = bench("--tiny", "--json", "--only", "check_rate", timeout=60)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)["figures"]
    assert set(figures) == {"check_rate", "check_noverify_rate"}
    assert figures["check_rate"]["limit_name"] == "verify_limit" and figures["check_rate"]["limit"] > 0


def test_key_log_resolution_is_measured_beside_the_verifications_it_makes() -> None:
    done = bench("--tiny", "--json", "--only", "key_log_resolve_ms", timeout=60)
    assert done.returncode == 0, done.stderr
    figure = json.loads(done.stdout)["figures"]["key_log_resolve_ms"]
    # One verification per event, and one per device an event adds (the log adds some).
    assert figure["events"] == 50 and figure["verifications"] > figure["events"]
    assert figure["limit_name"] == "verify_floor"
    assert figure["limit"] == round(figure["verifications"] / figure["verify_limit"] * 1000, 3)
    assert figure["verify_only_ms"] > 0 and figure["fold_ms"] > 0


def test_unknown_figure_is_refused_with_the_known_names() -> None:
    done = bench("--tiny", "--only", "nope")
    assert done.returncode != 0
    assert "verify_limit" in done.stderr and "Traceback" not in done.stderr


async def test_pg_plans_explains_every_rule_a_batch_runs(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.new_database()
    try:
        ann = Identity.from_seed(b"a" * 32)
        post = sign_draft(ann, {"kind": "post", "body": {"text": "hi", "visibility": "public"}, "tags": []})
        reply = sign_draft(
            ann, {"kind": "post", "body": {"text": "re", "visibility": "public"}, "tags": [["reply", post["id"]]]},
            created_at=now_ms() + 1,
        )  # fmt: skip
        async with await Store.open(tmp_path / "unused.db", database=url) as store:
            await store.ingest([post, reply])
        rules = rules_of(ROOT)
        # The rules as ingest and the audience run them over a batch, in their order.
        ran = (*derive_rules(), *notice_rules(), PLACE_NOTICES, *BATCH_RULES)
        assert [text for _, text in rules] == [POSTGRES.translate(sql)[0] for sql in ran]
        results = explain(url, {"here": rules, "again": rules}, 500)["again"]
        assert [r["rule"] for r in results] == [name for name, _ in rules]
        assert all(r["scans"] and r["ms"] >= 0 for r in results)
        assert all(r["batch"] == [min(r["batch"]), max(r["batch"])] and r["batch"][0] > 0 for r in results)
    finally:
        postgres.release(url)
