"""canonical_rate: RFC 8785 canonical bytes of a typical envelope per second, beside ``json.dumps``.

The envelope is what ``sign_draft`` and ``check`` canonicalise (a post with tags, without id and sig). The
comparison is ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` of the same object:
close to JCS for such input but not exact (it sorts by code point and knows nothing of the safe-integer range),
so the ratio is the price of exactness. orjson, when installed, is shown as a further reference.
"""

from __future__ import annotations

import json
from typing import Any

from bench.context import Context, Figure, rate_figure
from bench.figures.common import corpus
from bench.timing import measure
from murmur.jcs import canonicalize
from murmur.message import ENVELOPE_FIELDS
from murmur.validate import parse_json

FIGURES = ("canonical_rate",)


def _envelopes(ctx: Context, count: int) -> list[dict[str, Any]]:
    out = []
    for raw in corpus(ctx).messages[: count * 4]:
        obj = parse_json(raw)
        if obj["kind"] == "post":
            out.append({name: obj[name] for name in ENVELOPE_FIELDS})
        if len(out) == count:
            break
    return out


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    envelopes = _envelopes(ctx, 256)
    n = len(envelopes)

    def jcs(i: int) -> None:
        canonicalize(envelopes[i % n])

    def dumps(i: int) -> None:
        json.dumps(envelopes[i % n], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    ctx.progress("canonical_rate: JCS vs json.dumps")
    jcs_rate = measure(jcs, sizes.seconds, sizes.warmup)
    dumps_rate = measure(dumps, sizes.seconds, sizes.warmup)
    extra: dict[str, Any] = {}
    try:
        import orjson
    except ImportError:
        pass
    else:

        def fast(i: int) -> None:
            orjson.dumps(envelopes[i % n], option=orjson.OPT_SORT_KEYS)

        fast_rate = measure(fast, sizes.seconds / 2, sizes.warmup / 2)
        extra = {"orjson_per_s": round(fast_rate.per_second, 1), "orjson_us": round(fast_rate.us_each, 3)}
    return {
        "canonical_rate": rate_figure(
            jcs_rate.per_second,
            "envelope/s",
            limit=dumps_rate.per_second,
            limit_name="json_dumps_sorted",
            us_per_envelope=round(jcs_rate.us_each, 3),
            json_dumps_us=round(dumps_rate.us_each, 3),
            envelope_bytes=round(sum(len(canonicalize(e)) for e in envelopes) / n, 1),
            **extra,
        )
    }
