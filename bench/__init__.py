"""murmur's benchmark suite: figures measured beside the raw limits that bound them, in the same run.

Run ``python -m bench`` (full), ``python -m bench --quick`` or ``python -m bench --json``. Each figure lives in
its own module under ``bench/figures/`` and is registered in ``bench.figures.REGISTRY``; ``docs/performance.md``
gives the method of each. The suite is not a test: only ``tests/test_bench_smoke.py`` runs it, on tiny sizes.
"""
