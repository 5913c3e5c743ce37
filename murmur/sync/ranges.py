"""Items, bounds and fingerprints: what range-based set reconciliation compares.

An item is a message's ``(created_at, id)``: milliseconds since the epoch and the 32-byte id. Items are ordered
by time, then by id, so the messages two servers both hold sit in the same order on each side, and recent
messages (where differences usually are) group together.

A bound splits that order. It is a time and an id prefix, zero-padded to 32 bytes; a range is every item from
its lower bound (inclusive) to its upper bound (exclusive). ``INFINITY`` is above every item.

A range's fingerprint is SHA-256 over the sum of its ids (each read as a 256-bit little-endian integer, added
mod 2^256) followed by the item count as a varint, cut to 16 bytes. This is Negentropy's choice and for the
same reasons: unlike XOR, a sum does not cancel when an id appears twice and is not a linear map that lets
someone craft a set with a chosen fingerprint cheaply; like XOR it is order-free and incremental, so prefix
sums give the fingerprint of any range in O(1) after a binary search for its ends. Hashing the sum with the
count keeps the 16 bytes on the wire from exposing the raw sum.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ID_SIZE = 32
FINGERPRINT_SIZE = 16
MOD = 1 << 256
INFINITY_TIME = (1 << 64) - 1  # reserved: no message has this created_at (validation caps it far lower)

Item = tuple[int, bytes]
"""``(created_at, id)``; ``id`` is the 32-byte message id."""


def encode_varint(value: int) -> bytes:
    """Base-128, most significant group first, high bit set on every byte but the last (as Negentropy)."""
    if value < 0:
        raise ValueError("a varint is never negative")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


@dataclass(frozen=True, slots=True, order=True)
class Bound:
    """A point in the item order: ``time`` and ``prefix`` (at most 32 bytes, read as zero-padded)."""

    time: int
    prefix: bytes = b""

    @property
    def key(self) -> Item:
        return (self.time, self.prefix.ljust(ID_SIZE, b"\0"))

    @property
    def infinite(self) -> bool:
        return self.time == INFINITY_TIME


LOWEST = Bound(0, b"")
INFINITY = Bound(INFINITY_TIME, b"")


def bound_between(before: Item, after: Item) -> Bound:
    """The shortest bound above ``before`` and at or below ``after`` (``before < after``).

    Different times need no id at all; equal times need the ids' common prefix and one byte more.
    """
    if before[0] != after[0]:
        return Bound(after[0], b"")
    shared = 0
    while shared < ID_SIZE and before[1][shared] == after[1][shared]:
        shared += 1
    return Bound(after[0], after[1][: shared + 1])


def fingerprint_of(total: int, count: int) -> bytes:
    """The fingerprint of a range whose ids sum to ``total`` (any integer; taken mod 2^256)."""
    return hashlib.sha256((total % MOD).to_bytes(ID_SIZE, "little") + encode_varint(count)).digest()[:FINGERPRINT_SIZE]


def fingerprint(ids: Iterable[bytes]) -> bytes:
    """The fingerprint of a collection of ids, computed directly (tests compare ItemSet against this)."""
    total = 0
    count = 0
    for item_id in ids:
        total += int.from_bytes(item_id, "little")
        count += 1
    return fingerprint_of(total, count)


class ItemSet:
    """A sorted, duplicate-free set of items with prefix sums of their ids, immutable once built.

    ``sums[i]`` is the sum of the first ``i`` ids (not reduced, so a range's sum is one subtraction).
    Updating returns a new set, so a reconciliation holding the old one never sees it change under it.
    """

    __slots__ = ("items", "sums")

    def __init__(self, items: Iterable[Item] = (), *, presorted: bool = False) -> None:
        self.items: list[Item] = list(items) if presorted else sorted(set(items))
        self.sums: list[int] = _prefix_sums(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def index(self, bound: Bound) -> int:
        """Position of the first item at or above ``bound``."""
        if bound.infinite:
            return len(self.items)
        return bisect_left(self.items, bound.key)

    def span(self, lower: Bound, upper: Bound) -> tuple[int, int]:
        """Positions ``[start, end)`` of the items in the range ``[lower, upper)``."""
        start = self.index(lower)
        return start, max(start, self.index(upper))

    def fingerprint(self, start: int, end: int) -> bytes:
        return fingerprint_of(self.sums[end] - self.sums[start], end - start)

    def ids(self, start: int, end: int) -> list[bytes]:
        return [item[1] for item in self.items[start:end]]

    def with_added(self, new: Sequence[Item]) -> ItemSet:
        """A new set with ``new`` merged in; prefix sums are recomputed only from the first insertion point,
        which is near the end when (as usual) the new items are recent."""
        merged = list(self.items)
        lowest = len(merged)
        for item in sorted(set(new)):
            at = bisect_left(merged, item)
            if at < len(merged) and merged[at] == item:
                continue
            merged.insert(at, item)
            lowest = min(lowest, at)
        if lowest == len(self.items) and len(merged) == len(self.items):
            return self
        result = ItemSet.__new__(ItemSet)
        result.items = merged
        result.sums = self.sums[: lowest + 1]
        running = result.sums[-1]
        for _, item_id in merged[lowest:]:
            running += int.from_bytes(item_id, "little")
            result.sums.append(running)
        return result


def _prefix_sums(items: Sequence[Item]) -> list[int]:
    sums = [0] * (len(items) + 1)
    running = 0
    for position, (_, item_id) in enumerate(items, 1):
        running += int.from_bytes(item_id, "little")
        sums[position] = running
    return sums
