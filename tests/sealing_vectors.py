"""The test vectors of docs/encryption.md, generated, never typed: fixed device keys, a fixed content key, and
envelopes sealed from them.

The HPKE ephemeral key is drawn inside cryptography and cannot be injected, so each `wrap` differs from one
generation to the next; everything else (the body, the recipient list, the sizes) is fixed by the inputs.
``python -m tests.sealing_vectors --write`` rewrites the generated region of docs/encryption.md;
tests/core/test_sealing_vectors.py fails when the document and this generator disagree anywhere but the wraps,
and opens every documented envelope with every documented recipient key.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.sealing import Randomness, public_hex, seal

ENCRYPTION = Path(__file__).resolve().parents[1] / "docs" / "encryption.md"
MARKERS = ("<!-- sealing vectors: generated -->", "<!-- end of sealing vectors -->")
CONTENT_KEY = bytes(range(32))
SEEDS = {"ada_laptop": 0x11, "bo_phone": 0x22, "bo_laptop": 0x33, "cy_tablet": 0x44, "stranger": 0x55}


def device(name: str) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(bytes([SEEDS[name]]) * 32)


def _vector(name: str, text: str, to: list[str], bound: dict[str, Any]) -> dict[str, Any]:
    envelope = seal(
        text.encode("utf-8"),
        device("ada_laptop"),
        [public_hex(device(who)) for who in to],
        bound=bound,
        randomness=Randomness(CONTENT_KEY),
    )
    return {
        "name": name,
        "sender": "ada_laptop",
        "recipients": to,
        "plaintext": text,
        "bound": bound,
        "content_key": CONTENT_KEY.hex(),
        "envelope": envelope,
    }


def vectors() -> list[dict[str, Any]]:
    bound = {"kind": "dm", "created_at": 1764460800000}
    return [
        _vector("one-device", "hello Bo", ["bo_phone"], bound),
        _vector("three-devices", "lunch at noon?", ["bo_phone", "bo_laptop", "cy_tablet"], bound),
        _vector("second-bucket", "m" * 300, ["bo_phone", "ada_laptop"], {"kind": "dm", "created_at": 1764464400000}),
    ]


def keys_table() -> str:
    rows = ["| device | X25519 private key (hex) | X25519 public key (hex) |", "|---|---|---|"]
    for name in SEEDS:
        private = device(name)
        rows.append(f"| `{name}` | `{private.private_bytes_raw().hex()}` | `{public_hex(private)}` |")
    return "\n".join(rows)


def region() -> str:
    parts = [keys_table(), ""]
    for vector in vectors():
        parts += ["```json", json.dumps(vector, indent=2, ensure_ascii=False), "```", ""]
    return "\n".join(parts).rstrip("\n")


def region_of(text: str, markers: tuple[str, str] = MARKERS) -> str:
    start, end = text.index(markers[0]) + len(markers[0]), text.index(markers[1])
    return text[start:end].strip("\n")


def documented() -> list[dict[str, Any]]:
    """The JSON vectors as docs/encryption.md prints them."""
    blocks = region_of(ENCRYPTION.read_text(encoding="utf-8")).split("```json\n")[1:]
    return [json.loads(block.split("\n```", 1)[0]) for block in blocks]


def write(markers: tuple[str, str] = MARKERS, generated: str | None = None) -> None:
    """Replace the region between ``markers`` in docs/encryption.md (this module's, by default)."""
    text = ENCRYPTION.read_text(encoding="utf-8")
    start, end = text.index(markers[0]) + len(markers[0]), text.index(markers[1])
    new = generated if generated is not None else region()
    ENCRYPTION.write_text(text[:start] + "\n" + new + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.sealing_vectors --write")
    write()
