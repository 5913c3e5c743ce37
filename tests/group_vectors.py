"""The private-group test vectors of docs/encryption.md §15, generated, never typed: fixed device keys, a fixed
epoch key, fixed nonces, and what the code derives and writes from them.

Everything here is deterministic (Ed25519 signatures are), so another implementation can recompute every value
exactly. ``python -m tests.group_vectors --write`` rewrites the generated region of docs/encryption.md;
tests/core/test_group_vectors.py fails when the document and this generator disagree, and reads every documented
message on every member device.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.group_chains import GroupKeys, epoch_id, first_chain_key, header_key, step
from murmur.group_epoch import Device, Epoch, chunk_devices, members_digest, new_epoch
from murmur.group_sealing import encrypt_group
from murmur.sealing import public_hex
from tests.sealing_vectors import ENCRYPTION, region_of, write

MARKERS = ("<!-- group vectors: generated -->", "<!-- end of group vectors -->")
GROUP = "6d" * 32  # stands for a group's id (the id of its creation message)
EPOCH_KEY = bytes(range(0x40, 0x60))
SECOND_KEY = bytes(range(0x60, 0x80))
# Ed25519 private key = the seed byte 32 times; X25519 private key = seed + 1, 32 times.
SEEDS = {"ada_laptop": 0xA1, "ada_phone": 0xA3, "bo_laptop": 0xB1, "cy_tablet": 0xC1}
BOUND = {"kind": "sealed", "created_at": 1764460800000}


def signing(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([SEEDS[name]]) * 32)


def sealing(name: str) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(bytes([SEEDS[name] + 1]) * 32)


def device(name: str) -> Device:
    return Device(signing(name).public_key().public_bytes_raw().hex(), public_hex(sealing(name)))


def epochs() -> tuple[Epoch, Epoch]:
    """Epoch 0 for all four devices, then epoch 1 after Cy is removed."""
    everyone = [device(name) for name in SEEDS]
    first, _ = new_epoch(GROUP, everyone, None, key=EPOCH_KEY)
    second, _ = new_epoch(GROUP, everyone[:3], first, key=SECOND_KEY)
    return first, second


def keys_for(epoch: Epoch, names: list[str]) -> GroupKeys:
    keys = GroupKeys(GROUP)
    keys.start_epoch(epoch, [device(name) for name in names], sealed_by=device("ada_laptop").sealing)
    return keys


def _epoch_vector(epoch: Epoch, names: list[str]) -> dict[str, Any]:
    chains = {}
    for name in names:
        chain = first_chain_key(epoch, device(name).signing)
        message_keys = []
        for _ in range(3):
            message, chain = step(chain)
            message_keys.append(message.hex())
        chains[name] = {"chain_key_0": first_chain_key(epoch, device(name).signing).hex(), "message_keys": message_keys}
    return {
        "epoch": epoch.number,
        "devices": names,
        "members": members_digest([device(name) for name in names]),
        "key": epoch.key.hex(),
        "plaintext": epoch.plaintext().decode("utf-8"),
        "digest": epoch.digest,
        "id": epoch_id(epoch),
        "header_key": header_key(epoch).hex(),
        "chains": chains,
    }


def _messages(epoch: Epoch, names: list[str], writes: list[tuple[str, str]], first_nonce: int) -> list[dict[str, Any]]:
    keys = keys_for(epoch, names)
    out = []
    for n, (name, text) in enumerate(writes):
        nonce = bytes([first_nonce + n]) * 12
        message = encrypt_group(keys, signing(name), text.encode("utf-8"), bound=BOUND, nonce=nonce)
        index = len([w for w in writes[:n] if w[0] == name])
        out.append({"sender": name, "index": index, "plaintext": text, "bound": BOUND, "message": message})
    return out


def vectors() -> dict[str, Any]:
    first, second = epochs()
    everyone, staying = list(SEEDS), list(SEEDS)[:3]
    return {
        "group": GROUP,
        "chunk_devices": chunk_devices(),
        "epochs": [_epoch_vector(first, everyone), _epoch_vector(second, staying)],
        "messages": _messages(
            first, everyone, [("ada_laptop", "hello, group"), ("bo_laptop", "hi"), ("ada_laptop", "again")], 1
        )
        + _messages(second, staying, [("bo_laptop", "after Cy left")], 9),
    }


def keys_table() -> str:
    rows = ["| device | Ed25519 private key (hex) | Ed25519 public key | X25519 private key | X25519 public key |"]
    rows.append("|---|---|---|---|---|")
    for name in SEEDS:
        d = device(name)
        rows.append(
            f"| `{name}` | `{signing(name).private_bytes_raw().hex()}` | `{d.signing}` "
            f"| `{sealing(name).private_bytes_raw().hex()}` | `{d.sealing}` |"
        )
    return "\n".join(rows)


def region() -> str:
    return "\n".join([keys_table(), "", "```json", json.dumps(vectors(), indent=2, ensure_ascii=False), "```"])


def documented() -> dict[str, Any]:
    """The JSON vectors as docs/encryption.md prints them."""
    block = region_of(ENCRYPTION.read_text(encoding="utf-8"), MARKERS).split("```json\n")[1]
    return json.loads(block.split("\n```", 1)[0])  # type: ignore[no-any-return]


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.group_vectors --write")
    write(MARKERS, region())
