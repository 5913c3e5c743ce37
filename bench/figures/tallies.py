"""poll_recount_ms, letter_check_ms: what a reader's check of a tally costs, beside ``verify_limit``.

A poll with ``tally_messages`` ballots (10,000 outside tiny mode), each from its own key, is recounted as
``murmur poll results --verify`` does once the server's answer is parsed: ``murmur.client.recount.recount`` over
the ``GET /api/v1/polls/{id}/signed`` shape, which checks every ballot as any server would (strict parse,
canonical bytes, id, Ed25519 verification) and counts them by the server's rule. A letter with as many signatures
is checked as ``murmur letter verify`` does (``murmur.client.letter_check.check_letter``). The messages are signed
before the clock starts; each figure is the median of ``REPEATS`` timed runs, in milliseconds. Every ballot and
signature costs one verification, so the figure's limit, ``verify_floor`` (the count over ``verify_limit`` from the
same run, in ms), is the least any such check could take on this machine, and its ratio how far above that floor
the check is (1.0: verification is all it costs). The machine is shared and its load moves within a run, so each
figure also reports ``verify_only_ms``: the same messages' signatures verified raw (cryptography's
``Ed25519PublicKey.verify`` over their canonical bytes, prepared beforehand), timed in turn with each check run,
and ``over_verify_only``, the check's time over it: what murmur adds to the cryptography, measured at the same
moment.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bench.context import Context, Figure, rate_figure
from murmur.client.letter_check import check_letter
from murmur.client.recount import recount
from murmur.keys import Identity
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.kinds.poll import ballot_draft, poll_draft
from murmur.message import canonical_bytes, sign_draft
from murmur.validate import check

FIGURES = ("poll_recount_ms", "letter_check_ms")
REPEATS = 3
T0 = 1_700_000_000_000
CLOSES = T0 + 10**9


def _people(n: int) -> list[Identity]:
    return [Identity.from_seed(i.to_bytes(4, "big") * 8) for i in range(1, n + 1)]


def _signed_poll(people: list[Identity]) -> tuple[str, dict[str, Any]]:
    draft = poll_draft("Which day?", ["Mon", "Tue", "Wed", "Thu"], closes_at=CLOSES, multiple=False, group=None)
    poll = sign_draft(people[0], draft, created_at=T0)
    held = check(poll, now=None)
    ballots = [
        sign_draft(who, ballot_draft(held, [str(1 + n % 4)]), created_at=T0 + 1 + n) for n, who in enumerate(people)
    ]
    return poll["id"], {"poll": poll, "ballots": ballots, "group": []}


def _signed_letter(people: list[Identity]) -> tuple[str, dict[str, Any]]:
    letter = sign_draft(people[0], letter_draft("Rooms", "the board", "Give us rooms."), created_at=T0)
    held = check(letter, now=None)
    signatures = [sign_draft(who, signature_draft(held), created_at=T0 + 1 + n) for n, who in enumerate(people)]
    return letter["id"], {"letter": letter, "signatures": signatures, "withdrawals": []}


Raw = list[tuple[Ed25519PublicKey, bytes, bytes]]


def raw_of(messages: list[dict[str, Any]]) -> Raw:
    """Each message's key, signature and signed bytes, ready for a bare verification."""
    return [
        (Ed25519PublicKey.from_public_bytes(bytes.fromhex(m["author"])), bytes.fromhex(m["sig"]), canonical_bytes(m))
        for m in messages
    ]


def verify_raw(raw: Raw) -> None:
    for key, sig, data in raw:
        key.verify(sig, data)


def timed(run: Callable[[], object], raw: Raw) -> tuple[float, float]:
    """Median seconds of ``run`` and of verifying ``raw`` alone, timed in turn, ``REPEATS`` times each."""
    checks, verifies = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        checks.append(time.perf_counter() - start)
        start = time.perf_counter()
        verify_raw(raw)
        verifies.append(time.perf_counter() - start)
    return statistics.median(checks), statistics.median(verifies)


def verify_floor_figure(timed: tuple[float, float], n: int, verify_limit: float, what: str) -> Figure:
    seconds, verify_only = timed
    # Rounded before it is the limit, so the ratio printed is the ratio of the numbers printed.
    floor_ms = round(n / verify_limit * 1000, 3)
    return rate_figure(
        round(seconds * 1000, 3),
        "ms",
        limit=floor_ms,
        limit_name="verify_floor",
        **{what: n},
        per_second=round(n / seconds, 1) if seconds else None,
        verify_limit=round(verify_limit, 3),
        verify_only_ms=round(verify_only * 1000, 3),
        over_verify_only=round(seconds / verify_only, 3) if verify_only else None,
        repeats=REPEATS,
    )


def run(ctx: Context) -> dict[str, Figure]:
    n = ctx.sizes.tally_messages
    verify_limit = ctx.limit("verify_limit")
    ctx.progress(f"tallies: signing a poll's {n} ballots and a letter's {n} signatures")
    people = _people(n)
    poll_id, poll = _signed_poll(people)
    letter_id, letter = _signed_letter(people)
    recounted = recount(poll, poll_id)
    checked = check_letter(letter, letter_id)
    assert recounted.tally.voters == n and recounted.invalid == 0, "every ballot counts"
    assert checked.count.count == n and checked.invalid == 0, "every signature counts"
    ctx.progress(f"tallies: recounting and checking, {REPEATS} runs each")
    return {
        "poll_recount_ms": verify_floor_figure(
            timed(lambda: recount(poll, poll_id), raw_of(poll["ballots"])), n, verify_limit, "ballots"
        ),
        "letter_check_ms": verify_floor_figure(
            timed(lambda: check_letter(letter, letter_id), raw_of(letter["signatures"])), n, verify_limit, "signatures"
        ),
    }
