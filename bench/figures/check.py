"""check_rate: ``murmur.validate.check`` on wire bytes per second, with and without the signature check.

``check_rate`` is the whole validation path (strict parse, structure, canonical bytes, SHA-256 id, verify)
and is bounded by ``verify_limit``; ``check_noverify_rate`` skips only the verification, so its time per
message is what validation costs on top of the cryptography.
"""

from __future__ import annotations

from bench.context import Context, Figure, rate_figure
from bench.figures.common import corpus
from bench.timing import measure
from murmur.validate import check

FIGURES = ("check_rate", "check_noverify_rate")


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    messages = corpus(ctx).messages[: sizes.check_messages]
    n = len(messages)
    verify_limit = ctx.limit("verify_limit")

    def full(i: int) -> None:
        check(messages[i % n])

    def structure(i: int) -> None:
        check(messages[i % n], verify=False)

    ctx.progress(f"check_rate: {n} distinct messages")
    with_verify = measure(full, sizes.seconds, sizes.warmup)
    without = measure(structure, sizes.seconds, sizes.warmup)
    return {
        "check_rate": rate_figure(
            with_verify.per_second,
            "msg/s",
            limit=verify_limit,
            limit_name="verify_limit",
            us_per_message=round(with_verify.us_each, 2),
            mean_bytes=round(sum(map(len, messages)) / n, 1),
        ),
        "check_noverify_rate": rate_figure(
            without.per_second,
            "msg/s",
            us_per_message=round(without.us_each, 2),
            # What validation adds to one verification, as a share of check_rate's time per message.
            share_of_check=round(without.us_each / with_verify.us_each, 4) if with_verify.count else None,
        ),
    }
