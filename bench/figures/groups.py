"""epoch_change_ms, group_aead_limit, group_encrypt_rate, group_decrypt_rate: what a private group costs
(docs/encryption.md §10-12), each beside the raw cryptography that bounds it, measured in the same run.

``epoch_change_ms`` is one membership change of a 200-member group with 400 devices, on the changer's device: a
fresh epoch key, its plaintext, and the 8 sealed chunks (``murmur.group_epoch.new_epoch`` then
``murmur.sealing.seal`` per chunk), the fastest of ``REPEATS`` runs (on a shared machine, the least disturbed;
the floor is taken the same way from runs interleaved with them). Its limit, ``wrap_floor_ms``, is 400 times
the raw per-device wrap timed in turn with it: one HPKE base-mode seal of the 64-byte content key and sender MAC
plus the X25519 exchange of the sender proof, cryptography's own calls with nothing of murmur's. ``open_ms`` is
the receiving side: one device opens its chunk, reads the epoch and starts it (400 chains derived).

``group_encrypt_rate`` writes a ~200-byte group message (``encrypt_group``: a chain step, two ChaCha20-Poly1305
encryptions, an Ed25519 signature); ``group_decrypt_rate`` reads them on another member device
(``decrypt_group``: header, signature check, chain step, body). Their limit, ``group_aead_limit``, is one raw
ChaCha20-Poly1305 encryption of a 256-byte body: the least any sealed message costs. ``sign_us`` and
``verify_us`` (one raw Ed25519 signature and verification) show where the rest goes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from bench.context import Context, Figure, rate_figure
from bench.timing import measure, run_for
from murmur.group_chains import GroupKeys
from murmur.group_epoch import Device, new_epoch, open_epoch
from murmur.group_sealing import decrypt_group, encrypt_group
from murmur.sealing import SUITE, open_sealed, public_hex, seal

FIGURES = ("epoch_change_ms", "group_aead_limit", "group_encrypt_rate", "group_decrypt_rate")
DEVICES = 400
REPEATS = 5
GROUP = "6d" * 32
TEXT = ("see you at the east door at noon; bring the draft. " * 4).encode()
BOUND = {"kind": "sealed", "created_at": 1764460800000}


def _members() -> list[tuple[Ed25519PrivateKey, X25519PrivateKey, Device]]:
    out = []
    for seed in range(1, DEVICES + 1):
        raw = seed.to_bytes(2, "big") * 16
        signing, sealing = Ed25519PrivateKey.from_private_bytes(raw), X25519PrivateKey.from_private_bytes(raw[::-1])
        out.append((signing, sealing, Device(signing.public_key().public_bytes_raw().hex(), public_hex(sealing))))
    return out


def _ms(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def _epoch_change(ctx: Context) -> Figure:
    members = _members()
    devices = [d for _, _, d in members]
    changer = members[0][1]
    publics = [sealing.public_key() for _, sealing, _ in members]
    payload = bytes(64)

    def change() -> list[dict[str, Any]]:
        _, chunks = new_epoch(GROUP, devices, None)
        return [seal(chunk.plaintext, changer, chunk.devices, bound=BOUND) for chunk in chunks]

    def raw_wraps() -> None:
        for public in publics:
            SUITE.encrypt(payload, public, info=b"")
            changer.exchange(public)

    change()  # warm-up
    changes, floors = [], []
    for n in range(REPEATS):
        ctx.progress(f"epoch_change_ms: {DEVICES} devices, run {n + 1} of {REPEATS}")
        changes.append(_ms(change))
        floors.append(_ms(raw_wraps))
    envelopes = change()
    reader = members[-1]
    mine = next(e for e in envelopes if any(entry["device"] == reader[2].sealing for entry in e["to"]))

    def receive() -> None:
        opened = open_sealed(mine, reader[1], bound=BOUND)
        GroupKeys(GROUP).start_epoch(open_epoch(opened.plaintext, group=GROUP), devices, sealed_by=opened.sender)

    floor_ms = round(min(floors), 3)
    return rate_figure(
        round(min(changes), 3),  # rounded as the floor is, so the printed ratio is theirs
        "ms",
        limit=floor_ms,
        limit_name="wrap_floor_ms",
        devices=DEVICES,
        chunks=len(envelopes),
        wrap_us=round(floor_ms / DEVICES * 1000, 2),
        open_ms=round(min(_ms(receive) for _ in range(REPEATS)), 3),
    )


def _group_rates(ctx: Context) -> dict[str, Figure]:
    writer, reader = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    devices = [
        Device(k.public_key().public_bytes_raw().hex(), public_hex(X25519PrivateKey.generate()))
        for k in (writer, reader)
    ]
    epoch, _ = new_epoch(GROUP, devices, None)
    writing, reading = GroupKeys(GROUP), GroupKeys(GROUP)
    writing.start_epoch(epoch, devices, sealed_by=devices[0].sealing)
    reading.start_epoch(epoch, devices, sealed_by=devices[0].sealing)
    sizes = ctx.sizes
    aead = ChaCha20Poly1305(ChaCha20Poly1305.generate_key())
    body, nonce = TEXT.ljust(256, b"\0"), bytes(12)
    ctx.progress("group_aead_limit: raw ChaCha20-Poly1305 of 256 bytes")
    limit = measure(lambda _: aead.encrypt(nonce, body, None), sizes.seconds, sizes.warmup)
    signature = writer.sign(body)
    sign = measure(lambda _: writer.sign(body), sizes.seconds / 4, 0)
    verify = measure(lambda _: writer.public_key().verify(signature, body), sizes.seconds / 4, 0)
    written: list[dict[str, Any]] = []
    ctx.progress("group_encrypt_rate: write group messages")
    encrypting = measure(
        lambda _: written.append(encrypt_group(writing, writer, TEXT, bound=BOUND)), sizes.seconds, sizes.warmup
    )
    # Each message reads once, in the order written: the warm-up reads the first quarter, the window the rest.
    queue: Iterator[dict[str, Any]] = iter(written)
    ctx.progress("group_decrypt_rate: read them on another member device")
    run_for(lambda _: decrypt_group(reading, next(queue), bound=BOUND), sizes.warmup, max_ops=len(written) // 4)
    left = len(written) - len(written) // 4
    decrypting = run_for(lambda _: decrypt_group(reading, next(queue), bound=BOUND), sizes.seconds, max_ops=left)
    extra = {"sign_us": round(sign.us_each, 2), "verify_us": round(verify.us_each, 2)}
    return {
        "group_aead_limit": rate_figure(limit.per_second, "op/s", us_each=round(limit.us_each, 2)),
        "group_encrypt_rate": rate_figure(
            encrypting.per_second,
            "msg/s",
            limit=limit.per_second,
            limit_name="group_aead_limit",
            us_per_message=round(encrypting.us_each, 2),
            **extra,
        ),
        "group_decrypt_rate": rate_figure(
            decrypting.per_second,
            "msg/s",
            limit=limit.per_second,
            limit_name="group_aead_limit",
            us_per_message=round(decrypting.us_each, 2),
            **extra,
        ),
    }


def run(ctx: Context) -> dict[str, Figure]:
    return {"epoch_change_ms": _epoch_change(ctx), **_group_rates(ctx)}
