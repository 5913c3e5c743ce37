"""Private group messages: written with the sender device's chain, read with the reader's copy of it
(docs/encryption.md §12, normative).

Pure: no I/O, no clock. A group message names in the clear only its version, its group and its epoch (number and id).
Its header, sealed under the epoch's header key, holds the sender device's Ed25519 key, the message's index
in that device's chain and the device's signature; its body, sealed under the index's message key, holds the
plaintext padded to sealing v1's buckets. ``encrypt_group`` and ``decrypt_group`` move the chain they use
forward in the ``GroupKeys`` given, and only when they succeed.

Errors are ``Refused``: ``unknown_version``, ``bad_envelope``, ``wrong_group``, ``wrong_epoch``, ``tampered``,
``not_member``, ``forged_sender``, ``replayed``, ``too_old``, ``too_far``, ``unproven_epoch`` on reading;
``wrong_epoch``, ``not_member``, ``too_large`` and ``chain_exhausted`` on writing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from murmur.errors import Refused
from murmur.group_chains import EPOCH_ID, MAX_INDEX, EpochKeys, GroupKeys
from murmur.group_epoch import MAX_EPOCH
from murmur.jcs import canonicalize
from murmur.keys import KEY_HEX, verify_signature
from murmur.sealing import BUCKETS, TAG_BYTES, _unb64url, b64url, bucket_for

VERSION = 1  # sender keys over epochs; an MLS (RFC 9420) profile would take another number
LENGTH_BYTES = 4
MAX_PLAINTEXT = BUCKETS[-1] - LENGTH_BYTES
NONCE_BYTES = 12
INDEX_BYTES = 4
SIG_BYTES = 64
HEADER_BYTES = 32 + INDEX_BYTES + SIG_BYTES + TAG_BYTES  # sender, index, signature, tag


@dataclass(frozen=True, slots=True)
class Header:
    """Who wrote a group message and where it sits: read and checked, but no chain moved yet."""

    sender: str  # the sender device's Ed25519 key, 64 hex
    index: int
    epoch: int
    digest: str  # the epoch's digest: after a fork, which of the epochs of that number


@dataclass(frozen=True, slots=True)
class GroupOpened:
    """A group message read on a member device, its sender device proven by signature."""

    plaintext: bytes
    header: Header


@dataclass(frozen=True, slots=True)
class Parsed:
    group: str
    epoch: int
    epoch_id: str
    nonce: bytes
    header: bytes
    body: bytes


def _bad(why: str) -> Refused:
    return Refused("bad_envelope", f"The group message is malformed: {why}")


def _tampered() -> Refused:
    return Refused("tampered", "The group message was altered after it was written, or written for other fields.")


def _context(group: str, epoch: int, epoch_id: str, bound: dict[str, Any] | None) -> bytes:
    """H: the version, group, epoch and the outer message's fields, which a relay could swap."""
    fields = {
        "v": VERSION,
        "group": group,
        "epoch": epoch,
        "epoch_id": epoch_id,
        "bound": bound if bound is not None else {},
    }
    return hashlib.sha256(b"murmur group v1 context\n" + canonicalize(fields)).digest()


def _signed(context: bytes, digest: str, sender: bytes, index: bytes, nonce: bytes, body: bytes) -> bytes:
    """What the sender device signs: everything that decides what this message says and where it belongs."""
    return (
        b"murmur group v1 sign\n"
        + context
        + bytes.fromhex(digest)
        + sender
        + index
        + nonce
        + hashlib.sha256(body).digest()
    )


def _padded(plaintext: bytes) -> bytes:
    """The inner plaintext: the length, the text, zeros up to sealing v1's smallest bucket that holds them."""
    inner = len(plaintext).to_bytes(LENGTH_BYTES, "big") + plaintext
    return inner + bytes(bucket_for(len(plaintext), LENGTH_BYTES) - len(inner))


def encrypt_group(
    keys: GroupKeys,
    signer: Ed25519PrivateKey,
    plaintext: bytes,
    *,
    bound: dict[str, Any] | None = None,
    nonce: bytes | None = None,
) -> dict[str, Any]:
    """Write ``plaintext`` to the group in its current epoch as the device holding ``signer``; moves that
    device's chain one step (save ``keys`` before sending). ``nonce`` is for test vectors. Returns the JSON-safe
    group message."""
    epoch = keys.current()
    if epoch is None:
        raise Refused("wrong_epoch", "This device holds no epoch key for this group yet.")
    sender = signer.public_key().public_bytes_raw()
    chain = epoch.chains.get(sender.hex())
    if chain is None:
        raise Refused("not_member", f"This device is not a member device of epoch {epoch.number} of this group.")
    if chain.next > MAX_INDEX:
        raise Refused("chain_exhausted", "This device has written all it may in this epoch; start a new epoch.")
    inner = _padded(plaintext)
    index = chain.next.to_bytes(INDEX_BYTES, "big")
    message_key, advanced = chain.message_key(chain.next)
    # A random nonce, though each message key seals one body: a device restored from a backup that writes an
    # index twice then still never reuses a key with a nonce (and readers refuse the second as `replayed`).
    nonce = nonce if nonce is not None else os.urandom(NONCE_BYTES)
    context = _context(keys.group, epoch.number, epoch.id, bound)
    body = ChaCha20Poly1305(message_key).encrypt(nonce, inner, b"murmur group v1 body\n" + context + sender + index)
    signature = signer.sign(_signed(context, epoch.digest, sender, index, nonce, body))
    header_ad = b"murmur group v1 header\n" + context + hashlib.sha256(body).digest()
    header = ChaCha20Poly1305(epoch.header_key).encrypt(nonce, sender + index + signature, header_ad)
    keys.advance(epoch.digest, sender.hex(), advanced)
    return {
        "v": VERSION,
        "group": keys.group,
        "epoch": epoch.number,
        "epoch_id": epoch.id,
        "nonce": b64url(nonce),
        "header": b64url(header),
        "body": b64url(body),
    }


def _parse(message: object) -> Parsed:
    if not isinstance(message, dict):
        raise _bad("it is not an object.")
    version = message.get("v")
    if type(version) is not int:
        raise _bad("`v` is not an integer.")
    if version != VERSION:
        raise Refused("unknown_version", f"This device reads group messages of version {VERSION}, not {version}.")
    if set(message) != {"v", "group", "epoch", "epoch_id", "nonce", "header", "body"}:
        raise _bad("its members are not exactly `v`, `group`, `epoch`, `epoch_id`, `nonce`, `header` and `body`.")
    group, epoch, epoch_id = message["group"], message["epoch"], message["epoch_id"]
    if not isinstance(group, str) or not KEY_HEX.fullmatch(group):
        raise _bad("`group` is not 64 lowercase hex digits.")
    if type(epoch) is not int or not 0 <= epoch <= MAX_EPOCH:
        raise _bad("`epoch` is not an integer from 0 to 2^53-1.")
    if not isinstance(epoch_id, str) or not EPOCH_ID.fullmatch(epoch_id):
        raise _bad("`epoch_id` is not 32 lowercase hex digits.")
    nonce = _unb64url(message["nonce"], "`nonce`")
    header = _unb64url(message["header"], "`header`")
    body = _unb64url(message["body"], "`body`")
    if len(nonce) != NONCE_BYTES or len(header) != HEADER_BYTES:
        raise _bad(f"`nonce` is not {NONCE_BYTES} bytes or `header` not {HEADER_BYTES}.")
    if len(body) - TAG_BYTES not in BUCKETS:
        raise _bad(f"`body` is {len(body)} bytes, which is no padding bucket.")
    return Parsed(group, epoch, epoch_id, nonce, header, body)


def check_shape(message: object) -> Parsed:
    """What a server can check of a group message it cannot read: its version and shape (steps 1 and 2 of
    reading); refuses as reading does (``unknown_version``, ``bad_envelope``)."""
    return _parse(message)


def _open_header(keys: GroupKeys, parsed: Parsed, bound: dict[str, Any] | None) -> tuple[Header, EpochKeys]:
    if parsed.group != keys.group:
        raise Refused("wrong_group", "This group message belongs to another group.")
    epoch = keys.find(parsed.epoch, parsed.epoch_id)
    if epoch is None and keys.at(parsed.epoch):
        # Another id under a number held: an epoch of a fork whose key has not come (two changes at once, or a member
        # device sealing different keys in different chunks), or an id anyone made up: no key proves it, so it is
        # not called a fork (a stranger can name any id); it waits, counted, for a key that may come.
        raise Refused(
            "unproven_epoch",
            f"It names epoch {parsed.epoch} under an id no key this device holds proves: another epoch of that"
            " number whose key has not come (two membership changes at once), or one made up by anyone.",
        )
    if epoch is None:
        raise Refused(
            "wrong_epoch",
            f"This device holds no key for epoch {parsed.epoch} of this group: it was not a member device then, "
            "or has not yet received that epoch.",
        )
    context = _context(parsed.group, parsed.epoch, parsed.epoch_id, bound)
    header_ad = b"murmur group v1 header\n" + context + hashlib.sha256(parsed.body).digest()
    try:
        opened = ChaCha20Poly1305(epoch.header_key).decrypt(parsed.nonce, parsed.header, header_ad)
    except InvalidTag as exc:
        raise _tampered() from exc
    sender, index, signature = opened[:32], opened[32 : 32 + INDEX_BYTES], opened[32 + INDEX_BYTES :]
    if sender.hex() not in epoch.chains:
        raise Refused("not_member", f"The sender device was not a member device of epoch {epoch.number}.")
    signed = _signed(context, epoch.digest, sender, index, parsed.nonce, parsed.body)
    if not verify_signature(sender.hex(), signature.hex(), signed):
        raise Refused("forged_sender", "The group message's signature does not hold for the device it names.")
    return Header(sender.hex(), int.from_bytes(index, "big"), epoch.number, epoch.digest), epoch


def read_header(keys: GroupKeys, message: object, *, bound: dict[str, Any] | None = None) -> Header:
    """Who wrote ``message`` and its index, checked, without moving any chain: a device catching up sorts a
    batch by sender and index with this before reading it, so that no chain skips more than it must."""
    return _open_header(keys, _parse(message), bound)[0]


def decrypt_group(keys: GroupKeys, message: object, *, bound: dict[str, Any] | None = None) -> GroupOpened:
    """Read ``message`` on this device and move the sender's chain past it (save ``keys`` after)."""
    parsed = _parse(message)
    header, epoch = _open_header(keys, parsed, bound)
    message_key, advanced = epoch.chains[header.sender].message_key(header.index)
    context = _context(parsed.group, parsed.epoch, parsed.epoch_id, bound)
    index = header.index.to_bytes(INDEX_BYTES, "big")
    body_ad = b"murmur group v1 body\n" + context + bytes.fromhex(header.sender) + index
    try:
        inner = ChaCha20Poly1305(message_key).decrypt(parsed.nonce, parsed.body, body_ad)
    except InvalidTag as exc:  # signed by the member named, so that member wrote a body nobody can read
        raise _tampered() from exc
    length = int.from_bytes(inner[:LENGTH_BYTES], "big")
    end = LENGTH_BYTES + length
    if end > len(inner) or any(inner[end:]) or bucket_for(length, LENGTH_BYTES) != len(inner):
        raise _bad("its padding is not the one the sealing rules give.")
    keys.advance(epoch.digest, header.sender, advanced)
    return GroupOpened(inner[LENGTH_BYTES:end], header)
