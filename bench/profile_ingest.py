"""Where ingest time goes, per message: ``python -m bench.profile_ingest [--messages N] [--cprofile]``.

Each stage of ``Store.ingest`` is timed alone over the same signed corpus the suite uses, so the stages add
up to (close to) the whole: strict JSON parse, structural checks, the two canonicalisations, SHA-256,
signature verification (as murmur calls it), and the store's own work (given already-validated messages).
With ``--cprofile`` the whole ingest also runs under cProfile and the top functions are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.corpus import make_corpus
from murmur.jcs import canonicalize
from murmur.keys import verify_signature
from murmur.message import ENVELOPE_FIELDS, Message
from murmur.store import Store
from murmur.validate import check, parse_json

BATCH = 500


def _per_message(fn: Callable[[Any], object], items: Sequence[Any]) -> float:
    """Microseconds per item of ``fn`` over ``items`` (one untimed pass first, to warm caches)."""
    for item in items[: min(len(items), 500)]:
        fn(item)
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items) * 1e6


async def _ingest(path: Path, items: Sequence[Any], durability: str) -> float:
    async with await Store.open(path, durability=durability) as store:
        start = time.perf_counter()
        for offset in range(0, len(items), BATCH):
            await store.ingest(items[offset : offset + BATCH])
        return (time.perf_counter() - start) / len(items) * 1e6


def stages(raw: list[bytes], tmp: Path) -> dict[str, float]:
    parsed = [parse_json(r) for r in raw]
    envelopes = [{name: obj[name] for name in ENVELOPE_FIELDS} for obj in parsed]
    canon = [canonicalize(e) for e in envelopes]
    triples = [(obj["author"], obj["sig"], c) for obj, c in zip(parsed, canon, strict=True)]
    messages: list[Message] = [check(r) for r in raw]
    out = {
        "parse_json": _per_message(parse_json, raw),
        "check_noverify_on_parsed": _per_message(lambda o: check(o, verify=False), parsed),
        "canonicalize_envelope": _per_message(canonicalize, envelopes),
        "canonicalize_whole": _per_message(lambda e: canonicalize({**e, "id": "0" * 64, "sig": "0" * 128}), envelopes),
        "sha256": _per_message(lambda c: hashlib.sha256(c).hexdigest(), canon),
        "verify_signature": _per_message(lambda t: verify_signature(*t), triples),
        "check_full": _per_message(check, raw),
    }
    out["store_only_full"] = asyncio.run(_ingest(tmp / "validated.db", messages, "full"))
    out["store_only_normal"] = asyncio.run(_ingest(tmp / "validated-normal.db", messages, "normal"))
    out["ingest_total"] = asyncio.run(_ingest(tmp / "ingest.db", raw, "full"))
    return out


def profile(raw: list[bytes], tmp: Path, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(_ingest(tmp / "profiled.db", raw, "full"))
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--authors", type=int, default=1000)
    parser.add_argument("--cprofile", action="store_true", help="also print cProfile's top functions")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    print(f"signing {args.messages:,} messages…", file=sys.stderr)
    raw = make_corpus(args.messages, args.authors).messages
    with tempfile.TemporaryDirectory(prefix="murmur-profile-") as tmp:
        for name, us in stages(raw, Path(tmp)).items():
            print(f"{name:28s} {us:8.2f} µs/message")
        if args.cprofile:
            print(profile(raw, Path(tmp), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
