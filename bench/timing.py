"""Timed loops: run an operation for a fixed time (and at most a fixed count) and report its rate."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    @property
    def us_each(self) -> float:
        return self.seconds / self.count * 1e6 if self.count else 0.0


def run_for(op: Callable[[int], object], seconds: float, *, max_ops: int = 10_000_000, stride: int = 64) -> Rate:
    """Call ``op(i)`` for ``i = 0, 1, ...`` until ``seconds`` have passed or ``max_ops`` calls were made.

    The clock is read once every ``stride`` calls so that reading it costs nothing next to the operation.
    """
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while count < max_ops:
        for i in range(count, min(count + stride, max_ops)):
            op(i)
        count = min(count + stride, max_ops)
        if time.perf_counter() >= deadline:
            break
    return Rate(count, time.perf_counter() - start)


def measure(op: Callable[[int], object], seconds: float, warmup: float, *, max_ops: int = 10_000_000) -> Rate:
    """A warm-up run (caches, allocator, lazy imports), then the timed run."""
    if warmup > 0:
        run_for(op, warmup, max_ops=max_ops)
    return run_for(op, seconds, max_ops=max_ops)
