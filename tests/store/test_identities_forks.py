"""A fork in an identity's log, as a server holds it: it freezes the identity but never gives a removed device its
voice or membership back, and a spent rotation key cannot take the identity over (murmur.kinds.key_store;
docs/protocol.md §13.4)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from murmur import key_events as ke
from murmur.kinds.key_store import identity_view, member_by_identity
from murmur.message import sign_draft
from murmur.store import Store, notifications
from murmur.store.members import add_member
from tests import identity_logs
from tests.identity_logs import LAPTOP, PHONE, ROTATION_0, ROTATION_1, ROTATION_2, SPARE, STRANGER, TABLET, Log


async def status(store: Store, message: dict[str, Any]) -> tuple[str, str | None]:
    result = (await store.ingest([message], origin="peer"))[0]
    return result.status, result.code


async def claim(store: Store, message: dict[str, Any]) -> list[tuple[Any, ...]]:
    sql = "SELECT status FROM identity_claims c JOIN messages m USING (seq) WHERE m.id = ?"
    async with store.conn.execute(sql, (bytes.fromhex(message["id"]),)) as cursor:
        return [tuple(r) for r in await cursor.fetchall()]


async def test_a_removed_device_forking_the_log_stays_removed_and_no_member(store: Store) -> None:
    made = Log()
    add_phone = made.add(LAPTOP, PHONE, "phone")
    made.add(LAPTOP, TABLET, "tablet")
    made.remove(LAPTOP, PHONE)
    made.add(LAPTOP, SPARE, "spare")
    owners = made.post(LAPTOP, "the owner's words, acknowledged before the fork")
    await add_member(store, LAPTOP.public_key)
    await store.ingest([*made.events, owners])
    assert await member_by_identity(store.conn, PHONE.public_key) == ""
    # each branch now removes the other's signer, the thief's dated just after the phone's add
    fork = ke.remove_device(PHONE, made.identity, add_phone["id"], LAPTOP.public_key, at=add_phone["created_at"] + 1)
    assert await status(store, fork) == ("stored", None)
    view = await identity_view(store.conn, made.identity)
    assert view is not None and view["fork"] is not None and view["fork"]["place"] == add_phone["id"]
    thief = made.post(PHONE, "thief, after the fork")
    assert await status(store, thief) == ("stored", None) and await claim(store, thief) == [("disputed",)]
    assert await member_by_identity(store.conn, PHONE.public_key) == ""
    assert await claim(store, owners) == [("disputed",)]  # withheld, flagged, but not lost
    disputed = made.post(SPARE, "added on a disputed branch")
    assert await status(store, disputed) == ("stored", None) and await claim(store, disputed) == [("waiting",)]


async def test_a_removed_device_forking_where_it_was_current_is_disputed_until_the_rotation_key_settles(
    store: Store,
) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    rotation = made.rotate(ROTATION_0, ROTATION_1)
    made.add(PHONE, TABLET, "tablet")
    made.remove(TABLET, PHONE)
    await add_member(store, LAPTOP.public_key)
    await store.ingest(made.events)
    thief = made.remove(PHONE, LAPTOP, prior=rotation["id"])
    assert await status(store, thief) == ("stored", None)
    view = await identity_view(store.conn, made.identity)
    assert view is not None and view["fork"] is not None and view["fork"]["place"] == rotation["id"]
    late = made.post(PHONE, "thief, after the fork")
    assert await status(store, late) == ("stored", None) and await claim(store, late) == [("disputed",)]
    assert await member_by_identity(store.conn, PHONE.public_key) == ""
    # the owner settles the place with the rotation key, on the branch it keeps
    await store.ingest([made.rotate(ROTATION_1, ROTATION_2, prior=made.events[4]["id"])])
    view = await identity_view(store.conn, made.identity)
    assert view is not None and view["fork"] is None and view["superseded"] == [thief["id"]]
    assert await status(store, made.post(PHONE, "thief, after settling")) == ("refused", "device_removed")
    assert await member_by_identity(store.conn, TABLET.public_key) == "member"


async def test_a_spent_rotation_key_recovering_at_an_earlier_place_is_a_fork_not_a_takeover(store: Store) -> None:
    made = Log()
    inception = made.events[0]
    made.add(LAPTOP, PHONE, "phone")
    made.rotate(ROTATION_0, ROTATION_1)
    made.add(PHONE, TABLET, "tablet")
    await add_member(store, LAPTOP.public_key)
    await store.ingest(made.events)
    takeover = made.recover(ROTATION_0, ROTATION_2, STRANGER, prior=inception["id"])
    assert await status(store, takeover) == ("stored", None)
    view = await identity_view(store.conn, made.identity)
    assert view is not None and view["fork"] is not None and view["superseded"] == []
    assert set(view["fork"]["branches"]) == {made.events[1]["id"], takeover["id"]}
    assert STRANGER.public_key not in {d["key"] for d in view["devices"]}
    assert await member_by_identity(store.conn, STRANGER.public_key) is None
    assert await member_by_identity(store.conn, LAPTOP.public_key) == ""  # the recovery's branch removes it
    stranger = made.post(STRANGER, "the spent key's device")
    assert await status(store, stranger) == ("stored", None) and await claim(store, stranger) == [("waiting",)]


def contested() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A removed phone's fork at its add (its events), and posts on either side of it, the thief's included."""
    made = Log()
    add_phone = made.add(LAPTOP, PHONE, "phone")
    early = made.post(PHONE, "before its removal")
    made.add(LAPTOP, TABLET, "tablet")
    made.remove(LAPTOP, PHONE)
    owners = made.post(LAPTOP, "the owner's words")
    tablets = made.post(TABLET, "from the tablet")
    fork = ke.remove_device(PHONE, made.identity, add_phone["id"], LAPTOP.public_key, at=add_phone["created_at"] + 1)
    return [*made.events, fork], [early, owners, tablets, made.post(PHONE, "thief, after the fork")]


async def _holdings(batches: list[list[dict[str, Any]]]) -> tuple[Any, ...]:
    """What a fresh store holds of identities once ``batches`` arrived, one after the other."""
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "m.db") as store:
            for batch in batches:
                await store.ingest(batch, origin="peer")
            return await identity_logs.holdings(store)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_contested_log_ends_the_same_in_any_order_and_its_posts_wait(data: st.DataObject) -> None:
    everything, _ = contested()
    order = data.draw(st.permutations(everything))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(order) - 1), max_size=3)))
    batches = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    posts = contested()[1]
    expected = asyncio.run(_holdings([everything, posts]))
    # none refused, none lost: the phone's and the laptop's disputed, the tablet's (added on a branch) waiting
    assert sorted(status for _, status in expected[1]) == ["disputed"] * 3 + ["waiting"]
    assert asyncio.run(_holdings([*batches, posts])) == expected


async def move_notices(store: Store, move: dict[str, Any]) -> list[tuple[Any, ...]]:
    sql = "SELECT n.key, n.kind FROM notices n JOIN messages m USING (seq) WHERE m.id = ? ORDER BY n.key"
    async with store.conn.execute(sql, (bytes.fromhex(move["id"]),)) as cursor:
        return [(bytes(r[0]).hex(), r[1]) for r in await cursor.fetchall()]


def moved_then_forked() -> tuple[Log, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The laptop moves home after adding a tablet; a thief holding the (current) phone's key forks at the
    phone's add; the owner then rotates on its own branch. Returns the log, the move, the fork and the rotation."""
    made = Log()
    add_phone = made.add(LAPTOP, PHONE, "phone")
    made.add(LAPTOP, TABLET, "tablet")
    move = made.move(LAPTOP, "https://new.example")
    fork = made.remove(PHONE, LAPTOP, prior=add_phone["id"])
    rotation = made.rotate(ROTATION_0, ROTATION_1, prior=move["id"])
    return made, move, fork, rotation


def follow(who: Any, subject: str) -> dict[str, Any]:
    return sign_draft(who, {"kind": "follow", "body": {}, "tags": [["subject", subject]]})


async def test_a_move_on_a_branch_of_a_fork_is_told_disputed_until_the_rotation_key_settles_it(store: Store) -> None:
    made, move, fork, rotation = moved_then_forked()
    await store.ingest([follow(STRANGER, made.identity)])
    await store.ingest(made.events[:4])
    assert await move_notices(store, move) == [(STRANGER.public_key, "move")]
    await store.ingest([fork])
    assert await move_notices(store, move) == [(STRANGER.public_key, "move_disputed")]
    cursor = await store.last_seq()
    await store.ingest([rotation])
    assert await move_notices(store, move) == [(STRANGER.public_key, "move")]
    # settled: news again, told on the stream from where the rotation came
    told = await notifications.derived(store, STRANGER.public_key, after=cursor, upto=await store.last_seq())
    assert [n.kind for _, n in told] == ["move"]


async def test_a_thiefs_move_on_its_branch_is_never_told_settled_and_goes_once_superseded(store: Store) -> None:
    made, _, _, rotation = moved_then_forked()
    thiefs = made.move(PHONE, "https://thief.example", prior=made.events[4]["id"])
    await store.ingest([follow(STRANGER, made.identity)])
    await store.ingest([e for e in made.events if e["id"] not in (rotation["id"], thiefs["id"])])
    await store.ingest([thiefs])
    assert await move_notices(store, thiefs) == [(STRANGER.public_key, "move_disputed")]
    await store.ingest([rotation])
    assert await move_notices(store, thiefs) == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_moves_are_told_the_same_whatever_order_the_log_came_in(data: st.DataObject) -> None:
    made, move, _, _ = moved_then_forked()
    thiefs = made.move(PHONE, "https://thief.example", prior=made.events[4]["id"])
    held = data.draw(st.lists(st.sampled_from(made.events[1:]), unique_by=lambda e: e["id"]))

    async def told(order: list[dict[str, Any]]) -> list[list[tuple[Any, ...]]]:
        with tempfile.TemporaryDirectory() as folder:
            async with await Store.open(Path(folder) / "m.db") as store:
                await store.ingest([follow(STRANGER, made.identity)])
                for event in order:
                    await store.ingest([event], origin="peer")
                return [await move_notices(store, m) for m in (move, thiefs)]

    everything = [made.events[0], *held]
    assert asyncio.run(told(data.draw(st.permutations(everything)))) == asyncio.run(told(everything))


def restored() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """The owner's laptop removes the phone; the phone posts after; the phone's fork at its add (a removal of the
    laptop) later disputes that removal. Returns every message, the phone's late post and the fork."""
    made = Log()
    add_phone = made.add(LAPTOP, PHONE, "phone")
    made.add(LAPTOP, TABLET, "tablet")
    made.remove(LAPTOP, PHONE)
    late = made.post(PHONE, "after its removal")
    owners = made.post(LAPTOP, "the owner's")
    fork = ke.remove_device(PHONE, made.identity, add_phone["id"], LAPTOP.public_key, at=add_phone["created_at"] + 1)
    return [*made.events, late, owners, made.post(TABLET, "the tablet's"), fork], late, fork


def thief_forked() -> list[dict[str, Any]]:
    """A thief holding the phone's key (current, never removed) removes the laptop at the place after the phone's
    add, where the laptop went on adding a tablet and posting; both post after; the owner settles with a rotation
    on the laptop's branch."""
    made = Log()
    add_phone = made.add(LAPTOP, PHONE, "phone")
    made.add(LAPTOP, TABLET, "tablet")
    before = made.post(LAPTOP, "the owner's, before the theft")
    fork = ke.remove_device(PHONE, made.identity, add_phone["id"], LAPTOP.public_key, at=made.at + 1)
    posts = [before, made.post(LAPTOP, "the owner's, after"), made.post(PHONE, "the thief's, after")]
    made.rotate(ROTATION_0, ROTATION_1, prior=made.events[2]["id"])
    return [*made.events, fork, *posts]


async def test_a_thiefs_fork_keeps_the_owners_posts_disputed_never_refused(store: Store) -> None:
    everything = thief_forked()
    rotation, fork, before, after, thiefs = everything[3:]
    await store.ingest([m for m in everything if m["id"] != rotation["id"]])
    assert [await claim(store, m) for m in (before, after, thiefs)] == [[("valid",)], [("disputed",)], [("disputed",)]]
    view = await identity_view(store.conn, everything[0]["id"])
    assert view is not None and view["fork"] is not None
    await store.ingest([rotation])  # the owner settles it: the thief's branch is superseded
    assert [await claim(store, m) for m in (before, after, thiefs)] == [[("valid",)]] * 3
    assert (await identity_view(store.conn, everything[0]["id"]) or {})["superseded"] == [fork["id"]]


async def test_a_post_refused_before_a_fork_that_disputes_its_removal_is_held_as_if_it_came_after(store: Store) -> None:
    everything, late, fork = restored()
    await store.ingest([m for m in everything if m["id"] != fork["id"]])
    assert await status(store, late) == ("refused", "device_removed")
    assert await claim(store, late) == []
    await store.ingest([fork])
    assert await claim(store, late) == [("disputed",)]  # as it is where the fork came first
    assert await status(store, late) == ("duplicate", None)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_posts_and_events_in_any_order_and_batching_end_held_the_same(data: st.DataObject) -> None:
    everything = data.draw(st.sampled_from([restored()[0], thief_forked()]))
    held = data.draw(st.lists(st.sampled_from(everything[1:]), unique_by=lambda e: e["id"]))
    chosen = [everything[0], *held]
    order = data.draw(st.permutations(chosen))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(order) - 1), max_size=3))) if len(order) > 1 else []
    batches = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    assert asyncio.run(_holdings(batches)) == asyncio.run(_holdings([[m] for m in chosen]))


async def test_a_disputed_reply_is_told_when_the_rotation_key_settles_the_fork(store: Store) -> None:
    everything = thief_forked()
    rotation = everything[3]
    root = sign_draft(STRANGER, {"body": {"text": "a question"}})
    made_at = everything[-1]["created_at"] + 1
    tags = [["identity", everything[0]["id"]], ["reply", root["id"]], ["root", root["id"]]]
    reply = sign_draft(LAPTOP, {"body": {"text": "the owner answers"}, "tags": tags}, created_at=made_at)
    await store.ingest([root, *[m for m in everything if m["id"] != rotation["id"]], reply])
    assert await claim(store, reply) == [("disputed",)]
    assert (await notifications.notifications(store, STRANGER.public_key)).items == []
    cursor = await store.last_seq()
    await store.ingest([rotation])
    told = await notifications.derived(store, STRANGER.public_key, after=cursor, upto=await store.last_seq())
    assert [(n.kind, n.actor) for _, n in told] == [("reply", LAPTOP.public_key)]
