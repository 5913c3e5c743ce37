"""A group role is its person's, not one key's: a moderator appointed by identity (or by one device's key) acts from
any of the identity's current devices, as the identity log held says, and the rows follow that log when it comes
after the group's messages (murmur.kinds.group_speakers, murmur.kinds.group_state.refold_people)."""

from __future__ import annotations

from typing import Any

from murmur.keys import Identity
from murmur.kinds import group_reads
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, create_draft
from murmur.message import sign_draft
from murmur.store import Store
from tests.identity_logs import LAPTOP, PHONE, STRANGER, Log, key

OWNER, ANN = key(71), key(72)
POST = "ab" * 32


def signed(who: Identity, draft: dict[str, Any], at: int, identity: str | None = None) -> dict[str, Any]:
    tags = [*draft["tags"], *([["identity", identity]] if identity else [])]
    return sign_draft(who, {**draft, "tags": tags}, created_at=at)


def scene(appointed: str) -> tuple[Log, dict[str, Any], list[dict[str, Any]]]:
    """A moderator's identity (laptop, then a phone added), a private group whose owner appoints ``appointed``
    (the identity, or the laptop's key) moderator, and the phone inviting Ann and hiding a post."""
    mod = Log()
    mod.add(LAPTOP, PHONE, "phone")
    at = mod.at + 1000
    create = signed(OWNER, create_draft("organisers", join="invite"), at)
    g = create["id"]
    appoint = signed(OWNER, about_person_draft("group_mod", g, appointed), at + 1)
    invite = signed(PHONE, about_person_draft("group_approve", g, ANN.public_key), at + 2, mod.identity)
    hide = signed(PHONE, about_post_draft("group_hide", g, POST, reason="off topic"), at + 3, mod.identity)
    return mod, create, [appoint, invite, hide]


async def ann_and_hidden(store: Store, group: str) -> tuple[str | None, list[str]]:
    ann = next((p.status for p in await group_reads.people(store, group) if p.key == ANN.public_key), None)
    return ann, list(await group_reads.hidden(store, group, [POST]))


async def test_a_moderator_appointed_by_identity_acts_from_a_second_device(store: Store) -> None:
    mod, create, acts = scene(Log().identity)
    results = await store.ingest([*mod.events, create, *acts])
    assert {r.status for r in results} == {"stored"}
    assert await ann_and_hidden(store, create["id"]) == ("member", [POST])


async def test_a_moderator_appointed_by_one_devices_key_acts_from_another(store: Store) -> None:
    mod, create, acts = scene(LAPTOP.public_key)
    await store.ingest([*mod.events, create, *acts])
    assert await ann_and_hidden(store, create["id"]) == ("member", [POST])


async def test_the_acts_count_once_the_log_naming_the_device_arrives(store: Store) -> None:
    mod, create, acts = scene(Log().identity)
    await store.ingest([create, *acts])  # the phone's acts wait for its identity's log: they count for nothing yet
    assert await ann_and_hidden(store, create["id"]) == (None, [])
    await store.ingest(mod.events)
    assert await ann_and_hidden(store, create["id"]) == ("member", [POST])


async def test_a_key_outside_the_moderators_identity_holds_no_role(store: Store) -> None:
    mod, create, acts = scene(Log().identity)
    g = create["id"]
    stranger = signed(STRANGER, about_person_draft("group_approve", g, ANN.public_key), mod.at + 5000)
    await store.ingest([*mod.events, create, acts[0], stranger])
    assert await ann_and_hidden(store, g) == (None, [])


async def test_a_removed_devices_acts_stop_counting_and_its_earlier_ones_stay(store: Store) -> None:
    mod, create, acts = scene(PHONE.public_key)  # appointed by the very key removed later
    g = create["id"]
    await store.ingest([*mod.events, create, *acts])
    mod.at = acts[-1]["created_at"]  # removed after its acts: a removal dated before them would be contested
    removal = mod.remove(LAPTOP, PHONE)
    later = signed(PHONE, about_person_draft("group_remove", g, ANN.public_key), removal["created_at"] + 1,
                   mod.identity)  # fmt: skip
    assert (await store.ingest([removal]))[0].status == "stored"
    refused = (await store.ingest([later]))[0]
    assert refused.status == "refused"
    assert await ann_and_hidden(store, g) == ("member", [POST])  # what the phone did before its removal stands
    bare = signed(PHONE, about_person_draft("group_remove", g, ANN.public_key), removal["created_at"] + 2)
    assert (await store.ingest([bare]))[0].status == "stored"  # signed as itself, it still speaks for no one
    assert await ann_and_hidden(store, g) == ("member", [POST])
