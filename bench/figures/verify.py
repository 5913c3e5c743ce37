"""verify_limit: raw Ed25519 verifications per second, on one core and on two processes.

This is the ceiling of every figure that takes messages in: each message costs one verification, so no ingest
path can beat it. It calls cryptography's ``Ed25519PublicKey.verify`` directly over ~400-byte messages, each
with its own key, so nothing murmur does (hex decoding, parsing) is counted.
"""

from __future__ import annotations

import os
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bench.context import Context, Figure, rate_figure
from bench.corpus import mp_context
from bench.timing import measure, run_for
from murmur.keys import verify_signature

FIGURES = ("verify_limit", "verify_limit_2proc")
SAMPLES = 256  # distinct keys and messages, cycled: enough that no cache favours one key
MESSAGE_BYTES = 400


def _samples(seed: int) -> list[tuple[Ed25519PublicKey, bytes, bytes]]:
    out = []
    for n in range(SAMPLES):
        key = Ed25519PrivateKey.generate()
        message = (b"%d:%d:" % (seed, n)).ljust(MESSAGE_BYTES, b"m")
        out.append((key.public_key(), key.sign(message), message))
    return out


def _worker(seconds: float, warmup: float, barrier: Barrier, results: Queue[tuple[int, float]]) -> None:
    samples = _samples(os.getpid())

    def op(i: int) -> None:
        key, sig, message = samples[i % SAMPLES]
        key.verify(sig, message)

    run_for(op, warmup)
    barrier.wait()  # both processes time the same window
    rate = run_for(op, seconds)
    results.put((rate.count, rate.seconds))


def _two_processes(seconds: float, warmup: float) -> tuple[float, list[float]]:
    ctx = mp_context()
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(seconds, warmup, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    # Bounded: a stuck worker fails the figure rather than hanging the run.
    rates = [count / secs for count, secs in (results.get(timeout=seconds + warmup + 60) for _ in procs)]
    for p in procs:
        p.join(timeout=10)
    return sum(rates), rates


def nearby(seconds: float = 1.0) -> float:
    """The one-core verification rate right now: a figure measured long after ``verify_limit`` can show it
    beside its own, because a shared machine's speed drifts within a run (by ±20 % over minutes here)."""
    samples = _samples(1)

    def raw(i: int) -> None:
        key, sig, message = samples[i % SAMPLES]
        key.verify(sig, message)

    return measure(raw, seconds, 0.1).per_second


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    samples = _samples(0)

    def raw(i: int) -> None:
        key, sig, message = samples[i % SAMPLES]
        key.verify(sig, message)

    hexed = [(k.public_bytes_raw().hex(), s.hex(), m) for k, s, m in samples]

    def via_murmur(i: int) -> None:
        key, sig, message = hexed[i % SAMPLES]
        verify_signature(key, sig, message)

    ctx.progress("verify_limit: one core")
    one = measure(raw, sizes.seconds, sizes.warmup)
    murmur = measure(via_murmur, sizes.seconds / 2, sizes.warmup / 2)
    ctx.progress("verify_limit_2proc: two processes")
    started = time.perf_counter()
    total, per_process = _two_processes(sizes.seconds, sizes.warmup)
    return {
        "verify_limit": rate_figure(
            one.per_second,
            "verify/s",
            us_per_verify=round(one.us_each, 2),
            message_bytes=MESSAGE_BYTES,
            # murmur.keys.verify_signature adds hex decoding and key loading per call.
            verify_signature_per_s=round(murmur.per_second, 1),
            verify_signature_us=round(murmur.us_each, 2),
        ),
        "verify_limit_2proc": rate_figure(
            total,
            "verify/s",
            limit=one.per_second,
            limit_name="verify_limit",
            per_process=[round(r, 1) for r in per_process],
            wall_seconds=round(time.perf_counter() - started, 2),
        ),
    }
