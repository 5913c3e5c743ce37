"""Identities in the store: every door's ingest judges device-signed messages and key events against the log
held, waits when it cannot say yet, and ends with the same state whatever order the events came in
(murmur.kinds.key_store; docs/protocol.md §13)."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_people import Person

from murmur.kinds.key_store import resolved
from murmur.message import sign_draft
from murmur.store import Store, notifications, public, search, threads, timelines
from murmur.store.lookup import known_keys, resolve_key
from tests.identity_logs import LAPTOP, PHONE, ROTATION_0, ROTATION_1, SPARE, STRANGER, TABLET, Log


async def rows(store: Store, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    async with store.conn.execute(sql, args) as cursor:
        return [tuple(r) for r in await cursor.fetchall()]


async def held(store: Store, message: dict[str, Any]) -> bool:
    return bool(await rows(store, "SELECT 1 FROM messages WHERE id = ?", bytes.fromhex(message["id"])))


async def state(store: Store, identity: str) -> tuple[Any, ...]:
    ident = bytes.fromhex(identity)
    return (
        await rows(store, "SELECT head, length, next_key, home, fork_at FROM identities WHERE identity = ?", ident),
        await rows(
            store,
            "SELECT device, name, x25519, added_at, removed_at FROM identity_devices"
            " WHERE identity = ? ORDER BY device",
            ident,
        ),
        await rows(store, "SELECT event, place FROM identity_forks WHERE identity = ? ORDER BY event", ident),
        await rows(
            store,
            "SELECT m.id, status FROM identity_claims c JOIN messages m USING (seq) WHERE c.identity = ? ORDER BY m.id",
            ident,
        ),
        await rows(store, "SELECT id FROM messages ORDER BY id"),
    )


async def one(store: Store, message: dict[str, Any]) -> dict[str, Any]:
    return (await store.ingest([message], origin="peer"))[0].as_dict()


async def test_a_device_added_by_the_first_speaks_for_the_identity(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    post = made.post(PHONE, "from the phone")
    results = await store.ingest([*made.events, post])
    assert [r.status for r in results] == ["stored"] * 3
    assert await rows(store, "SELECT status FROM identity_claims") == [("valid",)]
    devices = await rows(store, "SELECT name, removed_at FROM identity_devices ORDER BY added_at")
    assert devices == [("laptop", None), ("phone", None)]


async def test_a_removed_devices_later_messages_are_refused_and_earlier_ones_stay(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    before = made.post(PHONE, "before")
    made.remove(LAPTOP, PHONE)
    after = made.post(PHONE, "after")
    await store.ingest([*made.events, before])
    refused = await one(store, after)
    assert refused["status"] == "refused" and refused["code"] == "device_removed"
    assert "removed" in refused["reason"]
    assert await held(store, before)


async def test_a_removal_and_a_later_message_in_one_batch_are_judged_in_order(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    made.remove(LAPTOP, PHONE)
    after = made.post(PHONE, "after")
    results = await store.ingest([after, *made.events])
    assert results[0].code == "device_removed"


@pytest.mark.sqlite_only("counts the statements SQLite's trace callback sees")
async def test_a_devices_message_is_judged_by_its_devices_span_not_by_reading_the_log(store: Store) -> None:
    """The cost of speaking for an identity does not grow with its log: a batch without key events is judged
    by the device's row of the resolved state (one indexed look-up), never by reading the events again."""
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    made.remove(LAPTOP, PHONE)
    await store.ingest(made.events)
    statements: list[str] = []
    await store.writer.conn.set_trace_callback(statements.append)
    try:
        assert (await one(store, made.post(LAPTOP, "still here")))["status"] == "stored"
        assert (await one(store, made.post(PHONE, "after")))["code"] == "device_removed"
        assert (await one(store, made.post(TABLET, "who")))["status"] == "stored"  # no event adds it: waits
    finally:
        await store.writer.conn.set_trace_callback(None)
    assert statements and not [s for s in statements if "key_events" in s]
    assert sorted(await rows(store, "SELECT status FROM identity_claims")) == [("valid",), ("waiting",)]


async def test_a_message_waits_for_its_log_and_goes_when_the_log_refuses_it(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    early = made.post(PHONE, "early")
    made.remove(LAPTOP, PHONE)
    late = made.post(PHONE, "late")
    assert (await one(store, late))["status"] == "stored"  # nothing held says no yet: it waits
    assert (await one(store, early))["status"] == "stored"
    assert await rows(store, "SELECT status FROM identity_claims") == [("waiting",), ("waiting",)]
    await store.ingest(made.events[:2])
    assert sorted(await rows(store, "SELECT status FROM identity_claims")) == [("valid",), ("valid",)]
    await store.ingest(made.events[2:])
    assert await held(store, early) and not await held(store, late)
    assert await rows(store, "SELECT status FROM identity_claims") == [("valid",)]
    assert (await one(store, late))["code"] == "device_removed"  # offered again, by repair say: refused


async def test_a_message_waiting_for_its_log_is_shown_nowhere_until_the_log_says(store: Store) -> None:
    """Until the log adds its device, a message naming an identity is not shown as the identity's anywhere a
    reader looks (timelines, threads, search, notifications): it may be anyone's, as an edit of a post never held
    may be."""
    made = Log()
    root = made.post(LAPTOP, "the root")
    added = made.add(LAPTOP, PHONE, "phone")
    tags = [["identity", made.identity], ["reply", root["id"]], ["root", root["id"]]]
    reply = sign_draft(PHONE, {"kind": "post", "body": {"text": "waiting words"}, "tags": tags}, created_at=made.at + 1)
    boost = sign_draft(
        STRANGER, {"kind": "boost", "body": {}, "tags": [["target", reply["id"]]]}, created_at=made.at + 2
    )
    await store.ingest([made.events[0], root, reply, boost])

    async def shown() -> tuple[list[str], list[str], list[str | None], list[str], list[str], bool, set[str]]:
        thread = await threads.thread(store, root["id"])
        assert thread is not None
        return (
            [i.id for i in (await timelines.federated(store)).items],
            [i.id for i in (await search.search_posts(store, "waiting")).items],
            [None if n.item is None else n.item.id for n in thread.root.children],
            [i.id for i in (await timelines.author(store, STRANGER.public_key)).items],
            [i.kind for i in (await notifications.notifications(store, LAPTOP.public_key)).items],
            await public.held(store, reply["id"]) is not None,  # /m/{id}/signed.json
            await public.visible(store, [reply["id"]]),
        )

    assert await shown() == ([root["id"]], [], [None], [], [], False, set())
    await store.ingest([added])
    assert await shown() == (
        [reply["id"], root["id"]],
        [reply["id"]],
        [reply["id"]],
        [reply["id"]],
        ["reply"],
        True,
        {reply["id"]},
    )


async def test_a_devices_notifications_hold_what_names_its_identity_once(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    await store.ingest(made.events)

    def mention(text: str, *named: str) -> dict[str, Any]:
        draft = {"kind": "post", "body": {"text": text}, "tags": [["mention", k] for k in named]}
        return sign_draft(STRANGER, draft, created_at=made.at + 1)

    both = mention("both", made.identity, PHONE.public_key)
    await store.ingest([mention("the person", made.identity), both, mention("the laptop", LAPTOP.public_key)])
    seen = {
        device: sorted(json.loads(i.raw)["body"]["text"] for i in (await notifications.notifications(store, key)).items)
        for device, key in (("laptop", LAPTOP.public_key), ("phone", PHONE.public_key))
    }
    assert seen == {"laptop": ["both", "the laptop", "the person"], "phone": ["both", "the person"]}  # once each
    assert await notifications.unread_count(store, PHONE.public_key) == 2


async def test_an_identity_is_named_by_a_prefix_as_a_key_is(store: Store) -> None:
    made = Log()
    await store.ingest(made.events)
    assert await resolve_key(store, made.identity[:10]) == made.identity
    assert made.identity in await known_keys(store, made.identity[:8])


async def test_a_stolen_device_key_cannot_rotate_and_the_owner_recovers(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    await store.ingest(made.events)
    thief = made.rotate(PHONE, STRANGER)
    assert (await one(store, thief))["code"] == "not_rotation_key"
    made.events.pop()
    recovery = made.recover(ROTATION_0, ROTATION_1, SPARE)
    assert (await one(store, recovery))["status"] == "stored"
    stolen = made.post(PHONE, "the thief again")
    assert (await one(store, stolen))["code"] == "device_removed"
    assert (await one(store, made.post(SPARE, "it is me")))["status"] == "stored"


async def test_a_key_event_whose_place_is_not_held_waits_and_goes_if_refused(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    thief = made.rotate(PHONE, STRANGER)
    assert (await one(store, thief))["status"] == "stored"
    await store.ingest(made.events[:2])
    assert not await held(store, thief)
    assert await rows(store, "SELECT count(*) FROM key_events") == [(2,)]


async def test_a_fork_is_kept_recorded_and_not_resolved(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    place = made.head
    one_side = made.add(LAPTOP, TABLET, "tablet")
    other = made.add(PHONE, SPARE, "spare", prior=place)
    await store.ingest(made.events)
    assert await held(store, one_side) and await held(store, other)
    forks = await rows(store, "SELECT event, place FROM identity_forks ORDER BY event")
    assert {bytes(e).hex() for e, _ in forks} == {one_side["id"], other["id"]}
    assert {bytes(p).hex() for _, p in forks} == {place}
    log = await resolved(store.conn, made.identity)
    assert log is not None and log.fork is not None and log.state.head == place
    waits = made.post(TABLET, "on a branch")
    assert (await one(store, waits))["status"] == "stored"
    assert await rows(store, "SELECT status FROM identity_claims") == [("waiting",)]


def life() -> tuple[Log, list[dict[str, Any]]]:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    early = made.post(PHONE, "early")
    made.move(PHONE, "https://new.example")
    made.remove(PHONE, LAPTOP)
    late = made.post(LAPTOP, "after removal")
    made.rotate(PHONE, STRANGER)  # refused wherever its place is held
    made.events.pop()
    made.add(PHONE, TABLET, "tablet")
    made.recover(ROTATION_0, ROTATION_1, SPARE)
    return made, [*made.events, early, late, made.post(SPARE, "recovered"), made.post(TABLET, "revoked")]


async def _arrive(batches: list[list[dict[str, Any]]]) -> tuple[Any, ...]:
    made, _ = life()
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "m.db") as store:
            for batch in batches:
                await store.ingest(batch, origin="peer")
            return await state(store, made.identity)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_arrival_order_and_batching_gives_the_same_state(data: st.DataObject) -> None:
    _, everything = life()
    order = data.draw(st.permutations(everything))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(order) - 1), max_size=4)))
    batches = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    expected = asyncio.run(_arrive([everything]))
    assert asyncio.run(_arrive(batches)) == expected
    assert asyncio.run(_arrive([[m] for m in reversed(everything)])) == expected


async def test_an_identitys_timeline_holds_every_devices_posts_and_a_keys_only_its_own(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    posts = [made.post(LAPTOP, "from the laptop"), made.post(PHONE, "from the phone")]
    bare = sign_draft(PHONE, {"kind": "post", "body": {"text": "as the bare key"}}, created_at=made.at + 5)
    await store.ingest([*made.events, *posts, bare])
    shown = await timelines.author(store, made.identity)
    assert {i.id for i in shown.items} == {p["id"] for p in posts}
    assert {i.id for i in (await timelines.author(store, PHONE.public_key)).items} == {posts[1]["id"], bare["id"]}


async def test_following_an_identity_is_following_every_device_and_a_device_sees_its_own(store: Store) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    posts = [made.post(LAPTOP, "from the laptop"), made.post(PHONE, "from the phone")]
    reader = Person(STRANGER, iter(range(made.at + 10, made.at + 10_000, 1000)))
    follow = reader.sign("follow", {}, [["subject", made.identity]], None)
    assert [r.status for r in await store.ingest([*made.events, *posts, follow])] == ["stored"] * 5
    assert {i.id for i in (await timelines.home(store, STRANGER.public_key)).items} == {p["id"] for p in posts}
    assert {i.id for i in (await timelines.home(store, PHONE.public_key)).items} == {p["id"] for p in posts}
