"""An identity's key-event log resolves to the same state from any set of its events, in any order
(murmur.kinds.key_log; docs/protocol.md §13)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from murmur.kinds.key_log import Event, Log, resolve, verdict
from murmur.validate import check
from tests.identity_logs import LAPTOP, PHONE, ROTATION_0, ROTATION_1, ROTATION_2, SPARE, STRANGER, TABLET
from tests.identity_logs import Log as Making
from tests.identity_logs import full_life as shared_life


def events(made: list[dict[str, Any]]) -> list[Event]:
    return [Event.of(check(m, now=2**53 - 1)) for m in made]


def resolved(made: Making, order: list[dict[str, Any]] | None = None) -> Log:
    log = resolve(made.identity, events(order if order is not None else made.events))
    assert log is not None
    return log


def summary(log: Log) -> tuple[Any, ...]:
    s = log.state
    return (s.head, s.next, s.home, tuple(sorted(s.devices.items())), log.chain, log.fork, log.superseded,
            tuple(sorted(log.refused.items())), log.waiting)  # fmt: skip


def full_life() -> Making:
    made = shared_life()
    made.rotate(LAPTOP, ROTATION_2)  # a removed device's key tries to rotate: refused
    return made


def test_a_log_follows_its_events() -> None:
    made = full_life()
    log = resolved(made)
    assert log.state.identity == made.identity
    assert log.chain == tuple(e["id"] for e in made.events[:7])
    assert log.state.home == "https://new.example"
    devices = log.state.devices
    assert set(devices) == {LAPTOP.public_key, PHONE.public_key, TABLET.public_key, SPARE.public_key}
    assert [k for k, d in devices.items() if d.removed_at is None] == [SPARE.public_key]  # recovery revoked all
    assert devices[LAPTOP.public_key].removed_at == made.events[3]["created_at"]
    assert log.refused[made.events[7]["id"]].code == "not_rotation_key"
    assert log.fork is None and log.superseded == ()


@settings(max_examples=60, deadline=None)
@given(st.permutations(full_life().events))
def test_every_arrival_order_gives_the_same_state(order: list[dict[str, Any]]) -> None:
    made = full_life()
    assert summary(resolved(made, order)) == summary(resolved(made))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_subset_of_events_resolves_the_same_in_any_order(data: st.DataObject) -> None:
    made = full_life()
    held = data.draw(st.lists(st.sampled_from(made.events[1:]), unique_by=lambda e: e["id"]))
    order = data.draw(st.permutations([made.events[0], *held]))
    assert summary(resolved(made, order)) == summary(resolved(made, [made.events[0], *held]))


def test_without_its_inception_a_log_is_not_held() -> None:
    made = full_life()
    assert resolve(made.identity, events(made.events[1:])) is None


def test_events_after_a_gap_wait() -> None:
    made = full_life()
    log = resolved(made, [made.events[0], *made.events[2:]])
    assert log.chain == (made.identity,)
    assert set(log.waiting) == {e["id"] for e in made.events[2:]}


def test_a_stolen_device_key_cannot_rotate() -> None:
    made = Making()
    made.add(LAPTOP, PHONE, "phone")
    thief = made.rotate(PHONE, STRANGER)
    log = resolved(made)
    assert log.refused[thief["id"]].code == "not_rotation_key"
    assert log.state.next == made.events[0]["body"]["next"]


def test_a_recovery_supersedes_what_a_thief_did_with_a_device_key_at_the_same_place() -> None:
    made = Making()
    made.add(LAPTOP, PHONE, "phone")
    place = made.head
    stolen = made.add(PHONE, STRANGER, "thief")
    made.remove(STRANGER, LAPTOP)
    recovery = made.recover(ROTATION_0, ROTATION_1, SPARE, prior=place)
    log = resolved(made)
    assert log.chain[-1] == recovery["id"] and log.superseded == (stolen["id"],) and log.fork is None
    assert STRANGER.public_key not in log.state.devices
    assert verdict(log, STRANGER.public_key, recovery["created_at"] + 1).status == "waiting"
    assert verdict(log, PHONE.public_key, recovery["created_at"] + 1).code == "device_removed"
    assert verdict(log, SPARE.public_key, recovery["created_at"] + 1).status == "valid"


def test_two_events_at_one_place_are_a_fork_and_none_is_picked() -> None:
    made = Making()
    made.add(LAPTOP, PHONE, "phone")
    place = made.head
    one = made.add(LAPTOP, TABLET, "tablet")
    other = made.add(PHONE, SPARE, "spare", prior=place)
    made.move(SPARE, "https://elsewhere.example")  # after the fork: on a branch, never in force
    log = resolved(made)
    assert log.fork is not None and log.fork.place == place
    assert set(log.fork.branches) == {one["id"], other["id"]}
    assert log.state.head == place and log.state.home is None
    assert TABLET.public_key not in log.state.devices and SPARE.public_key not in log.state.devices
    assert log.state.devices[LAPTOP.public_key].removed_at is None


def thief_forks() -> tuple[Making, dict[str, Any], dict[str, Any]]:
    """A phone added, then the laptop adds a tablet and posts; a thief holding the phone's key (still current,
    never removed) signs a removal of the laptop at the place just after the phone's add, dated just after it.
    Returns the log, the phone's add and the thief's removal."""
    made = Making()
    add_phone = made.add(LAPTOP, PHONE, "phone")
    made.add(LAPTOP, TABLET, "tablet")
    thief = made.remove(PHONE, LAPTOP, prior=add_phone["id"])
    return made, add_phone, thief


def test_a_current_devices_removal_at_an_earlier_place_disputes_and_never_removes() -> None:
    made, add_phone, thief = thief_forks()
    log = resolved(made)
    # device events of equal authority: which branch is the thief's is unknown, so neither is picked
    assert log.fork is not None and log.fork.place == add_phone["id"] and log.superseded == ()
    laptop, phone = log.state.devices[LAPTOP.public_key], log.state.devices[PHONE.public_key]
    assert laptop.removed_at is None and laptop.disputed_at == thief["created_at"]
    assert phone.removed_at is None and phone.disputed_at == thief["created_at"]  # it signed the contested removal
    late = made.post(LAPTOP, "the owner, after the fork")["created_at"]
    for device in (LAPTOP, PHONE):  # both kept and flagged, neither refused
        assert (verdict(log, device.public_key, late).status, verdict(log, device.public_key, late).code) == (
            "disputed",
            "device_disputed",
        )
        assert verdict(log, device.public_key, thief["created_at"] - 1).status == "valid"


def test_a_removed_device_signing_at_an_earlier_place_is_a_fork_too() -> None:
    """The mirror of the thief's fork (the owner removed the laptop, the laptop then signs where it was current):
    the events cannot tell the two apart, so it is the same dispute, never a silent win for either."""
    made = Making()
    made.add(LAPTOP, PHONE, "phone")
    place = made.head
    made.add(PHONE, SPARE, "spare")
    removal = made.remove(SPARE, LAPTOP)
    late = made.add(LAPTOP, TABLET, "tablet", prior=place)
    log = resolved(made)
    assert log.fork is not None and log.fork.place == place and log.superseded == ()
    assert log.state.devices[LAPTOP.public_key].disputed_at == removal["created_at"]
    assert log.state.devices[LAPTOP.public_key].removed_at is None
    assert verdict(log, LAPTOP.public_key, late["created_at"]).code == "device_disputed"


def test_a_device_every_branch_of_a_fork_removes_is_removed() -> None:
    made = Making()
    made.add(LAPTOP, PHONE, "phone")
    place = made.head
    made.add(LAPTOP, TABLET, "tablet", prior=place)
    first = made.remove(LAPTOP, PHONE)
    made.add(LAPTOP, SPARE, "spare", prior=place)
    last = made.remove(LAPTOP, PHONE)
    log = resolved(made)
    assert log.fork is not None
    phone = log.state.devices[PHONE.public_key]
    assert (phone.disputed_at, phone.removed_at) == (first["created_at"], last["created_at"])
    assert verdict(log, PHONE.public_key, last["created_at"]).code == "device_removed"
    assert verdict(log, PHONE.public_key, first["created_at"]).code == "device_disputed"
    # the laptop signed removals no branch contests: it keeps its voice
    assert verdict(log, LAPTOP.public_key, last["created_at"] + 1).status == "valid"


def test_the_owners_rotation_on_its_branch_settles_a_thiefs_fork() -> None:
    made, _, thief = thief_forks()
    made.rotate(ROTATION_0, ROTATION_1, prior=made.events[2]["id"])
    log = resolved(made)
    assert log.fork is None and log.superseded == (thief["id"],)
    late = made.post(LAPTOP, "the owner, after settling")["created_at"]
    assert verdict(log, LAPTOP.public_key, late).status == "valid"


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_thiefs_fork_resolves_the_same_from_any_subset_in_any_order(data: st.DataObject) -> None:
    made, _, _ = thief_forks()
    made.post(LAPTOP, "a tick")
    made.rotate(ROTATION_0, ROTATION_1, prior=made.events[2]["id"])
    made.remove(PHONE, TABLET, prior=made.events[3]["id"])  # the thief goes on below its own branch
    held = data.draw(st.lists(st.sampled_from(made.events[1:]), unique_by=lambda e: e["id"]))
    order = data.draw(st.permutations([made.events[0], *held]))
    assert summary(resolved(made, order)) == summary(resolved(made, [made.events[0], *held]))


def contested() -> tuple[Making, dict[str, Any], dict[str, Any]]:
    """A phone added, then a tablet, the phone removed and a spare added; the removed phone's thief then signs a
    removal of the laptop at the place just after the phone's add (where it was still current, and where the
    next real event, the laptop's, is one the thief's branch can claim to undo). Returns the log, the phone's add
    and a post the thief makes after the fork."""
    made = Making()
    add_phone = made.add(LAPTOP, PHONE, "phone")
    made.add(LAPTOP, TABLET, "tablet")
    made.remove(LAPTOP, PHONE)
    made.add(LAPTOP, SPARE, "spare")
    made.remove(PHONE, LAPTOP, prior=add_phone["id"])
    return made, add_phone, made.post(PHONE, "thief, after the removal")


def test_a_removed_device_cannot_win_back_its_voice_by_forking_the_log() -> None:
    made, add_phone, late = contested()
    removed_at = made.events[3]["created_at"]
    log = resolved(made)
    # each branch removes the device that signed the other: a fork, shown, and frozen at the phone's add
    assert log.fork is not None and log.fork.place == add_phone["id"] and log.state.head == add_phone["id"]
    # removed on one branch: disputed from then, so never a voice again until the rotation key settles the place,
    # and never refused either (which branch is the thief's is not known; the owner's messages must not go)
    # (the laptop also signed the phone's removal, which the thief's branch contests, and the tablet's add on its
    # way: disputed from that add)
    assert log.state.devices[PHONE.public_key].disputed_at == removed_at
    assert log.state.devices[LAPTOP.public_key].disputed_at == made.events[2]["created_at"]
    for device in (PHONE, LAPTOP):
        waits = verdict(log, device.public_key, late["created_at"])
        assert (waits.status, waits.code) == ("disputed", "device_disputed")
    assert verdict(log, PHONE.public_key, removed_at - 1).status == "valid"
    for added in (TABLET, SPARE):  # added on a disputed branch: no authority until the rotation key settles it
        assert verdict(log, added.public_key, late["created_at"]).status == "waiting"


def test_the_rotation_key_settles_a_fork_of_devices_at_its_place() -> None:
    made, add_phone, _ = contested()
    recovery = made.recover(ROTATION_0, ROTATION_1, STRANGER, prior=add_phone["id"])
    log = resolved(made)
    assert log.fork is None and log.chain[-1] == recovery["id"]
    assert [k for k, d in log.state.devices.items() if d.removed_at is None] == [STRANGER.public_key]


def test_a_device_fork_before_the_owners_rotation_is_superseded_by_the_branch_carrying_it() -> None:
    made = Making()
    add_phone = made.add(LAPTOP, PHONE, "phone")
    made.add(LAPTOP, TABLET, "tablet")
    made.rotate(ROTATION_0, ROTATION_1)
    made.remove(TABLET, PHONE)
    thief = made.remove(PHONE, LAPTOP, prior=add_phone["id"])
    log = resolved(made)
    assert log.fork is None and log.superseded == (thief["id"],) and log.chain[-1] == made.events[4]["id"]
    assert verdict(log, PHONE.public_key, made.post(PHONE, "late")["created_at"]).code == "device_removed"


def test_a_spent_rotation_key_cannot_take_the_identity_over_at_an_earlier_place() -> None:
    made = Making()
    inception = made.events[0]
    made.add(LAPTOP, PHONE, "phone")
    rotation = made.rotate(ROTATION_0, ROTATION_1)  # ROTATION_0 is spent
    made.add(PHONE, TABLET, "tablet")
    takeover = made.recover(ROTATION_0, ROTATION_2, STRANGER, prior=inception["id"])
    log = resolved(made)
    # both branches carry the key the inception committed to: a fork, shown, never a silent takeover
    assert log.fork is not None and log.fork.place == inception["id"]
    assert set(log.fork.branches) == {made.events[1]["id"], takeover["id"]}
    assert log.superseded == () and rotation["id"] not in log.chain
    assert STRANGER.public_key not in log.state.devices
    assert log.state.next == resolved(Making()).state.next  # neither branch's next key is in force
    late = takeover["created_at"] + 1
    assert verdict(log, STRANGER.public_key, late).status == "waiting"
    assert verdict(log, LAPTOP.public_key, late).code == "device_disputed"  # the recovery's removal holds


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_contested_log_resolves_the_same_in_any_order(data: st.DataObject) -> None:
    made, _, _ = contested()
    made.rotate(ROTATION_0, ROTATION_1, prior=made.events[2]["id"])
    made.recover(ROTATION_0, ROTATION_2, STRANGER, prior=made.identity)
    held = data.draw(st.lists(st.sampled_from(made.events[1:]), unique_by=lambda e: e["id"]))
    order = data.draw(st.permutations([made.events[0], *held]))
    assert summary(resolved(made, order)) == summary(resolved(made, [made.events[0], *held]))


def test_two_rotations_at_one_place_are_a_fork_too() -> None:
    made = Making()
    place = made.head
    made.rotate(ROTATION_0, ROTATION_1)
    made.rotate(ROTATION_0, ROTATION_2, prior=place)
    log = resolved(made)
    assert log.fork is not None and len(log.fork.branches) == 2


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("proof", "bad_proof"),
        ("early", "out_of_order"),
        ("again", "device_known"),
        ("remove_stranger", "not_device"),
    ],
)
def test_events_their_ancestry_refuses(change: str, code: str) -> None:
    made = Making()
    made.add(LAPTOP, PHONE, "phone")
    if change == "proof":
        from murmur import key_events as ke
        from tests.identity_logs import x25519

        body = ke.device_body(TABLET.public_key, "tablet", x25519(43), ke.device_proof(TABLET, "00" * 32))
        bad = ke.add_device(LAPTOP, made.identity, made.head, body, at=made.at + 1)
    elif change == "early":
        from murmur import key_events as ke

        bad = ke.remove_device(LAPTOP, made.identity, made.head, PHONE.public_key, at=made.at - 1)
    elif change == "again":
        bad = made.add(LAPTOP, PHONE, "phone again")
    else:
        bad = made.remove(LAPTOP, STRANGER)
    made.events.append(bad) if bad is not made.events[-1] else None
    after = made.remove(LAPTOP, PHONE, prior=bad["id"])
    log = resolved(made)
    assert log.refused[bad["id"]].code == code
    assert log.refused[after["id"]].code == "prior_refused"


def test_a_device_speaks_for_the_identity_between_its_add_and_its_removal() -> None:
    made = Making()
    added = made.add(LAPTOP, PHONE, "phone")
    removed = made.remove(LAPTOP, PHONE)
    log = resolved(made)
    assert verdict(log, PHONE.public_key, added["created_at"]).status == "valid"
    assert verdict(log, PHONE.public_key, removed["created_at"] - 1).status == "valid"
    gone = verdict(log, PHONE.public_key, removed["created_at"])
    assert (gone.status, gone.code) == ("refused", "device_removed")
    assert verdict(log, PHONE.public_key, added["created_at"] - 1).code == "device_not_yet"
    assert verdict(log, STRANGER.public_key, removed["created_at"]).status == "waiting"
    assert verdict(None, PHONE.public_key, 0).code == "identity_unknown"


def test_a_thief_removing_through_a_device_it_added_is_disputed_too() -> None:
    """The phone's thief adds a device of its own at the earlier place and has it remove the laptop: the phone
    signed the way to the contested removal, so it is disputed with the laptop, not left with a free voice."""
    made = Making()
    add_phone = made.add(LAPTOP, PHONE, "phone")
    made.add(LAPTOP, TABLET, "tablet")
    via = made.add(PHONE, STRANGER, "thief's own", prior=add_phone["id"])
    made.remove(STRANGER, LAPTOP)
    log = resolved(made)
    assert log.fork is not None
    assert log.state.devices[PHONE.public_key].disputed_at == via["created_at"]
    assert log.state.devices[LAPTOP.public_key].disputed_at == made.events[-1]["created_at"]
    assert verdict(log, PHONE.public_key, made.post(PHONE, "late")["created_at"]).code == "device_disputed"
