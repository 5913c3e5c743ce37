"""Private groups for tests: member devices from fixed seeds, epochs sealed and opened the way a client does.

Each device holds an Ed25519 key (it signs group messages) and an X25519 key (epoch chunks are sealed to it),
both made from one seed byte, so failures name the same keys from run to run.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.group_chains import GroupKeys
from murmur.group_epoch import Device, Epoch, EpochChunk, new_epoch, open_epoch
from murmur.sealing import open_sealed, public_hex, seal

GROUP = "9a" * 32
BOUND = {"kind": "sealed", "created_at": 1764460800000}


@dataclass(frozen=True)
class Member:
    """One member device and its private keys."""

    signing_key: Ed25519PrivateKey
    sealing_key: X25519PrivateKey

    @property
    def device(self) -> Device:
        return Device(self.signing_key.public_key().public_bytes_raw().hex(), public_hex(self.sealing_key))


def member(seed: int) -> Member:
    """Seeds 1 to 255 give small fixed devices; larger seeds spread over two bytes (for 400-device groups)."""
    raw = seed.to_bytes(2, "big") * 16
    return Member(Ed25519PrivateKey.from_private_bytes(raw), X25519PrivateKey.from_private_bytes(raw[::-1]))


def sealed_chunks(chunks: list[EpochChunk], changer: Member) -> list[dict[str, object]]:
    """Each chunk sealed (sealing v1) by the changer's device, as the wiring would put it in a sealed message."""
    return [seal(chunk.plaintext, changer.sealing_key, chunk.devices, bound=BOUND) for chunk in chunks]


def receive(envelopes: list[dict[str, object]], device: Member, group: str = GROUP) -> tuple[Epoch, str]:
    """What a device does with an epoch change: open the one chunk sealed to it, and read the epoch. Returns
    the epoch and the X25519 key of the device that sealed it."""
    me = public_hex(device.sealing_key)
    mine = [e for e in envelopes if any(entry["device"] == me for entry in e["to"])]  # type: ignore[attr-defined]
    assert len(mine) == 1, "every device is in exactly one chunk"
    opened = open_sealed(mine[0], device.sealing_key, bound=BOUND)
    return open_epoch(opened.plaintext, group=group), opened.sender


def start_group(members: list[Member], group: str = GROUP) -> tuple[Epoch, dict[Member, GroupKeys]]:
    """Epoch 0 for ``members``, opened and started on every member device."""
    epoch, chunks = new_epoch(group, [m.device for m in members], None)
    envelopes = sealed_chunks(chunks, members[0])
    held: dict[Member, GroupKeys] = {}
    for m in members:
        keys = GroupKeys(group)
        epoch, sealer = receive(envelopes, m, group)
        assert keys.start_epoch(epoch, [d.device for d in members], sealed_by=sealer) == "new"
        held[m] = keys
    return epoch, held
