"""A private group's epochs: the group key drawn at each membership change, and the chunks that carry it
(docs/encryption.md §10, normative).

Pure: no I/O, no clock. The device that changes a group's membership draws a fresh 32-byte epoch key and seals
the same *epoch plaintext* (this module makes it) to every member device with sealing v1 (murmur/sealing.py),
in chunks of at most ``chunk_devices()`` devices so that each sealed message stays under the message size
limit. A device that opens a chunk reads the plaintext back with ``open_epoch``.

Errors are ``Refused`` with these codes: ``bad_envelope``, ``unknown_version``, ``wrong_group`` on opening;
``bad_recipient`` when a device list is malformed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from murmur.errors import Refused
from murmur.jcs import MAX_SAFE_INTEGER, canonicalize
from murmur.keys import KEY_HEX, sealing_public
from murmur.sealing import TAG_BYTES, WRAP_BYTES, _unb64url, b64url, bucket_for

VERSION = 1
EPOCH_LABEL = b"murmur group epoch v1\n"
NO_EPOCH = "0" * 64  # the `prev` of epoch 0
# Bytes a sealed epoch chunk leaves to the outer message that carries it (kind, one-time author key, time,
# tags, id, signature, and the member names around the envelope): generous, so the outer kind can grow.
OUTER_RESERVE = 2048
MAX_EPOCH = MAX_SAFE_INTEGER
KEY_BYTES = 32


@dataclass(frozen=True, slots=True, order=True)
class Device:
    """A member device as its identity's log names it: its Ed25519 signing key and its X25519 sealing key."""

    signing: str
    sealing: str


@dataclass(frozen=True, slots=True)
class Epoch:
    """One epoch of a group, as its epoch plaintext says. ``key`` is E_n: keep it only until the chains are made."""

    group: str
    number: int
    prev: str
    members: str
    key: bytes = field(repr=False)

    def plaintext(self) -> bytes:
        """The epoch plaintext: one spelling, the same bytes in every chunk."""
        body = {
            "v": VERSION,
            "group": self.group,
            "epoch": self.number,
            "prev": self.prev,
            "members": self.members,
            "key": b64url(self.key),
        }
        return EPOCH_LABEL + canonicalize(body)

    @property
    def digest(self) -> str:
        """Names this epoch in the next one's ``prev`` (a chain: two epochs of one number are a fork)."""
        return hashlib.sha256(self.plaintext()).hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    """What the next epoch chains from: an epoch held without its key (a device keeps only its number and digest)."""

    group: str
    number: int
    digest: str


@dataclass(frozen=True, slots=True)
class EpochChunk:
    """One sealed message's worth of an epoch change: seal ``plaintext`` to exactly ``devices`` (X25519 hex)."""

    devices: list[str]
    plaintext: bytes


def distinct(devices: Iterable[Device]) -> tuple[list[Device], dict[Device, str]]:
    """The devices (sorted, each once) where no two share a signing or a sealing key, and the devices left out,
    each with why. One key cannot be two devices: sealing to it would be for either. Of devices sharing a key, the
    one whose sealing key is its signing key's X25519 form (which only its holder holds) is kept; the others are
    left out (all of them when none is, or several). A log never lists such a pair now (docs/protocol.md §13.3,
    ``x25519_not_derived``); a reader meeting one (a log held from before, a hostile view) skips the claim, the same
    on every device, rather than refuse the whole set."""
    listed = sorted(set(devices))
    out: dict[Device, str] = {}
    for key in ("signing", "sealing"):
        sharing: dict[str, list[Device]] = {}
        for d in listed:
            sharing.setdefault(getattr(d, key), []).append(d)
        for group in (g for g in sharing.values() if len(g) > 1):
            held = [d for d in group if sealing_public(d.signing) == d.sealing]
            for d in group:
                if held != [d]:
                    out.setdefault(d, f"the device {d.signing[:12]} shares its {key} key with another device and"
                                   " does not provably hold it: nothing is sealed to it")  # fmt: skip
    return [d for d in listed if d not in out], out


def _checked(devices: Iterable[Device]) -> list[Device]:
    given = list(devices)
    if not given:
        raise Refused("bad_recipient", "A group epoch needs at least one member device.")
    for device in given:
        if not all(isinstance(k, str) and KEY_HEX.fullmatch(k) for k in (device.signing, device.sealing)):
            raise Refused("bad_recipient", f"A member device's keys are not 64 lowercase hex digits: {device!r}.")
    listed = sorted(set(given))
    for key in ("signing", "sealing"):
        if len({getattr(d, key) for d in listed}) != len(listed):
            raise Refused("bad_recipient", f"Two member devices share one {key} key.")
    return listed


def members_digest(devices: Iterable[Device]) -> str:
    """The member device set, as the epoch plaintext commits to it: every device's pair of keys, sorted."""
    pairs = [[d.signing, d.sealing] for d in _checked(devices)]
    return hashlib.sha256(b"murmur group v1 members\n" + canonicalize(pairs)).hexdigest()


def _entry_bytes() -> int:
    """One `to` entry of a sealing v1 envelope in canonical JSON, and its comma."""
    entry = {"device": "0" * 64, "wrap": b64url(bytes(WRAP_BYTES))}
    return len(canonicalize(entry)) + 1


def chunk_devices(reserve: int = OUTER_RESERVE) -> int:
    """K: the most devices one sealed epoch chunk may go to, so that the envelope and ``reserve`` bytes of outer
    message fit in MAX_MESSAGE_BYTES. Every `to` entry and the body have fixed sizes, so this is exact."""
    from murmur.validate import MAX_MESSAGE_BYTES  # here, not at the top: validate imports the kind modules

    sample = Epoch("0" * 64, MAX_EPOCH, NO_EPOCH, NO_EPOCH, bytes(KEY_BYTES)).plaintext()
    body = bytes(bucket_for(len(sample)) + TAG_BYTES)
    empty = len(canonicalize({"v": 1, "to": [], "body": b64url(body)}))
    return (MAX_MESSAGE_BYTES - reserve - empty + 1) // _entry_bytes()  # +1: the first entry has no comma


def new_epoch(
    group: str,
    devices: Iterable[Device],
    previous: Epoch | Link | None,
    *,
    key: bytes | None = None,
    per_chunk: int | None = None,
) -> tuple[Epoch, list[EpochChunk]]:
    """Start the epoch after ``previous`` (epoch 0 when None) for exactly ``devices``, the group's member devices.

    Returns the epoch (with its fresh key E_n) and the chunks to seal: every device's X25519 key is in exactly
    one chunk, of at most ``per_chunk`` devices (``chunk_devices()`` by default). ``key`` is for test vectors.
    """
    if not isinstance(group, str) or not KEY_HEX.fullmatch(group):
        raise Refused("bad_recipient", "A group id is 64 lowercase hex digits.")
    listed = _checked(devices)
    if previous is not None and previous.group != group:
        raise Refused("wrong_group", "The previous epoch belongs to another group.")
    number, prev = (previous.number + 1, previous.digest) if previous is not None else (0, NO_EPOCH)
    epoch = Epoch(
        group, number, prev, members_digest(listed), key if key is not None else ChaCha20Poly1305.generate_key()
    )
    size = per_chunk if per_chunk is not None else chunk_devices()
    if size < 1:
        raise ValueError(f"A chunk holds at least one device, not {size}.")
    sealing = sorted(d.sealing for d in listed)
    plaintext = epoch.plaintext()
    count = math.ceil(len(sealing) / size)
    return epoch, [EpochChunk(sealing[i * size : (i + 1) * size], plaintext) for i in range(count)]


def _bad(why: str) -> Refused:
    return Refused("bad_envelope", f"The group epoch plaintext is malformed: {why}")


def open_epoch(plaintext: bytes, *, group: str) -> Epoch:
    """Read an epoch plaintext opened from a sealed chunk, for ``group``; refuses with a precise code."""
    epoch = read_epoch(plaintext)
    if epoch.group != group:
        raise Refused("wrong_group", "This epoch key belongs to another group.")
    return epoch


def read_epoch(plaintext: bytes) -> Epoch:
    """Read an epoch plaintext opened from a sealed chunk, for whichever group it names (the caller checks that
    group before holding its key); ``bad_envelope`` or ``unknown_version`` otherwise."""
    from murmur.validate import parse_json  # here, not at the top: validate imports the kind modules, and they this

    if not isinstance(plaintext, bytes) or not plaintext.startswith(EPOCH_LABEL):
        raise _bad("it does not start with the epoch label.")
    try:  # the one strict parser: bounded in size and depth, so a crafted plaintext is a refusal, never a crash
        body = parse_json(plaintext[len(EPOCH_LABEL) :])
    except Refused as refusal:
        raise _bad(f"it is not JSON ({refusal.message})") from refusal
    if not isinstance(body, dict) or type(body.get("v")) is not int:
        raise _bad("it is not an object with an integer `v`.")
    if body["v"] != VERSION:
        raise Refused("unknown_version", f"This device reads group epochs of version {VERSION}, not {body['v']}.")
    if set(body) != {"v", "group", "epoch", "prev", "members", "key"}:
        raise _bad("its members are not exactly `v`, `group`, `epoch`, `prev`, `members` and `key`.")
    number = body["epoch"]
    if type(number) is not int or not 0 <= number <= MAX_EPOCH:
        raise _bad("`epoch` is not an integer from 0 to 2^53-1.")
    for name in ("group", "prev", "members"):
        if not isinstance(body[name], str) or not KEY_HEX.fullmatch(body[name]):
            raise _bad(f"`{name}` is not 64 lowercase hex digits.")
    key = _unb64url(body["key"], "`key`")
    if len(key) != KEY_BYTES:
        raise _bad(f"`key` is {len(key)} bytes, not {KEY_BYTES}.")
    epoch = Epoch(body["group"], number, body["prev"], body["members"], key)
    if epoch.plaintext() != plaintext:  # one spelling, so every device computes the same digest
        raise _bad("it is not in its one canonical spelling.")
    if (number == 0) != (epoch.prev == NO_EPOCH):
        raise _bad("epoch 0, and only epoch 0, has no previous epoch.")
    return epoch
