"""Ids and keys from what people type: unique prefixes resolve, ambiguous and short ones are refused."""

from __future__ import annotations

import pytest
from store_people import Person

from murmur.errors import Refused
from murmur.prefixes import MIN_PREFIX
from murmur.store import Store
from murmur.store.lookup import (
    known_keys,
    message_ids,
    people_named,
    people_starting,
    resolve_key,
    resolve_message_id,
)


async def _twin(store: Store, msg_id: str, twin_id: str) -> None:
    """A second row whose id shares a prefix with ``msg_id`` (real ids would need ~65,000 posts to collide)."""
    async with store.writer.transaction() as conn:
        await conn.execute(
            "INSERT INTO messages (id, author, kind, created_at, visibility, origin, received_at, raw)"
            " SELECT ?, author, kind, created_at, visibility, origin, received_at, raw FROM messages WHERE id = ?",
            (bytes.fromhex(twin_id), bytes.fromhex(msg_id)),
        )


async def test_a_unique_prefix_of_any_length_from_eight_resolves(store: Store, ann: Person) -> None:
    post = ann.post("hello")
    await store.ingest([post, ann.post("other")])
    for length in (MIN_PREFIX, 9, 12, 33, 63, 64):
        assert await resolve_message_id(store, post["id"][:length]) == post["id"]
    assert await resolve_message_id(store, post["id"][:12].upper()) == post["id"]
    assert await resolve_message_id(store, f"  {post['id'][:10]} ") == post["id"]


async def test_ambiguous_prefix_is_refused_with_the_candidates(store: Store, ann: Person) -> None:
    post = ann.post("hello")
    await store.ingest([ann.profile("Ann"), post])
    twin = post["id"][:10] + ("0" if post["id"][10] != "0" else "1") + post["id"][11:]
    await _twin(store, post["id"], twin)
    with pytest.raises(Refused) as err:
        await resolve_message_id(store, post["id"][:10])
    assert err.value.code == "ambiguous_id"
    assert post["id"][:16] in err.value.message and twin[:16] in err.value.message
    assert "'Ann'" in err.value.message and "post" in err.value.message
    # One more digit tells them apart.
    assert await resolve_message_id(store, post["id"][:11]) == post["id"]
    assert [m.id for m in await message_ids(store, post["id"][:10])] == sorted([post["id"], twin])


@pytest.mark.parametrize(
    ("text", "code"),
    [("abc", "id_too_short"), ("0123456", "id_too_short"), ("", "bad_request"), ("xyz12345", "bad_request"),
     ("0" * 65, "bad_request"), ("٣" * 10, "bad_request"), ("12345678\n", "not_found"), ("deadbeef", "not_found")],
)  # fmt: skip
async def test_bad_prefixes_are_refused_with_a_reason(store: Store, ann: Person, text: str, code: str) -> None:
    await store.ingest([ann.post("hello")])
    with pytest.raises(Refused) as err:
        await resolve_message_id(store, text)
    assert err.value.code == code, err.value.message


async def test_a_full_id_is_returned_unchanged_held_or_not(store: Store) -> None:
    assert await resolve_message_id(store, "ab" * 32) == "ab" * 32


async def test_key_prefixes_resolve_through_people_this_server_knows(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    await store.ingest([ann.post("hi"), ben.profile("Ben")])  # ann is known as an author, ben by a profile
    assert await resolve_key(store, ann.key[:8]) == ann.key
    assert await resolve_key(store, ben.key[:12]) == ben.key
    with pytest.raises(Refused) as err:
        await resolve_key(store, cat.key[:8])
    assert err.value.code == "not_found"
    assert await known_keys(store, "") == sorted([ann.key, ben.key])


async def test_people_by_handle_exact_and_by_prefix(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    await store.ingest([ann.profile("Ada Lovelace"), ben.profile("ada"), cat.profile("Adam", "ada fan")])
    assert [p.key for p in await people_named(store, "Ada_Lovelace")] == [ann.key]
    assert [p.key for p in await people_named(store, "ADA")] == [ben.key]  # not Ada Lovelace, not Adam's bio
    assert await people_named(store, "lovelace") == []
    assert [p.name for p in await people_starting(store, "ad")] == ["ada", "Adam", "Ada Lovelace"]
    assert [p.name for p in await people_starting(store, "ada_l")] == ["Ada Lovelace"]
    assert await people_starting(store, "") == [] and await people_named(store, '"; DROP') == []


async def test_two_people_with_one_name_are_both_found(store: Store, ann: Person, ben: Person) -> None:
    await store.ingest([ann.profile("Zoë"), ben.profile("zoë"), ann.profile("Zoë", at=1)])
    assert sorted(p.key for p in await people_named(store, "zoë")) == sorted([ann.key, ben.key])
    assert await people_named(store, "zoe") == []  # the index ignores diacritics; the handle does not


async def test_a_look_alike_name_is_never_taken_for_the_handle(store: Store, ann: Person, ben: Person) -> None:
    await store.ingest([ann.profile("Ada"), ben.profile("\u0410d\u0430")])  # Cyrillic А and а: drawn as "Ada"
    assert [p.key for p in await people_named(store, "ada")] == [ann.key]
    assert [p.key for p in await people_starting(store, "ad")] == [ann.key]
    await store.ingest([ann.profile("Ann")])  # the real Ada renames: the look-alike is still not "ada"
    assert await people_named(store, "ada") == []


async def test_a_name_with_an_invisible_inside_is_that_name(store: Store, ann: Person, ben: Person) -> None:
    """What prints as nothing is dropped from a handle (``names.folded``), as from names compared: "A\u200bda"
    reads, and is typed, as "Ada", so ``@ada`` is both people's, and a client asks which one is meant."""
    await store.ingest([ann.profile("Ada"), ben.profile("A\u200bda")])  # a zero-width space inside
    assert sorted(p.key for p in await people_named(store, "ada")) == sorted([ann.key, ben.key])
