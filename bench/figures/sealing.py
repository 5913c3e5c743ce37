"""seal_rate, open_rate: direct messages sealed and opened per second through ``murmur.sealing``, beside the raw
X25519 + AEAD rate.

``seal_limit`` is one X25519 exchange and one ChaCha20-Poly1305 encryption of a 256-byte body: the least any
public-key sealing to one device costs. ``seal_rate`` seals a ~200-byte message to one device (HPKE's ephemeral
key and exchange, the sender proof's exchange, HKDF, HMAC, the body); ``open_rate`` opens it on that device.
``us_per_extra_device`` is what each further recipient device adds to a seal.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from bench.context import Context, Figure, rate_figure
from bench.timing import measure
from murmur.sealing import open_sealed, public_hex, seal

FIGURES = ("seal_limit", "seal_rate", "open_rate")
TEXT = ("see you at the east door at noon; bring the draft. " * 4).encode()
BOUND = {"kind": "dm", "created_at": 1764460800000}


def run(ctx: Context) -> dict[str, Figure]:
    sizes = ctx.sizes
    sender = X25519PrivateKey.generate()
    devices = [X25519PrivateKey.generate() for _ in range(4)]
    one, four = [public_hex(devices[0])], [public_hex(d) for d in devices]
    peer = devices[0].public_key()
    aead = ChaCha20Poly1305(ChaCha20Poly1305.generate_key())
    padded, nonce = TEXT.ljust(256, b"\0"), bytes(12)
    envelope = seal(TEXT, sender, one, bound=BOUND)

    def raw(_: int) -> None:
        sender.exchange(peer)
        aead.encrypt(nonce, padded, None)

    ctx.progress("seal_limit: raw X25519 + ChaCha20-Poly1305")
    limit = measure(raw, sizes.seconds, sizes.warmup)
    ctx.progress("seal_rate: seal to one device")
    sealing = measure(lambda _: seal(TEXT, sender, one, bound=BOUND), sizes.seconds, sizes.warmup)
    ctx.progress("seal_rate: seal to four devices")
    sealing_four = measure(lambda _: seal(TEXT, sender, four, bound=BOUND), sizes.seconds, sizes.warmup)
    ctx.progress("open_rate: open on one device")
    opening = measure(lambda _: open_sealed(envelope, devices[0], bound=BOUND), sizes.seconds, sizes.warmup)
    return {
        "seal_limit": rate_figure(limit.per_second, "op/s", us_each=round(limit.us_each, 2)),
        "seal_rate": rate_figure(
            sealing.per_second,
            "msg/s",
            limit=limit.per_second,
            limit_name="seal_limit",
            us_per_message=round(sealing.us_each, 2),
            us_per_extra_device=round((sealing_four.us_each - sealing.us_each) / 3, 2),
        ),
        "open_rate": rate_figure(
            opening.per_second,
            "msg/s",
            limit=limit.per_second,
            limit_name="seal_limit",
            us_per_message=round(opening.us_each, 2),
        ),
    }
