"""Private groups on the wire: what a member device writes into a group, and the epoch chunks a membership change
sends (docs/encryption.md §16). Pure: no I/O, no clock; the client supplies the keys, the logs and the time.

A group's post, reply or reaction is an *inner* plaintext (canonical JSON, RFC 8785) written with the device's
chain (``murmur.group_sealing``) and carried by a ``sealed`` message whose body holds the group message
(``group_message``), signed by a one-time key and dated coarsely as a direct message is. An epoch's key travels
in chunks, each a ``sealed`` message holding a sealing v1 envelope to at most K member devices
(``murmur.group_epoch``), the same outer shape as a direct message's: a server cannot tell them apart.

Refusals, each a ``Refused`` with its code: those of ``murmur.group_sealing.decrypt_group`` (``bad_envelope``,
``unknown_version``, ``wrong_group``, ``wrong_epoch``, ``tampered``, ``not_member``, ``forged_sender``,
``replayed``, ``too_old``, ``too_far``), then ``bad_inner`` (the plaintext is not an inner group message),
``forged_sender`` (its header's device is not the device it names) and ``bad_time`` (its exact time is not within
the outer message's coarse one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.direct import bound_fields, sealed_to_devices, sign_outer
from murmur.errors import Refused
from murmur.group_chains import GroupKeys
from murmur.group_epoch import EPOCH_LABEL, Device, Epoch, Link, new_epoch, read_epoch
from murmur.group_sealing import Header, decrypt_group, encrypt_group, read_header
from murmur.jcs import MAX_SAFE_INTEGER, canonicalize
from murmur.keys import KEY_HEX, Identity
from murmur.kinds.sealed import COARSE_MS, envelope_of, envelope_text, group_message_of
from murmur.message import Message
from murmur.sealing import Opened, open_sealed
from murmur.validate import parse_json

KINDS = ("post", "reaction")  # a reply is a post with ``reply_to``
LONGEST_TEXT = 5000  # code points, as a post's
LONGEST_REACTION = 32
_MEMBERS = {"kind", "from", "device", "text", "created_at", "id"}
_OPTIONAL = {"reply_to", "target"}


@dataclass(frozen=True, slots=True)
class GroupInner:
    """What a private group message says, read from its plaintext. ``target``: the inner id a reaction is to."""

    id: str
    kind: str
    sender: str  # the identity it is from
    device: str  # the Ed25519 key of the device that wrote it
    text: str
    created_at: int
    reply_to: str | None
    target: str | None


@dataclass(frozen=True, slots=True)
class GroupRead:
    """A group message read on this device: what it says, and its header (sender device, index, epoch)."""

    inner: GroupInner
    header: Header
    outer: str


def _inner_id(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(b"murmur group post v1\n" + canonicalize(dict(fields))).hexdigest()


def group_inner(
    kind: str,
    sender: str,
    device: str,
    text: str,
    created_at: int,
    *,
    reply_to: str | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """The inner plaintext's object, its ``id`` computed: a post (a reply with ``reply_to``) or a reaction
    (``text`` the reaction, ``target`` the inner id of the message it is to)."""
    fields: dict[str, Any] = {"kind": kind, "from": sender, "device": device, "text": text, "created_at": created_at}
    if reply_to is not None:
        fields["reply_to"] = reply_to
    if target is not None:
        fields["target"] = target
    read_fields(fields)  # what a reader would refuse is never written
    return {**fields, "id": _inner_id(fields)}


def _bad(why: str) -> Refused:
    return Refused("bad_inner", f"The group message does not hold a post or a reaction: {why}")


def _hex(value: object, what: str) -> str:
    if not isinstance(value, str) or not KEY_HEX.fullmatch(value):
        raise _bad(f"{what} is not 64 lowercase hex digits.")
    return value


def read_fields(obj: Mapping[str, Any]) -> None:
    """Check an inner object's members (all but ``id``); ``bad_inner`` naming the first fault."""
    if obj.get("kind") not in KINDS:
        raise _bad(f"kind is not one of {', '.join(KINDS)}.")
    _hex(obj.get("from"), "from")
    _hex(obj.get("device"), "device")
    text, created_at = obj.get("text"), obj.get("created_at")
    longest = LONGEST_TEXT if obj["kind"] == "post" else LONGEST_REACTION
    if not isinstance(text, str) or not text or len(text) > longest:
        raise _bad(f"text is not 1 to {longest} characters.")
    if type(created_at) is not int or not 0 <= created_at <= MAX_SAFE_INTEGER:
        raise _bad("created_at is not a time in ms.")
    for name in _OPTIONAL & set(obj):
        _hex(obj[name], name)
    if (obj["kind"] == "reaction") != ("target" in obj) or (obj["kind"] == "reaction" and "reply_to" in obj):
        raise _bad("a reaction, and only a reaction, names a target; it answers nothing.")


def read_group_inner(plaintext: bytes) -> GroupInner:
    """The inner message of a read group message, checked member by member; ``bad_inner`` otherwise."""
    try:
        obj = parse_json(plaintext, limit=None)
    except Refused as refusal:
        raise _bad(refusal.message) from refusal
    if not isinstance(obj, dict) or not _MEMBERS <= set(obj) <= _MEMBERS | _OPTIONAL:
        raise _bad("its members are not kind, from, device, text, created_at, id (and reply_to or target).")
    if canonicalize(obj) != plaintext:
        raise _bad("it is not in its canonical (RFC 8785) form.")
    read_fields(obj)
    if _hex(obj["id"], "id") != _inner_id({k: v for k, v in obj.items() if k != "id"}):
        raise _bad("its id is not the digest of the rest.")
    return GroupInner(obj["id"], obj["kind"], obj["from"], obj["device"], obj["text"], obj["created_at"],
                      obj.get("reply_to"), obj.get("target"))  # fmt: skip


def seal_group(
    keys: GroupKeys, device: Identity, inner: Mapping[str, Any], visibility: str, *, signer: Identity | None = None
) -> dict[str, Any]:
    """The signed sealed message carrying ``inner`` written by ``device`` in the group's current epoch; moves the
    device's chain in ``keys`` (save them before sending). ``too_large``, ``wrong_epoch``, ``not_member`` as
    ``encrypt_group`` says."""
    signer = signer if signer is not None else Identity.generate()
    at = int(inner["created_at"])
    bound = bound_fields(signer.public_key, at // COARSE_MS * COARSE_MS, visibility)
    written = encrypt_group(keys, device.private_key, canonicalize(dict(inner)), bound=bound)
    return sign_outer(signer, at, visibility, "group_message", envelope_text(written))


def _group_message(outer: Message) -> dict[str, Any]:
    try:
        return group_message_of(outer.body)
    except Refused as refusal:
        raise Refused("bad_envelope", f"The sealed message holds no group message: {refusal.message}") from refusal


def _bound(outer: Message) -> dict[str, Any]:
    return bound_fields(outer.author, outer.created_at, outer.visibility)


def header_of(keys: GroupKeys, outer: Message) -> Header:
    """Who wrote a validated group message and its index, checked, no chain moved: to sort a batch before
    reading it."""
    return read_header(keys, _group_message(outer), bound=_bound(outer))


def open_group(keys: GroupKeys, outer: Message) -> GroupRead:
    """Read a validated sealed message of the group on this device, moving the sender's chain in ``keys`` (save
    them with what it says); refuses with the codes above, changing no key."""
    header = header_of(keys, outer)
    chain = keys.epochs[header.digest].chains[header.sender]
    opened = decrypt_group(keys, _group_message(outer), bound=_bound(outer))
    try:
        inner = read_group_inner(opened.plaintext)
        if inner.device != opened.header.sender:
            raise Refused("forged_sender", "The group message names a device other than the one that wrote it.")
        if not outer.created_at <= inner.created_at < outer.created_at + COARSE_MS:
            raise Refused("bad_time", "The group message's time is not within the coarse time of its outer message.")
    except Refused:
        keys.advance(header.digest, header.sender, chain)  # a refusal changes no key
        raise
    return GroupRead(inner, opened.header, outer.id)


def epoch_messages(
    group: str,
    devices: Iterable[Device],
    previous: Link | None,
    sender: X25519PrivateKey,
    visibility: str,
    at: int,
) -> tuple[Epoch, list[dict[str, Any]]]:
    """Start the epoch after ``previous`` for exactly ``devices``: the epoch (its key, to start here before it is
    forgotten) and the signed sealed messages carrying it, one per chunk of at most K devices."""
    epoch, chunks = new_epoch(group, devices, previous)
    return epoch, [sealed_to_devices(c.plaintext, sender, c.devices, visibility, at) for c in chunks]


@dataclass(frozen=True, slots=True)
class Chunk:
    """An epoch opened from a chunk sealed to this device, and the X25519 key of the device that sealed it."""

    epoch: Epoch
    sealed_by: str


def open_chunk(outer: Message, private: X25519PrivateKey) -> Chunk | None:
    """The epoch a validated sealed message carries to this device; None when it holds something else (a direct
    message, a group message). Refuses as sealing v1 and §10.3 say (``not_for_me``, ``tampered``, ...)."""
    opened = sealed_chunk(outer, private)
    return None if opened is None else Chunk(read_epoch(opened.plaintext), opened.sender)


def sealed_chunk(outer: Message, private: X25519PrivateKey) -> Opened | None:
    """A validated sealed message opened on this device when what it holds is an epoch plaintext (its label), not
    read yet: whatever is wrong with it from there on is the chunk's refusal (``read_epoch``), while refusals
    before it (``not_for_me``, ``tampered``, ...) are the sealed feed's, as any direct message's. None when it
    holds something else (a direct message, a group message)."""
    if "envelope" not in outer.body:
        return None
    try:
        envelope = envelope_of(outer.body)
    except Refused as refusal:
        raise Refused("bad_envelope", f"The sealed envelope is malformed: {refusal.message}") from refusal
    opened = open_sealed(envelope, private, bound=_bound(outer))
    return opened if opened.plaintext.startswith(EPOCH_LABEL) else None
