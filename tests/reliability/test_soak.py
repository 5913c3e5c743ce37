"""The soak variant: the same promises as the CI suite, under longer and heavier load. Run by hand:

    .venv/bin/python -m pytest -m slow -s -p no:cacheprovider tests/reliability/test_soak.py

It prints its figures; docs/reliability.md carries those of the last run.
"""

from __future__ import annotations

import random
import time

import pytest

from tests.reliability.conftest import ServerFactory
from tests.reliability.faultproxy import FaultProxy
from tests.reliability.harness import Member, link, wait_until
from tests.reliability.test_crash import run_publish_cycles
from tests.reliability.test_delivery_faults import assert_clean, chatter, converged

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_soak_sigkill_cycles(make_server: ServerFactory) -> None:
    server = make_server()
    start = time.monotonic()
    acked = run_publish_cycles(server, 25, 12, random.Random(1))
    elapsed = time.monotonic() - start
    print(f"\nsoak crash: 25 SIGKILL cycles, 12 writers, {len(acked)} acknowledged, all intact, {elapsed:.0f} s")
    assert "Traceback" not in server.log()


def test_soak_delivery_under_faults(make_server: ServerFactory) -> None:
    a, b = make_server("a"), make_server("b")
    to_b, to_a = FaultProxy(b.port, seed=5).start(), FaultProxy(a.port, seed=6).start()
    try:
        link(a, b, a_url=to_a.url, b_url=to_b.url)
        members = [Member(a.url).join() for _ in range(3)], [Member(b.url).join() for _ in range(3)]
        rng, published = random.Random(3), {}  # type: ignore[var-annotated]
        to_a.faulty = to_b.faulty = True
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            chatter(members[0], rng, 10, published)
            chatter(members[1], rng, 10, published)
        to_a.heal()
        to_b.heal()
        healed = time.monotonic()
        assert wait_until(lambda: converged([a, b]), 120)
        took = time.monotonic() - healed
        faults = sum(to_a.counts.values()) + sum(to_b.counts.values()) - to_a.counts["pass"] - to_b.counts["pass"]
        print(
            f"\nsoak delivery: {len(published)} messages over 60 s of faults ({faults} injected), "
            f"converged {took:.1f} s after healing; {len(a.public_ids())} public messages on each side"
        )
        assert_clean([a, b])
    finally:
        to_a.close()
        to_b.close()
