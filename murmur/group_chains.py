"""A device's keys for one private group: per epoch, the header key and one ratchet chain per member device
(docs/encryption.md §11, normative).

Pure: no I/O, no clock. ``GroupKeys.start_epoch`` turns an opened epoch into a header key and every member
device's first chain key, so the epoch key itself can be forgotten; each chain then moves forward one message
at a time and forgets what it moved past, keeping at most ``MAX_SKIPPED`` keys of messages not yet read.
``to_json`` / ``from_json`` give a JSON-safe dict for the client's store. Messages are made and read by
murmur/group_sealing.py.

Errors are ``Refused``: ``wrong_group``, ``members_differ``, ``epoch_jump`` and ``bad_recipient`` when starting
an epoch, ``replayed``, ``too_old`` and ``too_far`` when a chain is asked for a message key, ``bad_state`` for a
stored state that is not one this module wrote.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from murmur.errors import MurmurError, Refused
from murmur.group_epoch import MAX_EPOCH, Device, Epoch, members_digest
from murmur.keys import KEY_HEX
from murmur.sealing import _unb64url, b64url

MAX_SKIPPED = 1000  # keys of skipped messages one chain keeps; the oldest go first
MAX_AHEAD = 2_000  # how far past its head a chain moves for one message: bounds the work one message can ask
MAX_INDEX = 2**32 - 1  # an index is 4 bytes in the header
EPOCH_ID = re.compile(r"[0-9a-f]{32}")  # an epoch id as written


def _hkdf(secret: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


def _context(group: str, number: int) -> bytes:
    return bytes.fromhex(group) + number.to_bytes(8, "big")


def epoch_id(epoch: Epoch) -> str:
    """Names epoch n in the clear (16 bytes, hex): which of two epochs of one number a message is in, so a
    device missing that epoch waits for it (`wrong_epoch`) instead of taking the message for tampered."""
    return _hkdf(epoch.key, b"murmur group v1 epoch id\n" + _context(epoch.group, epoch.number), 16).hex()


def header_key(epoch: Epoch) -> bytes:
    """HK_n: seals every group message's header in epoch n (who sent it, its index, the signature)."""
    return _hkdf(epoch.key, b"murmur group v1 header key\n" + _context(epoch.group, epoch.number))


def first_chain_key(epoch: Epoch, signing: str) -> bytes:
    """CK_0 of the member device whose Ed25519 key is ``signing`` (64 hex), in epoch n."""
    return _hkdf(
        epoch.key, b"murmur group v1 chain key\n" + _context(epoch.group, epoch.number) + bytes.fromhex(signing)
    )


def step(chain_key: bytes) -> tuple[bytes, bytes]:
    """(MK_i, CK_i+1) from CK_i: the message key, and the next chain key. CK_i is then forgotten."""
    return hmac.digest(chain_key, b"\x01", "sha256"), hmac.digest(chain_key, b"\x02", "sha256")


@dataclass(frozen=True, slots=True)
class Chain:
    """One member device's chain in one epoch, on this device: ``key`` is CK_next; ``skipped`` holds the
    message keys of indexes below ``next`` not yet read; indexes below ``dropped`` not in it are gone."""

    next: int
    key: bytes = field(repr=False)
    dropped: int = 0
    skipped: dict[int, bytes] = field(default_factory=dict, repr=False)

    def message_key(self, index: int) -> tuple[bytes, Chain]:
        """MK_index and the chain as it is once that message is read; this chain is left as it was."""
        if index < self.next:
            if index in self.skipped:
                rest = {i: k for i, k in self.skipped.items() if i != index}
                return self.skipped[index], replace(self, skipped=rest)
            if index < self.dropped:
                raise Refused(
                    "too_old",
                    f"Message {index} is older than the {MAX_SKIPPED} skipped messages this device keeps keys for.",
                )
            raise Refused("replayed", f"Message {index} of this sender was already read on this device.")
        if index - self.next > MAX_AHEAD:
            raise Refused("too_far", f"Message {index} is more than {MAX_AHEAD} messages past this sender's last.")
        skipped, key = dict(self.skipped), self.key
        keep_from = index - MAX_SKIPPED  # a key below this would be deleted at once: never kept
        for i in range(self.next, index):
            skipped_key, key = step(key)
            if i >= keep_from:
                skipped[i] = skipped_key
        message, key = step(key)
        dropped = max(self.dropped, keep_from) if index - self.next > MAX_SKIPPED else self.dropped
        if len(skipped) > MAX_SKIPPED:
            kept = sorted(skipped)[-MAX_SKIPPED:]
            dropped = max(dropped, kept[0])
            skipped = {i: skipped[i] for i in kept}
        return message, Chain(index + 1, key, dropped, skipped)

    def to_json(self) -> dict[str, Any]:
        skipped = {str(i): b64url(k) for i, k in sorted(self.skipped.items())}
        return {"next": self.next, "key": b64url(self.key), "dropped": self.dropped, "skipped": skipped}

    @classmethod
    def from_json(cls, data: object) -> Chain:
        if not isinstance(data, dict) or set(data) != {"next", "key", "dropped", "skipped"}:
            raise _bad_state("a chain is not an object of `next`, `key`, `dropped` and `skipped`.")
        skipped = data["skipped"]
        if not isinstance(skipped, dict) or not all(isinstance(i, str) and i.isdigit() for i in skipped):
            raise _bad_state("a chain's `skipped` is not an object keyed by indexes.")
        chain = cls(
            _index(data["next"]),
            _key(data["key"]),
            _index(data["dropped"]),
            {int(i): _key(k) for i, k in skipped.items()},
        )
        if any(not chain.dropped <= i < chain.next for i in chain.skipped) or len(chain.skipped) > MAX_SKIPPED:
            raise _bad_state("a chain's skipped keys lie outside its window.")
        return chain


@dataclass(frozen=True, slots=True)
class EpochKeys:
    """What this device keeps of epoch n: no epoch key, only the header key and a chain per member device."""

    number: int
    id: str
    digest: str
    prev: str
    members: str
    header_key: bytes = field(repr=False)
    chains: dict[str, Chain] = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "epoch": self.number,
            "id": self.id,
            "digest": self.digest,
            "prev": self.prev,
            "members": self.members,
            "header_key": b64url(self.header_key),
            "chains": {signing: chain.to_json() for signing, chain in sorted(self.chains.items())},
        }

    @classmethod
    def from_json(cls, data: object) -> EpochKeys:
        fields = {"epoch", "id", "digest", "prev", "members", "header_key", "chains"}
        if not isinstance(data, dict) or set(data) != fields or not isinstance(data["chains"], dict):
            raise _bad_state("an epoch is not an object of " + ", ".join(sorted(fields)) + ".")
        return cls(
            _index(data["epoch"], MAX_EPOCH),
            _id(data["id"]),
            _hex(data["digest"]),
            _hex(data["prev"]),
            _hex(data["members"]),
            _key(data["header_key"]),
            {_hex(signing): Chain.from_json(chain) for signing, chain in data["chains"].items()},
        )


class GroupKeys:
    """Every epoch this device holds for one group, and the order they chain in. Changes only on success."""

    def __init__(self, group: str, epochs: Iterable[EpochKeys] = ()) -> None:
        self.group = group
        self.epochs: dict[str, EpochKeys] = {e.digest: e for e in epochs}

    def start_epoch(self, epoch: Epoch, devices: Iterable[Device], *, sealed_by: str, rejoined: bool = False) -> str:
        """Hold ``epoch`` for exactly ``devices`` (this device's view of the members then; the epoch's member
        digest must agree), sealed by the device whose X25519 key is ``sealed_by`` (sealing's ``Opened.sender``;
        the changer's own key on the changer). Returns ``"new"``, ``"known"`` (held already: a chunk seen twice)
        or ``"fork"`` (another epoch of its number, or a ``prev`` that is not the digest held before it).

        Epoch n+1 follows the head held (the highest number): one numbered further on is refused (``epoch_jump``),
        or a moderator could seal epoch 2^53-1 and leave no number for the next removal. Only a device that holds
        no epoch yet, or one ``rejoined`` (its identity was removed and invited again: it missed the epochs made
        while it was out), starts wherever it is sealed in."""
        if epoch.group != self.group:
            raise Refused("wrong_group", "This epoch belongs to another group.")
        head = self.current()
        if head is not None and epoch.number > head.number + 1 and not rejoined:
            raise Refused(
                "epoch_jump", f"Epoch {epoch.number} does not follow epoch {head.number}, the newest held here."
            )
        listed = list(devices)
        if members_digest(listed) != epoch.members:
            raise Refused(
                "members_differ",
                f"Epoch {epoch.number} was made for another set of member devices than this device knows of.",
            )
        if sealed_by not in {d.sealing for d in listed}:
            # A device outside the new set would know the key of an epoch made to shut it out.
            raise Refused("not_member", f"Epoch {epoch.number} was sealed by a device outside its own set.")
        digest = epoch.digest
        if digest in self.epochs:
            return "known"
        chains = {d.signing: Chain(0, first_chain_key(epoch, d.signing)) for d in listed}
        held = EpochKeys(epoch.number, epoch_id(epoch), digest, epoch.prev, epoch.members, header_key(epoch), chains)
        self.epochs[digest] = held
        return "fork" if epoch.number in self.forks() else "new"

    def at(self, number: int) -> list[EpochKeys]:
        """The epochs held with this number: one, or several after a fork (lowest digest first)."""
        return sorted((e for e in self.epochs.values() if e.number == number), key=lambda e: e.digest)

    def find(self, number: int, id: str) -> EpochKeys | None:
        """The epoch a group message names, if this device holds it."""
        return next((e for e in self.epochs.values() if e.number == number and e.id == id), None)

    def current(self) -> EpochKeys | None:
        """The epoch to write in: the highest number held; after a fork, the lowest digest of it."""
        if not self.epochs:
            return None
        return self.at(max(e.number for e in self.epochs.values()))[0]

    def forks(self) -> list[int]:
        """Numbers at which the chain of epochs forks: two epochs held, or one whose ``prev`` is not the digest
        of the epoch held before it. A device shows a fork: two devices changed the membership at once, or one
        member device misbehaved."""
        found = set()
        for epoch in self.epochs.values():
            before = self.at(epoch.number - 1)
            if len(self.at(epoch.number)) > 1 or (before and epoch.prev not in {b.digest for b in before}):
                found.add(epoch.number)
        return sorted(found)

    def advance(self, digest: str, signing: str, chain: Chain) -> None:
        """Keep ``chain`` as the new state of ``signing``'s chain in epoch ``digest`` (after a success)."""
        held = self.epochs[digest]
        self.epochs[digest] = replace(held, chains={**held.chains, signing: chain})

    def forget_before(self, number: int) -> None:
        """Delete every epoch numbered below ``number``: its late messages can no longer be read."""
        self.epochs = {d: e for d, e in self.epochs.items() if e.number >= number}

    def to_json(self) -> dict[str, Any]:
        ordered = sorted(self.epochs.values(), key=lambda e: (e.number, e.digest))
        return {"v": 1, "group": self.group, "epochs": [e.to_json() for e in ordered]}

    @classmethod
    def from_json(cls, data: object) -> GroupKeys:
        version = data.get("v") if isinstance(data, dict) else None
        if type(version) is not int or version != 1 or set(data) != {"v", "group", "epochs"}:  # type: ignore[arg-type]
            raise _bad_state("it is not an object of `v` 1, `group` and `epochs`.")
        if not isinstance(data["epochs"], list):
            raise _bad_state("`epochs` is not a list.")
        return cls(_hex(data["group"]), [EpochKeys.from_json(e) for e in data["epochs"]])


def _bad_state(why: str) -> Refused:
    return Refused("bad_state", f"The stored group keys are not ones murmur wrote: {why}")


def _index(value: object, most: int = MAX_INDEX + 1) -> int:
    if type(value) is not int or not 0 <= value <= most:
        raise _bad_state("an index or an epoch number is not a whole number in range.")
    return value


def _hex(value: object) -> str:
    if not isinstance(value, str) or not KEY_HEX.fullmatch(value):
        raise _bad_state("a key or digest is not 64 lowercase hex digits.")
    return value


def _id(value: object) -> str:
    if not isinstance(value, str) or not EPOCH_ID.fullmatch(value):
        raise _bad_state("an epoch id is not 32 lowercase hex digits.")
    return value


def _key(value: object) -> bytes:
    try:
        key = _unb64url(value, "a key")
    except MurmurError as exc:
        raise _bad_state("a key is not base64url.") from exc
    if len(key) != 32:
        raise _bad_state("a key is not 32 bytes.")
    return key
