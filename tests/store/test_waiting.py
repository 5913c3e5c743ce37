"""A message naming what this server knows nothing of yet waits for it (murmur.store.audience.waiting): the rule
has nothing to narrow it by, so no peer and nobody else gets it until the named message arrives; then it goes,
once, where that message's audience allows. Every kind that can name a scoped message, signed as an older
client signs it (public) or unable to sign an audience at all (an edit)."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store
from murmur.store.audience import for_anyone
from tests.store.test_deleted_stays_narrowed import seen_by
from tests.store.test_narrowing_travels import Network, about, delete, network
from tests.store.test_released import in_repair_set, push_log, push_released
from tests.sync.test_scopes import T0, post

__all__ = ["network"]  # the fixture, used by name

KINDS = ["edit", "reaction", "reply", "boost"]  # a delete never waits (the last test)


def naming(kind: str, target: dict[str, Any]) -> dict[str, Any]:
    """A message of ``kind`` about ``target``, signed without an audience (an older client; an edit has none). An
    edit and a delete are by the target's author; the rest by someone else."""
    ada = target["_author"]
    if kind == "edit":
        draft = {"kind": "edit", "created_at": T0 + 50, "body": {"text": "edited"}, "tags": [["target", target["id"]]]}
        return sign_draft(ada, draft)
    return about(ada if kind == "delete" else Identity.generate(), kind, target)


def written(text: str, visibility: str) -> dict[str, Any]:
    ada = Identity.generate()
    message = post(ada, text, visibility)
    return {**message, "_author": ada}


def signed(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "_author"}


@pytest.mark.parametrize("kind", KINDS)
async def test_what_names_a_scoped_post_not_yet_held_goes_nowhere_until_it_comes(
    store: Store, network: Network, kind: str
) -> None:
    _, inside, outside = network
    scoped = written("inside only", "scope:inside")
    early = naming(kind, scoped)
    await store.ingest([early])
    for key in (inside.public_key, outside):
        assert early["id"] not in await push_log(store, key), key
    assert early["id"] not in await seen_by(store, for_anyone("m"))
    assert not await in_repair_set(store, inside.public_key, early["id"])
    await store.ingest([signed(scoped)])
    going = {early["id"]}
    assert await in_repair_set(store, inside.public_key, early["id"]) == bool(going)
    assert await push_released(store, inside.public_key) == going
    assert early["id"] not in await push_released(store, outside) | await push_log(store, outside)
    assert early["id"] not in await seen_by(store, for_anyone("m"))


@pytest.mark.parametrize("kind", KINDS)
async def test_what_names_a_public_post_not_yet_held_goes_everywhere_once_it_comes(
    store: Store, network: Network, kind: str
) -> None:
    _, inside, outside = network
    public = written("for everyone", "public")
    early = naming(kind, public)
    await store.ingest([early])
    for key in (inside.public_key, outside):
        assert early["id"] not in await push_log(store, key), key
    await store.ingest([signed(public)])
    for key in (inside.public_key, outside):
        assert await push_released(store, key) == {early["id"]}, key
    assert early["id"] in await seen_by(store, for_anyone("m"))


async def test_what_names_a_post_deleted_here_does_not_wait_for_it(store: Store, network: Network) -> None:
    """The post was held and deleted: it never comes again, and its audience was known; a late reply goes."""
    _, _, outside = network
    public = written("for everyone", "public")
    await store.ingest([signed(public)])
    await store.ingest([about(public["_author"], "delete", public)])
    late = naming("reply", public)
    await store.ingest([late])
    assert late["id"] in await push_log(store, outside)


@pytest.mark.parametrize("together", [True, False])
async def test_a_delete_never_waits_and_what_names_its_deleted_target_goes(
    store: Store, network: Network, together: bool
) -> None:
    """A post deleted where it was written before anyone relayed it never comes: its delete, and a reply to it
    carried with it, would wait for good and the servers never converge. A delete carries no words: it goes at
    once, and its tombstone makes the post known (deleted), in its own batch too."""
    _, _, outside = network
    lost = written("deleted before it left", "public")
    gone = delete(lost["_author"], lost)
    reply = naming("reply", lost)
    batches = [[gone, reply]] if together else [[gone], [reply]]
    for batch in batches:
        await store.ingest(batch)
    assert {gone["id"], reply["id"]} <= await push_log(store, outside)


@pytest.mark.parametrize("together", [True, False])
async def test_what_names_a_message_that_waits_waits_too(store: Store, network: Network, together: bool) -> None:
    """A reaction to a public-signed reply to a scoped post not yet held: the reply is held, but its audience is
    not known, so the reaction waits with it (in one batch or two), and both go to the scope once the post comes."""
    _, inside, outside = network
    scoped = written("inside only", "scope:inside")
    reply = naming("reply", scoped)
    reaction = about(Identity.generate(), "reaction", reply)
    for batch in [[reply, reaction]] if together else [[reply], [reaction]]:
        await store.ingest(batch)
    for key in (inside.public_key, outside):
        assert not {reply["id"], reaction["id"]} & await push_log(store, key), key
    assert not {reply["id"], reaction["id"]} & await seen_by(store, for_anyone("m"))
    await store.ingest([signed(scoped)])
    assert await push_released(store, inside.public_key) == {reply["id"], reaction["id"]}
    assert await push_released(store, outside) == set()
