"""Range-based set reconciliation (after Negentropy): the initiator's session and the stateless responder.

Both sides hold a sorted ``ItemSet``. The initiator opens with the whole range cut into ``branch`` buckets by
item count, each sent as a fingerprint (or, if it holds at most ``leaf`` items, as an id list). For each range
it receives, a side either sees equal fingerprints (nothing to do), or cuts its own items in that range into
buckets and answers with their fingerprints, or, once a range is small, lists its ids. Every round trip cuts
each differing range by ``branch`` twice (once per side), so a difference is found in about
``log_branch(N / leaf) / 2`` round trips, and the bytes spent grow with the number of differences, not with N.

The responder keeps nothing between requests: every message says which ranges it is about (their bounds)
and what the initiator holds there, so a lost connection costs only the round trip in flight. Answers to an
id list are ``IdDiff`` ranges (what the responder holds that the list lacks, and a bit per listed id it
lacks) while the responder holds at most ``diff_max`` items there; past that it splits instead, which keeps
every answer small even when one side holds far more than the other.

Nothing here does I/O: messages are bytes in, bytes out, so the logic is tested on plain sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from murmur.errors import Refused
from murmur.sync.ranges import ID_SIZE, INFINITY, LOWEST, Bound, ItemSet, bound_between
from murmur.sync.wire import FINGERPRINT, ID_DIFF, ID_LIST, SKIP, Range, decode, encode


@dataclass(frozen=True, slots=True)
class Params:
    branch: int = 16
    """Buckets a differing range is cut into."""
    leaf: int = 16
    """A differing range holding at most this many items is sent as an id list instead of being cut."""
    diff_max: int = 64
    """The responder answers an id list with an id-diff while it holds at most this many items in the range."""
    frame_limit: int = 256 * 1024
    """The initiator sends at most about this many bytes a request; the rest waits for the next round."""


DEFAULT = Params()


def split(items: ItemSet, lower: Bound, upper: Bound, start: int, end: int, params: Params) -> list[Range]:
    """Describe ``items[start:end]`` (the range ``[lower, upper)``): one id list if small, else buckets."""
    count = end - start
    if count <= params.leaf:
        return [Range(lower, upper, ID_LIST, ids=tuple(items.ids(start, end)))]
    cuts = sorted({start + count * k // params.branch for k in range(1, params.branch)} - {start})
    ranges: list[Range] = []
    bucket_lower, bucket_start = lower, start
    for cut in [*cuts, end]:
        bucket_upper = upper if cut == end else bound_between(items.items[cut - 1], items.items[cut])
        ranges.append(Range(bucket_lower, bucket_upper, FINGERPRINT, fingerprint=items.fingerprint(bucket_start, cut)))
        bucket_lower, bucket_start = bucket_upper, cut
    return ranges


def respond(items: ItemSet, message: bytes, params: Params = DEFAULT) -> bytes:
    """The responder's answer to one initiator message. Raises ``Refused`` on a malformed message."""
    answer: list[Range] = []
    for r in decode(message):
        start, end = items.span(r.lower, r.upper)
        if r.mode == SKIP:
            continue
        if r.mode == FINGERPRINT:
            if items.fingerprint(start, end) != r.fingerprint:
                answer.extend(split(items, r.lower, r.upper, start, end, params))
        elif r.mode == ID_LIST:
            if end - start > params.diff_max:
                answer.extend(split(items, r.lower, r.upper, start, end, params))
                continue
            mine = items.ids(start, end)
            listed = set(r.ids)
            held = set(mine)
            extra = tuple(item_id for item_id in mine if item_id not in listed)
            lacking = tuple(item_id not in held for item_id in r.ids)
            if extra or any(lacking):  # an unanswered range means "the same on both sides"
                answer.append(Range(r.lower, r.upper, ID_DIFF, ids=extra, lacking=lacking))
        else:
            raise Refused("bad_reconcile", "Only a responder sends id-diff ranges.")
    return encode(answer)


def _size(r: Range) -> int:
    """An upper estimate of a range's encoded size (two bounds at most 45 bytes each, mode, payload)."""
    return 92 + (16 if r.mode == FINGERPRINT else ID_SIZE * len(r.ids) + 10)


@dataclass
class Session:
    """The initiator's side of one reconciliation. ``have``: ids only we hold; ``need``: ids only they hold."""

    items: ItemSet
    params: Params = DEFAULT
    have: list[bytes] = field(default_factory=list)
    need: list[bytes] = field(default_factory=list)
    pending: list[Range] = field(default_factory=list)

    def initiate(self) -> bytes:
        return self._frame(split(self.items, LOWEST, INFINITY, 0, len(self.items), self.params))  # type: ignore[return-value]

    def receive(self, answer: bytes) -> bytes | None:
        """Take the responder's answer; returns the next message, or None when reconciliation is complete."""
        out: list[Range] = []
        for r in decode(answer):
            start, end = self.items.span(r.lower, r.upper)
            if r.mode == FINGERPRINT:
                if self.items.fingerprint(start, end) != r.fingerprint:
                    out.extend(split(self.items, r.lower, r.upper, start, end, self.params))
            elif r.mode == ID_LIST:
                mine = self.items.ids(start, end)
                theirs = set(r.ids)
                held = set(mine)
                self.have.extend(item_id for item_id in mine if item_id not in theirs)
                self.need.extend(item_id for item_id in r.ids if item_id not in held)
            elif r.mode == ID_DIFF:
                mine = self.items.ids(start, end)
                if len(mine) != len(r.lacking):
                    raise Refused("bad_reconcile", "An id-diff answers a different list than the one sent.")
                held = set(mine)
                self.need.extend(item_id for item_id in r.ids if item_id not in held)
                self.have.extend(item_id for item_id, lacks in zip(mine, r.lacking, strict=True) if lacks)
        return self._frame(out)

    def _frame(self, ranges: Sequence[Range]) -> bytes | None:
        """Encode what fits under the frame limit; the rest waits, in order, for the next request."""
        queue = sorted([*self.pending, *ranges], key=lambda r: r.lower.key)
        if not queue:
            self.pending = []
            return None
        size, cut = 0, 0
        while cut < len(queue) and (cut == 0 or size + _size(queue[cut]) <= self.params.frame_limit):
            size += _size(queue[cut])
            cut += 1
        self.pending = queue[cut:]
        return encode(queue[:cut])

    def result(self) -> tuple[list[bytes], list[bytes]]:
        """``(have, need)`` without repeats, each in item order."""
        return sorted(set(self.have)), sorted(set(self.need))
