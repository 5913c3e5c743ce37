"""sign_rate: messages signed per second through ``murmur.message.sign_draft``, beside raw Ed25519 signing.

``sign_limit`` signs ~400-byte messages with cryptography's ``Ed25519PrivateKey.sign``; ``sign_rate`` goes
through the whole of ``sign_draft`` (draft completion, canonical bytes, SHA-256 id, signature, hex), so the
gap between the two is murmur's own cost of making a message.
"""

from __future__ import annotations

import random

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.context import Context, Figure, rate_figure
from bench.corpus import author_identity, post_text
from bench.timing import measure
from murmur.message import now_ms, sign_draft

FIGURES = ("sign_limit", "sign_rate")
SAMPLES = 64


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    keys = [Ed25519PrivateKey.generate() for _ in range(SAMPLES)]
    payloads = [(b"%d:" % n).ljust(400, b"m") for n in range(SAMPLES)]
    identities = [author_identity(n) for n in range(SAMPLES)]
    rng = random.Random(9)
    drafts = [{"kind": "post", "body": {"text": post_text(rng)}} for _ in range(SAMPLES)]
    created = now_ms() - 60_000

    def raw(i: int) -> None:
        keys[i % SAMPLES].sign(payloads[i % SAMPLES])

    def full(i: int) -> None:
        sign_draft(identities[i % SAMPLES], drafts[i % SAMPLES], created_at=created + i)

    ctx.progress("sign_limit: raw Ed25519 sign")
    limit = measure(raw, sizes.seconds, sizes.warmup)
    ctx.progress("sign_rate: sign_draft")
    rate = measure(full, sizes.seconds, sizes.warmup)
    return {
        "sign_limit": rate_figure(limit.per_second, "sign/s", us_per_sign=round(limit.us_each, 2)),
        "sign_rate": rate_figure(
            rate.per_second,
            "msg/s",
            limit=limit.per_second,
            limit_name="sign_limit",
            us_per_message=round(rate.us_each, 2),
            overhead_us=round(rate.us_each - limit.us_each, 2),
        ),
    }
