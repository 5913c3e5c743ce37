"""The signed message: envelope fields, kinds, tags, drafts and signing.

A signed message is a JSON object with exactly these members::

    v           protocol version, the integer 1
    kind        the kind of message (murmur.kinds: one module per kind)
    author      the author's Ed25519 public key, 64 lowercase hex digits
    created_at  integer milliseconds since the Unix epoch, UTC
    body        an object whose members depend on the kind
    tags        an array of [name, value] pairs (murmur.kinds.TAG_FORMS)
    id          SHA-256 of the canonical bytes, 64 lowercase hex digits
    sig         Ed25519 signature of the canonical bytes, 128 lowercase hex digits

The canonical bytes are the RFC 8785 form of the object without ``id`` and ``sig``. docs/protocol.md is the
normative text; validation lives in ``murmur.validate``.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Any

from murmur.errors import Refused
from murmur.jcs import canonicalize
from murmur.keys import SMALL_ORDER_KEYS, Identity

VERSION = 1
VISIBILITIES = ("public", "local")
# A label in the trust manifest, and the scope a post may be addressed to by it (murmur.manifest).
LABEL = re.compile(r"[a-z][a-z0-9_-]{0,31}")
SCOPE_PREFIX = "scope:"
RESERVED_LABELS = frozenset(VISIBILITIES)  # audiences of their own, never a label
LONGEST_VISIBILITY = len(SCOPE_PREFIX) + 32
ENVELOPE_FIELDS = ("v", "kind", "author", "created_at", "body", "tags")
SIGNED_FIELDS = (*ENVELOPE_FIELDS, "id", "sig")

HASHTAG_IN_TEXT = re.compile(r"(?<![\w#])#([A-Za-z0-9_]{1,64})(?![A-Za-z0-9_])")
MENTION_IN_TEXT = re.compile(r"(?<![\w@])@([0-9a-f]{64})(?![0-9a-f])")


def check_visibility(value: str) -> str:
    """``public``, ``local`` or ``scope:LABEL``; refused ``bad_value`` otherwise."""
    label = value[len(SCOPE_PREFIX) :] if value.startswith(SCOPE_PREFIX) else None
    if value in VISIBILITIES or (label is not None and LABEL.fullmatch(label) and label not in RESERVED_LABELS):
        return value
    raise Refused(
        "bad_value",
        f"visibility must be public, local or scope:LABEL (LABEL: 1 to 32 of a-z, 0-9, _, -, from a letter);"
        f" got {value[:40]!r}.",
    )


def visibility_for(audience: str) -> str:
    """The signed visibility an audience name stands for: ``public``, ``local``, and a label (``inside``, also
    spelt ``scope:inside``) for ``scope:inside``; refused ``bad_value`` otherwise."""
    if audience in VISIBILITIES or audience.startswith(SCOPE_PREFIX):
        return check_visibility(audience)
    return check_visibility(SCOPE_PREFIX + audience)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Message:
    """A message whose structure passed validation; its signature may not have been checked (``Verified`` says it
    was). ``raw`` is the canonical JSON of the whole signed message."""

    id: str
    sig: str
    kind: str
    author: str
    created_at: int
    body: dict[str, Any]
    tags: tuple[tuple[str, str], ...]
    raw: bytes
    signed: bytes = field(default=b"", repr=False, compare=False)  # the canonical bytes the signature covers
    v: int = VERSION

    def tag(self, name: str) -> str | None:
        for tag_name, value in self.tags:
            if tag_name == name:
                return value
        return None

    def tag_values(self, name: str) -> list[str]:
        return [value for tag_name, value in self.tags if tag_name == name]

    @property
    def visibility(self) -> str:
        """Where the message may travel, as signed: public unless its body says otherwise (a post always does;
        a reaction, a boost or a delete about a local or scoped message may)."""
        return str(self.body.get("visibility", "public"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": self.v,
            "kind": self.kind,
            "author": self.author,
            "created_at": self.created_at,
            "body": self.body,
            "tags": [list(t) for t in self.tags],
            "id": self.id,
            "sig": self.sig,
        }


@dataclass(frozen=True, slots=True)
class Verified(Message):
    """A message whose signature was verified too: the one type the store's ingest takes as it is.

    Made only by ``murmur.validate``. A plain ``Message`` (``check(..., verify=False)``, ``load_stored``) handed to
    ingest is checked again from its bytes, signature included, so skipping verification is never a way in.
    """


def envelope_of(message: dict[str, Any]) -> dict[str, Any]:
    """The part of a message that is hashed and signed."""
    return {name: message[name] for name in ENVELOPE_FIELDS if name in message}


def canonical_bytes(envelope: dict[str, Any]) -> bytes:
    return canonicalize(envelope_of(envelope))


def message_id(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


# What a post may carry (murmur.kinds.post); text is only ever tagged up to these, so typing more hashtags or
# mentions than a post may carry tags the first ones instead of getting the post refused.
TEXT_TAG_LIMITS = {"hashtag": 20, "mention": 50}


@dataclass(frozen=True)
class TextTags:
    """The tags derived from a text, and how many distinct ones of each name were left out by the limits."""

    tags: list[list[str]]
    left_out: dict[str, int]


def text_tags(text: str) -> TextTags:
    """Hashtag and mention tags a client adds for what a person typed (``#topic``, ``@<key>``).

    Keys that can never be identities (small-order points) are not tagged. Past TEXT_TAG_LIMITS the rest stay
    in the text untagged and are counted in ``left_out``, so a client can say so.
    """
    tags: list[list[str]] = []
    left_out: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for name, pattern in (("hashtag", HASHTAG_IN_TEXT), ("mention", MENTION_IN_TEXT)):
        count = 0
        for match in pattern.finditer(text):
            pair = (name, match.group(1).lower())
            if pair in seen or (name == "mention" and pair[1] in SMALL_ORDER_KEYS):
                continue
            seen.add(pair)
            if count == TEXT_TAG_LIMITS[name]:
                left_out[name] = left_out.get(name, 0) + 1
                continue
            tags.append(list(pair))
            count += 1
    return TextTags(tags, left_out)


def tags_from_text(text: str) -> list[list[str]]:
    return text_tags(text).tags


def complete_draft(draft: dict[str, Any], author: str, *, created_at: int | None = None) -> dict[str, Any]:
    """Fill every envelope field a draft leaves out with its default.

    ``{"kind": "post", "body": {"text": "hello"}}`` is a complete draft: the version, author, time and
    visibility are filled in, and without explicit ``tags`` a post is tagged with the hashtags and key
    mentions in its text.
    """
    if not isinstance(draft, dict):
        raise Refused("not_object", 'A draft must be a JSON object such as {"kind": "post", "body": {...}}.')
    kind = draft.get("kind", "post")
    given = draft.get("body")
    if given is not None and not isinstance(given, dict):
        # dict() would turn ["ab"] into {"a": "b"} or fail with a bare ValueError; say what is wrong instead.
        raise Refused("wrong_type", 'A draft\'s body must be a JSON object such as {"text": "hello"}.')
    body = dict(given or {})
    if kind == "post":
        body.setdefault("visibility", "public")
    tags = draft.get("tags")
    if tags is None:
        tags = tags_from_text(body["text"]) if kind == "post" and isinstance(body.get("text"), str) else []
    envelope = {
        "v": draft.get("v", VERSION),
        "kind": kind,
        "author": draft.get("author", author),
        "created_at": draft.get("created_at", created_at if created_at is not None else now_ms()),
        "body": body,
        "tags": tags,
    }
    extra = set(draft) - set(ENVELOPE_FIELDS)
    if extra:
        raise Refused("extra_field", f"A draft cannot set {', '.join(sorted(extra))}; they are computed.")
    return envelope


def sign_envelope(identity: Identity, envelope: dict[str, Any]) -> dict[str, Any]:
    """Return the signed message (envelope plus ``id`` and ``sig``) as a plain dict.

    The result is not validated here; pass it through ``murmur.validate.check`` before trusting it.
    """
    if envelope.get("author") != identity.public_key:
        raise Refused("wrong_author", "The draft names an author other than the key that signs it.")
    canonical = canonical_bytes(envelope)
    return {**envelope_of(envelope), "id": message_id(canonical), "sig": identity.sign(canonical)}


def sign_draft(identity: Identity, draft: dict[str, Any], *, created_at: int | None = None) -> dict[str, Any]:
    return sign_envelope(identity, complete_draft(draft, identity.public_key, created_at=created_at))
