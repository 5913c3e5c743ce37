"""The private groups' store pins a group's members with their roles on first sight and records each change seen
after (shown with the group's timeline); it keeps the group's verified signed messages once each, and remembers
below which epoch the group's keys were deleted."""

from __future__ import annotations

from pathlib import Path

from murmur.store.group_inbox import GroupInbox

GROUP, ADA, BO, CY = "6d" * 32, "a1" * 32, "b2" * 32, "c3" * 32


def test_members_are_pinned_then_each_change_is_recorded(tmp_path: Path) -> None:
    store = GroupInbox.open(tmp_path / "groups.db")
    assert store.pin_members(GROUP, {ADA: "owner", BO: "member"}, 1) == []  # first sight: pinned, nothing to show
    assert store.pin_members(GROUP, {ADA: "owner", BO: "member"}, 2) == []  # the same: nothing
    changes = store.pin_members(GROUP, {ADA: "owner", BO: "moderator", CY: "member"}, 3)
    assert sorted((c.key, c.change, c.role) for c in changes) == [(BO, "role", "moderator"), (CY, "added", "member")]
    store.pin_members(GROUP, {ADA: "owner", BO: "moderator"}, 4)
    shown = [(c.key, c.change, c.seen_at) for c in store.member_changes(GROUP)]
    assert shown[-1] == (CY, "removed", 4) and len(shown) == 3
    assert store.member_changes("7e" * 32) == []  # another group's are its own


def test_signed_messages_are_kept_once_and_forgotten_epochs_remembered(tmp_path: Path) -> None:
    store = GroupInbox.open(tmp_path / "groups.db")
    store.keep_signed(GROUP, [("01" * 32, b"first"), ("02" * 32, b"second")])
    store.keep_signed(GROUP, [("01" * 32, b"first")])
    assert store.signed_log(GROUP) == [b"first", b"second"]
    assert store.forgotten(GROUP) == 0
    keys = {"v": 1, "group": GROUP, "epochs": []}
    store.forget_epochs(GROUP, "board", keys, 3)
    store.forget_epochs(GROUP, "board", keys, 2)  # never lowered
    assert store.forgotten(GROUP) == 3 and store.keys(GROUP) == keys


def test_a_signed_message_keeps_when_this_device_first_held_it(tmp_path: Path) -> None:
    """The time an act was first held bounds its arrival (murmur.client.group_acts): keeping it again later, as
    every fetch of the group's log does, never moves it; one kept without a time stays without one."""
    store = GroupInbox.open(tmp_path / "groups.db")
    store.keep_signed(GROUP, [("01" * 32, b"old")])
    store.keep_signed(GROUP, [("02" * 32, b"first")], 100)
    store.keep_signed(GROUP, [("02" * 32, b"first"), ("03" * 32, b"later")], 200)
    assert store.signed_seen(GROUP) == [(b"old", None), (b"first", 100), (b"later", 200)]
