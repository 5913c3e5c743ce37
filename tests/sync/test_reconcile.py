"""Set reconciliation on plain sets, no I/O: it finds exactly the difference, in few round trips and bytes."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from murmur.errors import Refused
from murmur.sync.ranges import (
    INFINITY,
    LOWEST,
    Bound,
    Item,
    ItemSet,
    bound_between,
    encode_varint,
    fingerprint,
    fingerprint_of,
)
from murmur.sync.reconcile import DEFAULT, Params, Session, respond, split
from murmur.sync.wire import FINGERPRINT, ID_DIFF, ID_LIST, Range, decode, describe, encode


def item(n: int, time: int | None = None) -> Item:
    return (1_700_000_000_000 + n * 1000 if time is None else time, hashlib.sha256(n.to_bytes(8, "big")).digest())


@dataclass
class Outcome:
    have: set[bytes]
    need: set[bytes]
    round_trips: int
    bytes_out: int
    bytes_in: int


def reconcile(ours: list[Item], theirs: list[Item], params: Params = DEFAULT) -> Outcome:
    session = Session(ItemSet(ours), params)
    responder = ItemSet(theirs)
    message = session.initiate()
    trips = sent = received = 0
    while message is not None:
        answer = respond(responder, message, params)
        trips, sent, received = trips + 1, sent + len(message), received + len(answer)
        message = session.receive(answer)
        assert trips < 200, "reconciliation did not end"
    have, need = session.result()
    return Outcome(set(have), set(need), trips, sent, received)


def ids(items: list[Item]) -> set[bytes]:
    return {i[1] for i in items}


def check(ours: list[Item], theirs: list[Item], params: Params = DEFAULT) -> Outcome:
    outcome = reconcile(ours, theirs, params)
    assert outcome.have == ids(ours) - ids(theirs)
    assert outcome.need == ids(theirs) - ids(ours)
    return outcome


def round_trip_bound(n: int, params: Params = DEFAULT) -> int:
    """Each round trip cuts a range twice; the +2 covers the opening and the id-list exchange at the end."""
    return math.ceil(math.log(max(n, 2), params.branch)) + 2


BASE = [item(n) for n in range(5000)]


def test_no_difference_takes_one_round_trip_and_a_few_hundred_bytes() -> None:
    outcome = check(BASE, BASE)
    assert outcome.round_trips == 1
    assert outcome.bytes_out < 16 * 30 and outcome.bytes_in == 1


def test_both_empty_and_one_empty() -> None:
    assert check([], []).round_trips == 1
    full_vs_empty = check(BASE, [])
    assert full_vs_empty.round_trips == 1  # our fingerprints against nothing: an empty id list comes back
    empty_vs_full = check([], BASE)
    # we hold nothing, so every id they hold must reach us: the bytes are the ids themselves, plus little
    assert empty_vs_full.bytes_in < len(BASE) * 32 * 1.1
    assert empty_vs_full.round_trips <= round_trip_bound(len(BASE))


@pytest.mark.parametrize("position", [0, 1, 2499, 4998, 4999])
def test_one_difference_anywhere_either_way(position: int) -> None:
    fewer = BASE[:position] + BASE[position + 1 :]
    for ours, theirs in ((BASE, fewer), (fewer, BASE)):
        outcome = check(ours, theirs)
        assert outcome.round_trips <= round_trip_bound(len(BASE))
        assert outcome.bytes_out + outcome.bytes_in < 2500


def test_differences_at_the_edges_of_every_bucket() -> None:
    # The opening cuts 5000 items into 16 buckets at multiples of 5000/16: drop the items on each side of each cut.
    cuts = {5000 * k // 16 for k in range(1, 16)}
    dropped = {c for c in cuts} | {c - 1 for c in cuts}
    theirs = [x for n, x in enumerate(BASE) if n not in dropped]
    check(BASE, theirs)
    check(theirs, BASE)


def test_items_sharing_a_time_are_told_apart_by_id() -> None:
    same_time = [item(n, time=42) for n in range(400)]
    theirs = same_time[:100] + same_time[101:300] + [item(9999, time=42)]
    check(same_time, theirs)
    # and bounds between them carry just enough of the id
    ordered = ItemSet(same_time).items
    bound = bound_between(ordered[10], ordered[11])
    assert bound.time == 42 and 1 <= len(bound.prefix) <= 32
    assert ordered[10] < bound.key <= ordered[11]


def test_disjoint_sets_exchange_everything() -> None:
    left, right = BASE[::2], BASE[1::2]
    outcome = check(left, right)
    assert outcome.round_trips <= round_trip_bound(len(BASE))


def test_round_trips_stay_logarithmic_and_bytes_follow_the_difference() -> None:
    rng = random.Random(7)
    n = 50_000
    base = [item(i) for i in range(n)]
    costs = {}
    for differences in (1, 10, 100):
        gone = set(rng.sample(range(n), differences))
        theirs = [x for i, x in enumerate(base) if i not in gone]
        outcome = check(base, theirs)
        assert outcome.round_trips <= round_trip_bound(n)
        costs[differences] = outcome.bytes_out + outcome.bytes_in
    # Ten times the differences costs well under ten times ten the bytes, and far below sending every id.
    assert costs[10] < 12 * costs[1] and costs[100] < 12 * costs[10]
    assert costs[100] < n * 32 / 10


def test_the_frame_limit_spreads_a_large_difference_over_more_rounds() -> None:
    rng = random.Random(3)
    theirs = [x for x in BASE if rng.random() > 0.3]
    small_frames = Params(frame_limit=20_000)
    outcome = check(BASE, theirs, small_frames)
    session = Session(ItemSet(BASE), small_frames)
    assert len(session.initiate() or b"") <= 20_000
    assert outcome.round_trips > check(BASE, theirs).round_trips


@given(
    st.sets(st.integers(0, 3000), max_size=600),
    st.sets(st.integers(0, 3000), max_size=600),
    st.sampled_from([Params(), Params(branch=4, leaf=4, diff_max=8), Params(branch=2, leaf=1, diff_max=1)]),
)
def test_random_sets_reconcile_exactly(ours: set[int], theirs: set[int], params: Params) -> None:
    # few distinct times, so ids decide the order often
    outcome = check([item(n, time=n // 7) for n in ours], [item(n, time=n // 7) for n in theirs], params)
    assert outcome.round_trips <= math.ceil(math.log(max(len(ours | theirs), 2), params.branch)) + 3


def test_fingerprints_from_prefix_sums_match_direct_ones() -> None:
    items = ItemSet(BASE[:300])
    for start, end in ((0, 0), (0, 300), (17, 18), (5, 250)):
        assert items.fingerprint(start, end) == fingerprint(items.ids(start, end))
    assert fingerprint([]) == fingerprint_of(0, 0)
    # the count is part of it: sums that wrap to the same value still differ by count
    assert fingerprint_of(5, 1) != fingerprint_of(5 + 2**256, 2)
    grown = items.with_added([*BASE[300:320], BASE[0]])
    assert grown.items == sorted(BASE[:320]) and grown.sums == ItemSet(BASE[:320]).sums
    assert items.with_added([]) is items and len(items) == 300  # the original is never changed


def test_messages_survive_encoding_and_bad_ones_are_refused() -> None:
    items = ItemSet(BASE[:100])
    ranges = split(items, LOWEST, INFINITY, 0, 100, DEFAULT)
    gap = Range(Bound(5, b""), Bound(9, b"\x01"), ID_DIFF, ids=(bytes(32),), lacking=(True, False, True))
    for message in (ranges, [gap], [Range(LOWEST, INFINITY, ID_LIST, ids=(b"\xff" * 32,))]):
        decoded = [r for r in decode(encode(message)) if r.mode != 0]
        assert decoded == list(message)
    assert [r.mode for r in decode(encode(ranges))] == [FINGERPRINT] * 16
    assert describe(encode([gap]))[-1].startswith("up to (9, 01): id-diff 1 ids")
    for bad in (
        b"",
        b"\x02",
        b"\x01\x05",
        b"\x01\x05\x00\x09",
        b"\x01\x05\x00\x01" + b"\x00" * 3,
        b"\x01" + b"\xff" * 11,
    ):
        with pytest.raises(Refused):
            decode(bad)
    backwards = encode([Range(LOWEST, Bound(9), FINGERPRINT, fingerprint=bytes(16))]) + b"\x01\x00\x00"
    with pytest.raises(Refused, match="increasing"):
        decode(backwards)
    with pytest.raises(Refused):  # an initiator never sends id-diffs
        respond(items, encode([gap]))
    assert encode_varint(0) == b"\x00" and encode_varint(300) == b"\x82\x2c"
