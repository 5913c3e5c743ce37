"""The binary encoding of reconciliation messages (docs/repair-and-bundles.md is the normative text).

    Message     := version(0x01) Range*
    Range       := upper:Bound mode:Varint payload
    Bound       := time:Varint length:Varint prefix:Byte{length}
    Skip        := (mode 0, nothing)
    Fingerprint := (mode 1) Byte{16}
    IdList      := (mode 2) count:Varint Id{count}
    IdDiff      := (mode 3) count:Varint Id{count} listed:Varint bitmap:Byte{ceil(listed / 8)}

A range's lower bound is the previous range's upper bound (the lowest bound for the first); a message that
stops before infinity skips the rest. Times are sent as ``1 + (time - previous time in this message)`` and
infinity as 0, so the bounds of nearby messages cost a byte or two. ``IdDiff`` only ever answers an
``IdList``: the ids the responder holds that the list lacked, then a bit per listed id (bit ``i % 8`` of byte
``i // 8``) set when the responder lacks it.

Decoding refuses (``Refused("bad_reconcile")``) anything out of order, truncated or over the limits, so a
peer's malformed message costs one small error answer and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from murmur.errors import Refused
from murmur.sync.ranges import FINGERPRINT_SIZE, ID_SIZE, INFINITY, INFINITY_TIME, LOWEST, Bound, encode_varint

VERSION = 1
SKIP, FINGERPRINT, ID_LIST, ID_DIFF = 0, 1, 2, 3
MODE_NAMES = {SKIP: "skip", FINGERPRINT: "fingerprint", ID_LIST: "id-list", ID_DIFF: "id-diff"}
MAX_IDS_PER_RANGE = 100_000  # bounds what one range may make a peer allocate


@dataclass(frozen=True, slots=True)
class Range:
    """One range of a message, with its lower bound made explicit."""

    lower: Bound
    upper: Bound
    mode: int
    fingerprint: bytes = b""
    ids: tuple[bytes, ...] = ()
    lacking: tuple[bool, ...] = field(default=())  # IdDiff: per listed id, whether the responder lacks it


def encode(ranges: Sequence[Range]) -> bytes:
    """Encode ranges (in order, not overlapping); gaps between them become Skip ranges."""
    out = bytearray([VERSION])
    previous_time = 0
    cursor = LOWEST

    def bound(b: Bound) -> None:
        nonlocal previous_time
        if b.infinite:
            out.extend(encode_varint(0))
        else:
            out.extend(encode_varint(1 + b.time - previous_time))
            previous_time = b.time
        out.extend(encode_varint(len(b.prefix)))
        out.extend(b.prefix)

    for r in ranges:
        if r.lower.key != cursor.key:
            bound(r.lower)
            out.extend(encode_varint(SKIP))
        bound(r.upper)
        out.extend(encode_varint(r.mode))
        if r.mode == FINGERPRINT:
            out.extend(r.fingerprint)
        elif r.mode in (ID_LIST, ID_DIFF):
            out.extend(encode_varint(len(r.ids)))
            for item_id in r.ids:
                out.extend(item_id)
            if r.mode == ID_DIFF:
                out.extend(encode_varint(len(r.lacking)))
                bits = bytearray((len(r.lacking) + 7) // 8)
                for position, lacks in enumerate(r.lacking):
                    if lacks:
                        bits[position // 8] |= 1 << (position % 8)
                out.extend(bits)
        cursor = r.upper
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def done(self) -> bool:
        return self.at >= len(self.data)

    def take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise Refused("bad_reconcile", "The reconciliation message ends in the middle of a range.")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def varint(self) -> int:
        value = 0
        for _ in range(10):  # 64 bits need at most 10 groups of 7
            byte = self.take(1)[0]
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                return value
        raise Refused("bad_reconcile", "A varint in the reconciliation message is longer than 64 bits.")


def decode(data: bytes) -> list[Range]:
    """Decode a message into its ranges, Skip ranges included (callers ignore them)."""
    if not data:
        raise Refused("bad_reconcile", "An empty reconciliation message has no version byte.")
    if data[0] != VERSION:
        raise Refused(
            "unsupported_version", f"Reconciliation version {data[0]} is not supported; this server speaks {VERSION}."
        )
    reader = _Reader(data[1:])
    ranges: list[Range] = []
    previous_time = 0
    lower = LOWEST
    while not reader.done():
        code = reader.varint()
        if code == 0:
            time = INFINITY_TIME
        else:
            time = previous_time + code - 1
            if time >= INFINITY_TIME:
                raise Refused("bad_reconcile", "A bound's time is out of range.")
            previous_time = time
        length = reader.varint()
        if length > ID_SIZE:
            raise Refused("bad_reconcile", f"A bound's id prefix is {length} bytes; the most is {ID_SIZE}.")
        upper = INFINITY if code == 0 else Bound(time, reader.take(length))
        if code == 0:
            reader.take(length)  # infinity ignores its prefix
        if upper.key <= lower.key:
            raise Refused("bad_reconcile", "The ranges of a reconciliation message must be in increasing order.")
        mode = reader.varint()
        if mode == SKIP:
            ranges.append(Range(lower, upper, SKIP))
        elif mode == FINGERPRINT:
            ranges.append(Range(lower, upper, FINGERPRINT, fingerprint=reader.take(FINGERPRINT_SIZE)))
        elif mode in (ID_LIST, ID_DIFF):
            ids = _ids(reader)
            lacking: tuple[bool, ...] = ()
            if mode == ID_DIFF:
                listed = reader.varint()
                if listed > MAX_IDS_PER_RANGE:
                    raise Refused("bad_reconcile", "An id-diff range refers to too many ids.")
                bits = reader.take((listed + 7) // 8)
                lacking = tuple(bool(bits[i // 8] >> (i % 8) & 1) for i in range(listed))
            ranges.append(Range(lower, upper, mode, ids=ids, lacking=lacking))
        else:
            raise Refused("bad_reconcile", f"Unknown range mode {mode}.")
        lower = upper
        if upper.infinite and not reader.done():
            raise Refused("bad_reconcile", "Nothing may follow a range that ends at infinity.")
    return ranges


def _ids(reader: _Reader) -> tuple[bytes, ...]:
    count = reader.varint()
    if count > MAX_IDS_PER_RANGE:
        raise Refused("bad_reconcile", f"A range lists {count} ids; the most is {MAX_IDS_PER_RANGE}.")
    raw = reader.take(count * ID_SIZE)
    return tuple(raw[i : i + ID_SIZE] for i in range(0, len(raw), ID_SIZE))


def describe(data: bytes) -> list[str]:
    """One line per range, for the worked example in the docs and for debugging."""
    lines = []
    for r in decode(data):
        upper = "infinity" if r.upper.infinite else f"({r.upper.time}, {r.upper.prefix.hex() or '-'})"
        detail = {
            SKIP: "",
            FINGERPRINT: r.fingerprint.hex(),
            ID_LIST: f"{len(r.ids)} ids",
            ID_DIFF: f"{len(r.ids)} ids it lacks, lacks {sum(r.lacking)} of {len(r.lacking)} listed",
        }[r.mode]
        lines.append(f"up to {upper}: {MODE_NAMES[r.mode]} {detail}".rstrip())
    return lines
