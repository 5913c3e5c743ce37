"""The private groups' store tries a waiting message again less and less often, then no more; a key coming for
its group makes it due at once. Made-up epochs cannot grow every sync's work for good."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from murmur.store import group_inbox
from murmur.store.group_inbox import MAX_TRIES, GroupInbox, Unread

GROUP = "6d" * 32


def _due_at(store: GroupInbox, syncs: int) -> list[int]:
    """The syncs, of the next ``syncs``, at which the waiting message was due (and tried, and kept again)."""
    tried = []
    for _ in range(syncs):
        number = store.tick()
        for item in store.unread(GROUP, ("wrong_epoch",), due=True):
            tried.append(number)
            store.keep_unread(item)
    return tried


def test_a_waiting_message_is_tried_less_and_less_often_then_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert MAX_TRIES <= 16  # tried for good at most about 2^16 syncs after it came
    monkeypatch.setattr(group_inbox, "MAX_TRIES", 5)  # the same rule, fewer syncs to run through
    store = GroupInbox.open(tmp_path / "g.db")
    store.keep_unread(Unread("a" * 64, GROUP, "wrong_epoch", "no key for epoch 9", b"{}", 1))
    tried = _due_at(store, 2**5 * 2 + 10)
    assert len(tried) == 5
    assert all(later - earlier == 2 ** (i + 1) for i, (earlier, later) in enumerate(pairwise(tried)))
    assert [u.code for u in store.unread(GROUP)] == ["wrong_epoch"]  # still shown, with its reason

    store.wake(GROUP)  # an epoch key came for the group: due again at once
    assert _due_at(store, 1) == [store._syncs()]
    store.close()


def test_a_message_its_server_did_not_answer_for_is_due_at_every_sync_and_never_retired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept not ``counted`` (nothing was learnt of it: its server failed to answer a look-up it needs), a waiting
    message is tried at each next sync, however many, and its tries stay as they were."""
    monkeypatch.setattr(group_inbox, "MAX_TRIES", 3)
    store = GroupInbox.open(tmp_path / "g.db")
    store.keep_unread(Unread("a" * 64, GROUP, "wrong_epoch", "its group's log failed", b"{}", 1), counted=False)
    tried = []
    for _ in range(10):
        number = store.tick()
        for item in store.unread(GROUP, ("wrong_epoch",), due=True):
            tried.append(number)
            store.keep_unread(item, counted=False)
    assert tried == list(range(1, 11))
    assert len(_due_at(store, 2**3 * 2 + 10)) == 3  # counted again, it is retired as any other


def test_the_newest_epochs_witness_of_an_act_stands_whatever_order_they_came_in(tmp_path: Path) -> None:
    store = GroupInbox.open(tmp_path / "g.db")
    store.witness(GROUP, 5, {"a" * 64: False, "b" * 64: True})
    store.witness(GROUP, 3, {"a" * 64: True})  # an older epoch's chunk, taken late
    store.witness(GROUP, 7, {"b" * 64: False})
    assert store.witnessed(GROUP) == {"a" * 64: False, "b" * 64: False}
    assert store.witnessed("7f" * 32) == {}
