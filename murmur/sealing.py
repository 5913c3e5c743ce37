"""Sealing a message to a set of devices, and opening it on one of them (docs/encryption.md, normative).

Pure: no I/O, no clock. The constructions are cryptography's own: RFC 9180 HPKE (base mode,
DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) wraps a fresh 32-byte content key for each recipient
device, ChaCha20-Poly1305 seals the padded body under that key, and HMAC-SHA256 keyed by HKDF over a
static-static X25519 secret authenticates the sender to each recipient without a signature a third party could
check. Nothing here is a primitive of murmur's own.

Errors are ``Refused`` with these codes: ``unknown_version``, ``bad_envelope``, ``not_for_me``, ``tampered``,
``forged_sender`` on opening; ``bad_recipient`` and ``too_large`` on sealing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from murmur.errors import Refused
from murmur.jcs import canonicalize

VERSION = 1
# Sizes of the padded inner plaintext; the body on the wire is one of these plus the 16-byte tag.
BUCKETS = (256, 1024, 4096, 8192)
SENDER_BYTES = 32
LENGTH_BYTES = 4
MAX_PLAINTEXT = BUCKETS[-1] - SENDER_BYTES - LENGTH_BYTES
TAG_BYTES = 16
KEY_BYTES = 32
MAC_BYTES = 32
# A fresh content key seals exactly one body, so a constant nonce is never reused under one key.
BODY_NONCE = bytes(12)
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
WRAP_BYTES = 32 + KEY_BYTES + MAC_BYTES + TAG_BYTES  # enc, content key, sender MAC, tag
_HEX_KEY = re.compile(r"[0-9a-f]{64}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class Opened:
    """A body opened on a recipient device: the plaintext and the sender device's X25519 key (64 hex), proven."""

    plaintext: bytes
    sender: str


@dataclass(frozen=True, slots=True)
class Randomness:
    """What sealing draws at random; tests inject it to make vectors (the HPKE ephemeral stays the library's)."""

    content_key: bytes


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: object, what: str) -> bytes:
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise _bad(f"{what} is not unpadded base64url.")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _bad(f"{what} is not unpadded base64url.") from exc
    if b64url(data) != text:  # one spelling per value: stray low bits would let a relay alter the text freely
        raise _bad(f"{what} is not in canonical base64url.")
    return data


def _bad(why: str) -> Refused:
    return Refused("bad_envelope", f"The sealed envelope is malformed: {why}")


def _tampered() -> Refused:
    return Refused("tampered", "The sealed message was altered after it was sealed, or sealed for other fields.")


def public_hex(private: X25519PrivateKey) -> str:
    return private.public_key().public_bytes_raw().hex()


def _header_digest(devices: list[str], bound: dict[str, Any] | None) -> bytes:
    """Everything a relay could swap: the version, the recipient set, and the outer message's fields."""
    header = {"v": VERSION, "to": devices, "bound": bound if bound is not None else {}}
    return hashlib.sha256(b"murmur sealed v1 header\n" + canonicalize(header)).digest()


def _wrap_info(header: bytes, body: bytes) -> bytes:
    return b"murmur sealed v1 wrap\n" + header + hashlib.sha256(body).digest()


def _sender_mac(secret: bytes, sender: str, recipient: str, header: bytes, body: bytes) -> bytes:
    """Deniable sender proof: either end of the static-static X25519 secret could have made it."""
    info = b"murmur sealed v1 sender\n" + bytes.fromhex(sender) + bytes.fromhex(recipient)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)
    return hmac.new(key, _wrap_info(header, body), hashlib.sha256).digest()


def bucket_for(length: int, overhead: int = SENDER_BYTES + LENGTH_BYTES) -> int:
    """The padded inner size for a plaintext of ``length`` bytes after ``overhead`` bytes of its own framing.

    Group messages (murmur/group_sealing.py) pad to the same buckets with their own framing, so a server cannot
    tell a group message from a direct message by its size.
    """
    need = overhead + length
    for size in BUCKETS:
        if need <= size:
            return size
    most = BUCKETS[-1] - overhead
    raise Refused("too_large", f"A sealed message holds at most {most} bytes; this one is {length}.")


def _padded(sender: bytes, plaintext: bytes) -> bytes:
    """The inner plaintext: the sender's key, the length, the text, zeros up to its bucket."""
    inner = sender + len(plaintext).to_bytes(LENGTH_BYTES, "big") + plaintext
    return inner + bytes(bucket_for(len(plaintext)) - len(inner))


def _recipient_keys(recipients: list[str]) -> dict[str, X25519PublicKey]:
    if not recipients:
        raise Refused("bad_recipient", "A sealed message needs at least one recipient device.")
    keys: dict[str, X25519PublicKey] = {}
    for device in recipients:
        if not isinstance(device, str) or not _HEX_KEY.fullmatch(device):
            raise Refused("bad_recipient", f"A recipient device key is not 64 lowercase hex digits: {device!r}.")
        keys[device] = X25519PublicKey.from_public_bytes(bytes.fromhex(device))
    return keys


def seal(
    plaintext: bytes,
    sender: X25519PrivateKey,
    recipients: list[str],
    *,
    bound: dict[str, Any] | None = None,
    randomness: Randomness | None = None,
) -> dict[str, Any]:
    """Seal ``plaintext`` from the ``sender`` device to every device in ``recipients`` (X25519, 64 hex each).

    ``bound`` holds the outer message's fields that must travel with this envelope (kind, coarse time, route);
    the same value must be given to ``open_sealed``. Returns the JSON-safe envelope.
    """
    keys = _recipient_keys(recipients)
    devices = sorted(keys)
    content_key = randomness.content_key if randomness else ChaCha20Poly1305.generate_key()
    me = public_hex(sender)
    inner = _padded(bytes.fromhex(me), plaintext)
    header = _header_digest(devices, bound)
    body = ChaCha20Poly1305(content_key).encrypt(BODY_NONCE, inner, b"murmur sealed v1 body\n" + header)
    info = _wrap_info(header, body)
    to = []
    for device in devices:
        try:
            secret = sender.exchange(keys[device])
        except ValueError as exc:  # a small-order point: nobody holds its private key
            raise Refused("bad_recipient", f"The recipient device key {device} is a weak key.") from exc
        mac = _sender_mac(secret, me, device, header, body)
        wrap = SUITE.encrypt(content_key + mac, keys[device], info=info)
        to.append({"device": device, "wrap": b64url(wrap)})
    return {"v": VERSION, "to": to, "body": b64url(body)}


def _parse(envelope: object) -> tuple[list[str], dict[str, bytes], bytes]:
    if not isinstance(envelope, dict):
        raise _bad("it is not an object.")
    version = envelope.get("v")
    if type(version) is not int:
        raise _bad("`v` is not an integer.")
    if version != VERSION:
        raise Refused("unknown_version", f"This device opens sealed messages of version {VERSION}, not {version}.")
    if set(envelope) != {"v", "to", "body"}:
        raise _bad("its members are not exactly `v`, `to` and `body`.")
    to = envelope["to"]
    if not isinstance(to, list) or not to:
        raise _bad("`to` is not a non-empty list.")
    wraps: dict[str, bytes] = {}
    for entry in to:
        if not isinstance(entry, dict) or set(entry) != {"device", "wrap"}:
            raise _bad("an entry of `to` is not an object of `device` and `wrap`.")
        device = entry["device"]
        if not isinstance(device, str) or not _HEX_KEY.fullmatch(device):
            raise _bad("a `device` is not 64 lowercase hex digits.")
        wrap = _unb64url(entry["wrap"], "a `wrap`")
        if len(wrap) != WRAP_BYTES:
            raise _bad(f"a `wrap` is {len(wrap)} bytes, not {WRAP_BYTES}.")
        wraps[device] = wrap
    devices = [entry["device"] for entry in to]
    if devices != sorted(wraps):  # sorted and without repeats: one spelling of a recipient set
        raise _bad("the devices of `to` are not in ascending order without repeats.")
    body = _unb64url(envelope["body"], "`body`")
    if len(body) - TAG_BYTES not in BUCKETS:
        raise _bad(f"`body` is {len(body)} bytes, which is no padding bucket.")
    return devices, wraps, body


def recipients_of(envelope: object) -> list[str]:
    """The recipient devices (X25519, 64 hex each, ascending) of a well-formed envelope: what a server that cannot
    open it can check and route by. Refuses as opening does (``unknown_version``, ``bad_envelope``)."""
    return _parse(envelope)[0]


def open_sealed(envelope: object, private: X25519PrivateKey, *, bound: dict[str, Any] | None = None) -> Opened:
    """Open ``envelope`` on the device holding ``private``; refuses with a precise code (see module docstring)."""
    devices, wraps, body = _parse(envelope)
    me = public_hex(private)
    if me not in wraps:
        raise Refused("not_for_me", "This sealed message was not sealed to this device.")
    header = _header_digest(devices, bound)
    info = _wrap_info(header, body)
    try:
        opened = SUITE.decrypt(wraps[me], private, info=info)
        content_key, mac = opened[:KEY_BYTES], opened[KEY_BYTES:]
        inner = ChaCha20Poly1305(content_key).decrypt(BODY_NONCE, body, b"murmur sealed v1 body\n" + header)
    except InvalidTag as exc:
        raise _tampered() from exc
    sender = inner[:SENDER_BYTES].hex()
    length = int.from_bytes(inner[SENDER_BYTES : SENDER_BYTES + LENGTH_BYTES], "big")
    start = SENDER_BYTES + LENGTH_BYTES
    if start + length > len(inner) or any(inner[start + length :]) or bucket_for(length) != len(inner):
        raise _bad("its padding is not the one the sealing rules give.")
    try:
        secret = private.exchange(X25519PublicKey.from_public_bytes(inner[:SENDER_BYTES]))
    except ValueError as exc:
        raise Refused("forged_sender", "The sealed message names a sender key nobody can hold.") from exc
    if not hmac.compare_digest(mac, _sender_mac(secret, sender, me, header, body)):
        raise Refused("forged_sender", "The sealed message's sender proof does not hold for the device it names.")
    return Opened(inner[start : start + length], sender)
