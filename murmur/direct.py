"""Direct messages on a device: what a sealed message says inside, sealing one and opening one (docs/encryption.md
§9). Pure: no I/O, no clock; the client supplies the keys, the logs and the time.

The inner plaintext is canonical JSON (RFC 8785) naming the conversation's ``participants`` (identities, sorted),
the sender's identity (``from``) and device (``device``, its Ed25519 key), the ``text``, the exact ``created_at``
in ms, an optional ``reply_to`` (another inner id) and the inner ``id``: the SHA-256 of the rest. The outer
message (kind ``sealed``, ``murmur.kinds.sealed``) is signed by a one-time key and dated coarsely; its kind, time,
author and audience are the envelope's bound fields, so nothing can move the envelope under another message.

Refusals on opening, each a ``Refused`` with its code: those of ``murmur.sealing.open_sealed`` (``bad_envelope``,
``unknown_version``, ``not_for_me``, ``tampered``, ``forged_sender``), then ``bad_inner`` (the plaintext is not an
inner message), ``bad_time`` (its exact time is not within the outer message's coarse one) and, once the sender's
log is consulted (``check_sender``), ``forged_sender``, ``device_not_yet``, ``device_removed`` and
``device_disputed``. On sealing: ``too_large``, with the limit for that many devices.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.errors import Refused
from murmur.group_epoch import EPOCH_LABEL
from murmur.jcs import MAX_SAFE_INTEGER, canonicalize
from murmur.keys import KEY_HEX, Identity
from murmur.kinds.sealed import COARSE_MS, NAME, envelope_of, envelope_text
from murmur.message import VERSION, Message, sign_envelope
from murmur.sealing import BUCKETS, LENGTH_BYTES, SENDER_BYTES, TAG_BYTES, WRAP_BYTES, open_sealed, recipients_of, seal
from murmur.validate import MAX_MESSAGE_BYTES, parse_json

LONGEST_TEXT = 5000  # code points, as a post's
NOT_DIRECT = "not_direct"  # sealed to this device, but a private group's epoch chunk (murmur.private_group)
_MEMBERS = {"participants", "from", "device", "text", "created_at", "id"}


@dataclass(frozen=True, slots=True)
class Inner:
    """What a direct message says, read from its plaintext."""

    id: str
    participants: tuple[str, ...]
    sender: str  # the identity it is from
    device: str  # the Ed25519 key of the device that sealed it
    text: str
    created_at: int
    reply_to: str | None

    @property
    def conversation(self) -> str:
        return conversation_id(self.participants)


@dataclass(frozen=True, slots=True)
class Received:
    """A sealed message opened on this device: what it says, the X25519 key that sealed it (proven), and the id of
    the outer message that carried it. Who sent it is known only once ``check_sender`` agrees."""

    inner: Inner
    sealed_by: str
    outer: str
    recipients: tuple[str, ...] = ()  # the X25519 devices it was sealed to, as its envelope lists them


def conversation_id(participants: Iterable[str]) -> str:
    """A conversation's id: the digest of its participants' identities, as a sorted set."""
    return hashlib.sha256(b"murmur conversation v1\n" + canonicalize(sorted(set(participants)))).hexdigest()


def _inner_id(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(b"murmur direct v1\n" + canonicalize(dict(fields))).hexdigest()


def inner_message(
    participants: Iterable[str], sender: str, device: str, text: str, created_at: int, reply_to: str | None = None
) -> dict[str, Any]:
    """The inner plaintext's object, its ``id`` computed; ``participants`` includes the sender."""
    fields: dict[str, Any] = {
        "participants": sorted({*participants, sender}),
        "from": sender,
        "device": device,
        "text": text,
        "created_at": created_at,
    }
    if reply_to is not None:
        fields["reply_to"] = reply_to
    return {**fields, "id": _inner_id(fields)}


def _bad(why: str) -> Refused:
    return Refused("bad_inner", f"The sealed message does not hold a direct message: {why}")


def _hex(value: object, what: str) -> str:
    if not isinstance(value, str) or not KEY_HEX.fullmatch(value):
        raise _bad(f"{what} is not 64 lowercase hex digits.")
    return value


def read_inner(plaintext: bytes) -> Inner:
    """The inner message of an opened plaintext, checked member by member; ``bad_inner`` otherwise."""
    try:
        obj = parse_json(plaintext, limit=None)
    except Refused as refusal:
        raise _bad(refusal.message) from refusal
    if not isinstance(obj, dict):
        raise _bad("it is not a JSON object.")
    if not _MEMBERS <= set(obj) <= {*_MEMBERS, "reply_to"}:
        raise _bad("its members are not participants, from, device, text, created_at, id (and reply_to).")
    if canonicalize(obj) != plaintext:
        raise _bad("it is not in its canonical (RFC 8785) form.")
    participants = obj["participants"]
    if not isinstance(participants, list) or not participants:
        raise _bad("participants is not a non-empty list.")
    names = [_hex(p, "a participant") for p in participants]
    if names != sorted(set(names)):
        raise _bad("participants are not sorted without repeats.")
    sender, device = _hex(obj["from"], "from"), _hex(obj["device"], "device")
    if sender not in names:
        raise _bad("its sender is not one of its participants.")
    text, created_at = obj["text"], obj["created_at"]
    if not isinstance(text, str) or not text or len(text) > LONGEST_TEXT:
        raise _bad(f"text is not 1 to {LONGEST_TEXT} characters.")
    if type(created_at) is not int or not 0 <= created_at <= MAX_SAFE_INTEGER:
        raise _bad("created_at is not a time in ms.")
    reply_to = _hex(obj["reply_to"], "reply_to") if "reply_to" in obj else None
    if _hex(obj["id"], "id") != _inner_id({k: v for k, v in obj.items() if k != "id"}):
        raise _bad("its id is not the digest of the rest.")
    return Inner(obj["id"], tuple(names), sender, device, text, created_at, reply_to)


def bound_fields(author: str, created_at: int, visibility: str) -> dict[str, Any]:
    """The outer message's fields an envelope is bound to (docs/encryption.md §2, §9)."""
    return {"kind": NAME, "author": author, "created_at": created_at, "visibility": visibility}


# -- how long a text fits -------------------------------------------------------------------------------------------
def _b64_length(size: int) -> int:
    return (4 * size + 2) // 3


def outer_size(devices: int, bucket: int, visibility: str) -> int:
    """The exact size in bytes of a signed sealed message to ``devices`` devices whose body fills ``bucket``:
    every part of it has a fixed length but the text, which the bucket hides."""
    to = [{"device": "0" * 64, "wrap": "A" * _b64_length(WRAP_BYTES)} for _ in range(devices)]
    envelope = {"v": 1, "to": to, "body": "A" * _b64_length(bucket + TAG_BYTES)}
    message = {
        "v": VERSION, "kind": NAME, "author": "0" * 64, "created_at": MAX_SAFE_INTEGER // COARSE_MS * COARSE_MS,
        "body": {"envelope": envelope_text(envelope), "visibility": visibility}, "tags": [], "id": "0" * 64,
        "sig": "0" * 128,
    }  # fmt: skip
    return len(canonicalize(message))


def largest_bucket(devices: int, visibility: str) -> int | None:
    """The largest padding bucket a message to ``devices`` devices may use within the message cap; None if none."""
    fitting = [b for b in BUCKETS if outer_size(devices, b, visibility) <= MAX_MESSAGE_BYTES]
    return max(fitting) if fitting else None


def text_room(inner: Mapping[str, Any], devices: int, visibility: str) -> int:
    """How many bytes of text (as the inner JSON spells it) fit beside the rest of ``inner`` for that many
    devices: the largest bucket's room less the inner's own members; negative when even an empty text does not."""
    bucket = largest_bucket(devices, visibility)
    empty = len(canonicalize({**inner, "text": ""}))
    return -1 if bucket is None else bucket - SENDER_BYTES - LENGTH_BYTES - empty


def _too_large(inner: Mapping[str, Any], devices: int, visibility: str) -> Refused:
    room = text_room(inner, devices, visibility)
    if room <= 0:
        most = max((n for n in range(1, devices) if text_room(inner, n, visibility) > 0), default=0)
        return Refused(
            "too_large",
            f"A direct message reaches at most {most} devices with these participants; these recipients and your"
            f" other devices have {devices}. Write to fewer people at once.",
        )
    need = len(canonicalize(inner["text"])) - 2
    return Refused(
        "too_large",
        f"Sealed to {devices} devices, a direct message holds at most {room} characters of plain text (an accented"
        f" letter or an emoji takes 2 to 4, a quote, a backslash or a line break 2); this one takes {need}."
        " Shorten it, or split it in two.",
    )


def seal_direct(
    inner: Mapping[str, Any],
    sender: X25519PrivateKey,
    devices: Sequence[str],
    visibility: str,
    *,
    signer: Identity | None = None,
) -> dict[str, Any]:
    """The signed outer message carrying ``inner`` sealed from this device's X25519 key to every device in
    ``devices`` (X25519, 64 hex), addressed to ``visibility``. Signed by ``signer``, a fresh one-time key unless a
    test gives one; ``too_large`` when it cannot fit the message cap, saying the limit for that many devices."""
    if len(inner["text"]) > LONGEST_TEXT:
        got = len(inner["text"])
        raise Refused("too_long", f"A direct message is at most {LONGEST_TEXT} characters; this one has {got}.")
    count = len(set(devices))
    if text_room(inner, count, visibility) < len(canonicalize(inner["text"])) - 2:
        raise _too_large(inner, count, visibility)
    at = int(inner["created_at"])
    return sealed_to_devices(canonicalize(dict(inner)), sender, devices, visibility, at, signer=signer)


def sealed_to_devices(
    plaintext: bytes,
    sender: X25519PrivateKey,
    devices: Sequence[str],
    visibility: str,
    at: int,
    *,
    signer: Identity | None = None,
) -> dict[str, Any]:
    """The signed sealed message carrying ``plaintext`` sealed to ``devices`` (a direct message, a group's epoch
    chunk), dated ``at`` rounded down to the coarse time and signed by a fresh one-time key unless given one."""
    signer = signer if signer is not None else Identity.generate()
    bound = bound_fields(signer.public_key, at // COARSE_MS * COARSE_MS, visibility)
    envelope = seal(plaintext, sender, list(devices), bound=bound)
    return sign_outer(signer, at, visibility, "envelope", envelope_text(envelope))


def sign_outer(signer: Identity, at: int, visibility: str, member: str, sealed: str) -> dict[str, Any]:
    """A sealed message whose body holds ``sealed`` as ``member`` (``envelope`` or ``group_message``), signed by
    the one-time key ``signer``, dated ``at`` rounded down to the coarse time (docs/encryption.md §9.1)."""
    draft = {
        "v": VERSION, "kind": NAME, "author": signer.public_key, "created_at": at // COARSE_MS * COARSE_MS,
        "body": {member: sealed, "visibility": visibility}, "tags": [],
    }  # fmt: skip
    return sign_envelope(signer, draft)


def open_direct(outer: Message, private: X25519PrivateKey) -> Received:
    """Open a validated sealed message on the device holding ``private``; refuses with the codes above."""
    try:
        envelope = envelope_of(outer.body)
    except Refused as refusal:
        raise Refused("bad_envelope", f"The sealed envelope is malformed: {refusal.message}") from refusal
    opened = open_sealed(envelope, private, bound=bound_fields(outer.author, outer.created_at, outer.visibility))
    if opened.plaintext.startswith(EPOCH_LABEL):
        raise Refused(NOT_DIRECT, "It holds a private group's epoch key, not a direct message (`murmur group`).")
    inner = read_inner(opened.plaintext)
    if not outer.created_at <= inner.created_at < outer.created_at + COARSE_MS:
        raise Refused("bad_time", "The direct message's time is not within the coarse time of its outer message.")
    return Received(inner, opened.sender, outer.id, tuple(recipients_of(envelope)))


def check_sender(received: Received, log: Mapping[str, Any] | None, *, arrived: int | None = None) -> None:
    """Refuse a message whose sealing key is not the ``x25519`` of the device it names in its sender's log, at its
    time. ``log`` is the sender's identity as its log resolves it (on the reader's device:
    murmur.client.identity_check), None when it is not known; ``arrived``, when the message reached the reader's
    server (``current_at``)."""
    inner = received.inner
    found = device_in_log(inner.sender, inner.device, log)
    if found.get("x25519") != received.sealed_by:
        why = "It was sealed by a key other than the encryption key its sender's log gives the device it names."
        raise Refused("forged_sender", why)
    current_at(found, inner.created_at, arrived)


def check_recipients(
    received: Received, logs: Mapping[str, Mapping[str, Any] | None], reader: str, *, arrived: int | None = None
) -> None:
    """Refuse a message that names someone among its participants but was sealed to none of their devices: the
    others would see a conversation that person never received (a sender can seal to whom they like). ``logs``
    holds each participant's identity as resolved on this device (None: not known yet, tried again later); the
    reader and the sender are not asked about. One device of each is enough: a device added while the message
    was on its way is sealed to by a sender who had not seen it yet (§9.5)."""
    inner = received.inner
    sealed_to = set(received.recipients)
    latest = inner.created_at if arrived is None else max(inner.created_at, arrived)
    for person in sorted(set(inner.participants) - {reader, inner.sender}):
        log = logs.get(person)
        if log is None or log.get("bare") or log.get("identity") != person:
            why = f"Its participant {person[:16]} is not known here yet, so whether they received it cannot be told."
            raise Refused("participant_unknown", why + " murmur tries again at the next sync.")
        devices = log.get("devices")
        theirs = {
            d.get("x25519")
            for d in (devices if isinstance(devices, list) else [])
            if isinstance(d, dict) and _current(d, latest)
        }
        if not theirs & sealed_to:
            raise Refused(
                "not_sent_to_all",
                f"It names {person[:16]} among the conversation but was sealed to none of their devices: the"
                " others may see a message they never received.",
            )


def _current(device: Mapping[str, Any], at: int) -> bool:
    added, removed, disputed = device.get("added_at"), device.get("removed_at"), device.get("disputed_at")
    return (
        (not isinstance(added, int) or added <= at)
        and not (isinstance(removed, int) and removed <= at)
        and not (isinstance(disputed, int) and disputed <= at)
    )


def device_in_log(sender: str, device: str, log: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The device ``device`` (Ed25519, 64 hex) as the log of the identity ``sender`` lists it (a direct message's
    or a private group message's sender); ``forged_sender`` when it lists no such device."""
    if log is None or log.get("bare") or log.get("identity") != sender:
        why = f"The sender's identity {sender[:16]} is not known here: its log may not have arrived yet."
        raise Refused("forged_sender", why + " murmur tries again at the next sync.")
    devices = log.get("devices")
    listed = devices if isinstance(devices, list) else []
    found = next((d for d in listed if isinstance(d, dict) and d.get("key") == device), None)
    if found is None:
        why = f"It names a device {device[:16]} that is not in its sender's log (forged, or not arrived yet)."
        raise Refused("forged_sender", why)
    return found


def current_at(found: Mapping[str, Any], at: int, arrived: int | None = None) -> None:
    """Refuse a message dated ``at`` unless the device ``found`` (as its identity's log lists it) was current then.
    Its sender chose ``at``: a removed device could date a message before its removal. So when the message is
    known to have reached the reader's server at ``arrived``, the device must have been current then too."""
    added, removed, disputed = found.get("added_at"), found.get("removed_at"), found.get("disputed_at")
    latest = at if arrived is None else max(at, arrived)
    if isinstance(added, int) and at < added:
        raise Refused("device_not_yet", "It is dated before the device it names was added to its sender's identity.")
    if isinstance(removed, int) and latest >= removed:
        raise Refused(
            "device_removed",
            "It was sealed, or reached your server, after the device it names left its sender's identity.",
        )
    if isinstance(disputed, int) and latest >= disputed:
        raise Refused("device_disputed", "It was sealed after a fork in its sender's log disputed its device.")
