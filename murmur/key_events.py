"""Making key events: the drafts a device (or the rotation key) signs to start or change an identity's log.

The rules they must follow are in ``murmur.kinds.key_log`` and docs/protocol.md §13; these functions only build
them right. Each returns a signed message as a plain dict, to be published like any other.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.keys import Identity
from murmur.kinds.key_log import (
    DEVICE_ADD,
    DEVICE_REMOVE,
    INCEPTION,
    MOVE,
    RECOVERY,
    ROTATION,
    commitment,
    proof_bytes,
)
from murmur.message import sign_draft


def x25519_public(private: X25519PrivateKey) -> str:
    """The X25519 public key as 64 lowercase hex digits (RFC 7748 encoding). A device's is that of its
    ``Identity.sealing_key()``: a log lists no other (``x25519_not_derived``)."""
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def device_proof(device: Identity, identity: str) -> str:
    """The new device's signature saying it holds its key and speaks for ``identity``."""
    return device.sign(proof_bytes(identity, device.public_key))


def _in_log(identity: str, prior: str) -> list[list[str]]:
    return [["identity", identity], ["prior", prior]]


def _sign(signer: Identity, kind: str, body: dict[str, str], tags: list[list[str]], at: int | None) -> dict[str, Any]:
    return sign_draft(signer, {"kind": kind, "body": body, "tags": tags}, created_at=at)


def inception(device: Identity, name: str, x25519: str, next_rotation: str, *, at: int | None = None) -> dict[str, Any]:
    """The first event: ``device`` is the first device; ``next_rotation`` the rotation key's public key, of
    which only the digest is published."""
    body = {"name": name, "x25519": x25519, "next": commitment(next_rotation)}
    return _sign(device, INCEPTION, body, [], at)


def device_body(device_key: str, name: str, x25519: str, proof: str) -> dict[str, str]:
    return {"key": device_key, "name": name, "x25519": x25519, "proof": proof}


def add_device(
    signer: Identity, identity: str, prior: str, device: dict[str, str], *, at: int | None = None
) -> dict[str, Any]:
    """A current device (``signer``) adds the device ``device`` (``device_body``) after ``prior``."""
    return _sign(signer, DEVICE_ADD, device, _in_log(identity, prior), at)


def remove_device(signer: Identity, identity: str, prior: str, key: str, *, at: int | None = None) -> dict[str, Any]:
    return _sign(signer, DEVICE_REMOVE, {"key": key}, _in_log(identity, prior), at)


def rotation(
    rotation_key: Identity, identity: str, prior: str, next_rotation: str, *, at: int | None = None
) -> dict[str, Any]:
    """The committed rotation key is used, and commits to the next one; devices stay."""
    return _sign(rotation_key, ROTATION, {"next": commitment(next_rotation)}, _in_log(identity, prior), at)


def recovery(
    rotation_key: Identity,
    identity: str,
    prior: str,
    next_rotation: str,
    device: dict[str, str],
    *,
    at: int | None = None,
) -> dict[str, Any]:
    """Rotation that also revokes every device and adds the recovering one (``device_body``)."""
    body = {"next": commitment(next_rotation), **device}
    return _sign(rotation_key, RECOVERY, body, _in_log(identity, prior), at)


def move(signer: Identity, identity: str, prior: str, home: str, *, at: int | None = None) -> dict[str, Any]:
    return _sign(signer, MOVE, {"home": home}, _in_log(identity, prior), at)
