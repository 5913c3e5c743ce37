"""Counting an open letter: which signatures stand, and who signed. Pure, so that the server's count and a
reader's check from the raw signed messages (``murmur letter verify``) are the same rule.

- A signature is about one version of a letter: its ``target`` is that version's id, which is the hash of its
  exact title, addressees and text. A new version is a new letter naming the one it replaces, with a count of
  its own: signatures never carry over.
- A signature stands when it is dated before the letter's deadline (when the author set one) and has not been
  withdrawn. A withdrawal is the signer's delete of their signature, dated before the deadline: so whether a
  delete withdraws is decided by the two signed times, the same on every server whatever the arrival order. A
  delete dated at or after the deadline is a valid message that withdraws nothing. The signer is a person: a
  delete from any device of theirs withdraws what another device of theirs signed.
- Each person counts once: their latest standing signature by ``(created_at, id)`` (a change of note is a new
  signature). A person is the identity the signing device speaks for, whichever of its devices signed
  (``murmur.kinds.group_speakers.Speakers.person``), else the key. So the count is a function of the set of
  messages held (and of the identity logs that say whose devices signed them), never of the order they arrived
  in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from murmur.errors import Refused
from murmur.kinds.base import newest_per_person
from murmur.kinds.group_speakers import KEYS, PersonOf
from murmur.message import Message


@dataclass(frozen=True, slots=True)
class LetterSpec:
    """What a letter message says, parsed once (its body is checked by ``murmur.kinds.letter``)."""

    id: str
    author: str
    title: str
    to: str
    text: str
    deadline: int | None
    previous: str | None  # the version this one replaces

    @classmethod
    def of(cls, letter: Message) -> LetterSpec:
        deadline = letter.body.get("deadline")
        return cls(
            id=letter.id,
            author=letter.author,
            title=str(letter.body["title"]),
            to=str(letter.body["to"]),
            text=str(letter.body["text"]),
            deadline=None if deadline is None else int(deadline),
            previous=letter.tag("target"),
        )

    def open_at(self, at: int) -> bool:
        """Whether a signature or a withdrawal dated ``at`` (ms) still takes effect."""
        return self.deadline is None or at < self.deadline


@dataclass(frozen=True, slots=True)
class Signer:
    key: str  # the key that signed the signature that stands
    signature: str  # the id of the signature that stands
    signed_at: int
    note: str


@dataclass(frozen=True, slots=True)
class Count:
    """The signatures that stand, one per person, by key."""

    signers: tuple[Signer, ...]

    @property
    def count(self) -> int:
        return len(self.signers)


def fault(spec: LetterSpec, signature: Message) -> Refused | None:
    """Why ``signature`` cannot stand on the letter, or None when it can (withdrawals apart)."""
    if signature.kind != "signature" or signature.tag("target") != spec.id:
        return Refused("bad_target", "A signature is about the one version of a letter it names.")
    if not spec.open_at(signature.created_at):
        return Refused("letter_closed", "The letter's signing deadline passed before this signature was made.")
    return None


def withdrawn(
    spec: LetterSpec, signatures: Iterable[Message], deletes: Iterable[Message], person: PersonOf = KEYS.person
) -> set[str]:
    """The ids of the signatures their signers withdrew: a delete by the signature's author, or by a device of the
    same person (``person``: whom a message's signer counts for), dated before the deadline."""
    signers = {s.id: s for s in signatures}

    def by_signer(d: Message, s: Message) -> bool:
        who = person(d.author, d.created_at)
        return d.author == s.author or (who is not None and who == person(s.author, s.created_at))

    return {
        target
        for d in deletes
        if d.kind == "delete" and (target := d.tag("target")) in signers and by_signer(d, signers[target])
        and spec.open_at(d.created_at)
    }  # fmt: skip


def count(
    spec: LetterSpec, signatures: Iterable[Message], deletes: Iterable[Message] = (), person: PersonOf = KEYS.person
) -> Count:
    """Each person's latest standing signature on the letter (``person``: whom each signer counts for)."""
    held = list(signatures)
    gone = withdrawn(spec, held, deletes, person)
    last = newest_per_person((s for s in held if s.id not in gone and fault(spec, s) is None), person)
    return Count(
        tuple(
            Signer(s.author, s.id, s.created_at, str(s.body.get("note", "")))
            for s in sorted(last.values(), key=lambda s: s.author)
        )
    )
