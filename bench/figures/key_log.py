"""key_log_resolve_ms: resolving an identity's key-event log from its signed events, beside ``verify_limit``.

A log of ``key_log_events`` events (1,000 outside tiny mode: an inception, then devices added and removed and
rotations, as ``bench.identity.key_log`` makes them) is resolved as a reader that has never seen it does: every
event checked (``murmur.validate.check``: strict parse, canonical bytes, id, Ed25519 verification), then folded
(``murmur.kinds.key_log.resolve``) with no device proof known (its caches cleared first, so every proof is
verified). The events are signed before the clock starts; the figure is the median of ``REPEATS`` runs, in
milliseconds. The verifications a run makes are counted (one per event, one per device proof verified), so the
limit, ``verify_floor`` (that count over ``verify_limit`` from the same run, in ms), is the least any resolution of
this log could take on this machine, and the ratio how far above it this one is. As in ``tallies``, the same
signatures verified raw are timed in turn with each run (``verify_only_ms``, ``over_verify_only``), since the
shared machine's load moves within a run; ``fold_ms`` is the fold alone with every proof known (what a log changed
by one event costs a server that already resolved it), ``us_per_event`` the figure over the events and
``per_second`` the verifications over it (the figure is built as the tallies' are: ``tallies.verify_floor_figure``).
"""

from __future__ import annotations

import statistics
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bench.context import Context, Figure
from bench.figures.tallies import REPEATS, Raw, raw_of, timed, verify_floor_figure
from bench.identity import key_log
from murmur.kinds.key_log import DEVICE_ADD, RECOVERY, Event, _proof_holds, _sealing_public, proof_bytes, resolve
from murmur.validate import check

FIGURES = ("key_log_resolve_ms",)


def _proofs(identity: str, events: list[Event]) -> Raw:
    """Each device proof's key, signature and signed bytes, ready for a bare verification."""
    added = [(e.body["key"], e.body["proof"]) for e in events if e.kind in (DEVICE_ADD, RECOVERY)]
    return [
        (Ed25519PublicKey.from_public_bytes(bytes.fromhex(key)), bytes.fromhex(proof), proof_bytes(identity, key))
        for key, proof in added
    ]


def run(ctx: Context) -> dict[str, Figure]:
    n = ctx.sizes.key_log_events
    verify_limit = ctx.limit("verify_limit")
    ctx.progress(f"key_log_resolve_ms: signing a log of {n} key events")
    log = key_log(n)
    known = [Event.of(check(m)) for m in log.events]

    def cold() -> int:
        _proof_holds.cache_clear()
        _sealing_public.cache_clear()
        resolved = resolve(log.identity, [Event.of(check(m)) for m in log.events])
        assert resolved is not None and resolved.state.length == n, "every event is in the log"
        return _proof_holds.cache_info().misses

    proofs_verified = cold()
    raw = raw_of(log.events) + _proofs(log.identity, known)
    assert len(raw) == n + proofs_verified, "every verification a resolution makes is timed raw beside it"
    ctx.progress(f"key_log_resolve_ms: resolving, {REPEATS} runs")
    figure = verify_floor_figure(timed(cold, raw), len(raw), verify_limit, "verifications")
    folds = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        resolve(log.identity, known)
        folds.append(time.perf_counter() - start)
    figure.update(
        events=n,
        us_per_event=round(figure["value"] / n * 1000, 2),
        fold_ms=round(statistics.median(folds) * 1000, 3),
    )
    return {"key_log_resolve_ms": figure}
