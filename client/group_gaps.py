"""Closing a gap in a private group's chain of epochs with a key that came late (docs/encryption.md §16.5, "An epoch
key come late").

A chunk whose sealer's role had ended by the time this device can prove it arrived is refused (``not_member``):
its home server may have held it back, or its sealer, removed, may have dated it back. Every later epoch would then
not follow the newest this device holds (``epoch_jump``), and the device could never read the group again. But a
later epoch whose own chunk is accepted (its sealer's role in force) names the epoch it follows by the digest of
that epoch's plaintext, key and all (``prev``): the owner or a moderator held exactly that epoch in the chain. So a
refused chunk an accepted epoch chains from, directly or through other such chunks down to the epoch after the
newest held, is vouched for: started for reading. Writing is always in the newest epoch, so no member set is ever
sealed to on a vouched epoch's word.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.errors import Refused
from murmur.group_epoch import Epoch
from murmur.message import Message
from murmur.private_group import Chunk, open_chunk
from murmur.store.group_inbox import Unread
from murmur.validate import check

LATE = "not_member"  # how a chunk whose sealer's role had ended by its arrival is refused (``check_sealer``)


@dataclass(frozen=True)
class Vouched:
    """A refused epoch chunk a later accepted epoch chains from: its outer message and what it carries."""

    outer: Message
    chunk: Chunk


def opened(raw: bytes, x25519: X25519PrivateKey) -> tuple[Message, Chunk] | None:
    """The epoch chunk ``raw`` holds, opened with this device's key (None: not a chunk sealed to it, or not one)."""
    try:
        outer = check(raw)
        found = open_chunk(outer, x25519)
        return (outer, found) if found is not None else None
    except Refused:
        return None


def vouched(epoch: Epoch, newest: int, kept: Iterable[Unread], x25519: X25519PrivateKey) -> list[Vouched]:
    """The refused chunks ``kept`` (epoch chunks kept ``LATE``) that fill the gap between the newest epoch held
    (number ``newest``) and ``epoch``, an accepted one, each the one the next chains from, oldest first; empty when
    the chain does not reach down to ``newest + 1``."""
    late = [found for u in kept if u.code == LATE and (found := opened(u.raw, x25519)) is not None]
    chain: list[Vouched] = []
    want = epoch
    while want.number > newest + 1:
        below = next(((o, c) for o, c in late if c.epoch.group == epoch.group and c.epoch.number == want.number - 1
                      and c.epoch.digest == want.prev), None)  # fmt: skip
        if below is None:
            return []
        chain.append(Vouched(*below))
        want = below[1].epoch
    return chain[::-1]
