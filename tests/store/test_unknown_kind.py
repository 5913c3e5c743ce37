"""A kind this version does not know is carried: stored as public, relayed, never indexed, told or shown.

murmur.kinds.unknown; docs/protocol.md §7.3.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from store_people import Person

from murmur.errors import Refused
from murmur.store import Store, timelines
from murmur.store.audience import refuse_local, signed_by
from murmur.store.notifications import notifications
from murmur.store.peers import outbound
from murmur.store.search import search_posts
from murmur.sync.index import index_for, visible_raws
from murmur.sync.transfer import ExportFilter, export_bundle, import_bundle
from murmur.validate import check


def survey(person: Person, *, tags: list[list[str]] | None = None, **body: str) -> dict[str, Any]:
    return person.sign("survey", {"question": "lunch at noon?", **body}, tags or [], None)


async def count(store: Store, sql: str) -> int:
    async with store.conn.execute(sql) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def test_an_unknown_kind_is_stored_as_public_and_nothing_is_derived_from_it(
    store: Store, ann: Person, ben: Person
) -> None:
    post = ann.post("a question")
    tags = [["reply", post["id"]], ["root", post["id"]], ["mention", ann.key], ["hashtag", "lunch"], ["x", "y"]]
    carried = survey(ben, tags=tags, text="lunch")
    results = await store.ingest([post, carried], origin="peer:" + "ab" * 32, policy=refuse_local("peer"))
    assert [r.status for r in results] == ["stored", "stored"]
    raw = await store.get_raw(carried["id"])
    assert raw is not None
    async with store.conn.execute("SELECT kind, visibility FROM messages WHERE seq = ?", (results[1].seq,)) as c:
        assert await c.fetchall() == [("survey", "public")]
    # Not indexed: no mention, hashtag, search text or notice; in no timeline.
    assert await count(store, f"SELECT count(*) FROM mentions WHERE seq = {results[1].seq}") == 0
    assert await count(store, f"SELECT count(*) FROM hashtags WHERE seq = {results[1].seq}") == 0
    assert (await search_posts(store, "lunch")).items == []
    assert (await notifications(store, ann.key)).items == []
    for page in (
        await timelines.local(store),
        await timelines.federated(store),
        await timelines.mentions(store, ann.key),
        await timelines.hashtag(store, "lunch"),
        await timelines.author(store, ben.key),
    ):
        assert all(item.id != carried["id"] for item in page.items)
    # Not counted as a reply to the post it names: the post's thread does not show it either.
    [entry] = (await timelines.federated(store)).items
    assert (entry.id, entry.replies) == (post["id"], 0)
    # Relayed: push, pull and repair all see it.
    assert raw in [r for _, r in (await outbound(store, after=0, limit=10, exclude_origin=None)).entries]
    assert await visible_raws(store, [bytes.fromhex(carried["id"])])
    assert len(await index_for(store).current()) == 2


async def test_an_unknown_kind_about_a_local_post_stays_here(store: Store, ann: Person, ben: Person) -> None:
    local = ann.post("team only", visibility="local")
    carried = survey(ben, tags=[["target", local["id"]]])
    for order in ([carried, local], [local, carried]):
        await store.ingest(order[:1])
        await store.ingest(order[1:])
    assert (await outbound(store, after=0, limit=10, exclude_origin=None)).entries == []
    assert await visible_raws(store, [bytes.fromhex(carried["id"])]) == []


async def test_its_author_can_delete_it_in_either_order(store: Store, ann: Person, ben: Person) -> None:
    first, second = survey(ann), survey(ann, text="again")
    [stored] = await store.ingest([first])
    await store.ingest([ann.delete(first)])
    assert stored.status == "stored" and await store.get_raw(first["id"]) is None
    await store.ingest([ann.delete(second)])
    [late] = await store.ingest([second])
    assert late.status == "deleted"
    [other] = await store.ingest([ben.delete(survey(ann, text="not yours"))])
    assert other.status == "stored"  # a tombstone by someone else removes nothing


async def test_it_goes_with_its_authors_target_when_that_is_deleted(store: Store, ann: Person, ben: Person) -> None:
    """As an edit goes with its post: a server that does not know edits holds none of a deleted post."""
    post, later_post = ann.post("soon gone"), ann.post("gone later")
    about, others = survey(ann, tags=[["target", post["id"]]]), survey(ben, tags=[["target", post["id"]]])
    await store.ingest([post, about, others])
    await store.ingest([ann.delete(post)])
    assert await store.get_raw(about["id"]) is None and await store.get_raw(others["id"]) is not None
    [late] = await store.ingest([survey(ann, text="after", tags=[["target", post["id"]]])])
    assert late.status == "deleted"  # once the delete is held, what goes with its target is not kept
    same_batch = survey(ann, tags=[["target", later_post["id"]]])
    results = await store.ingest([later_post, same_batch, ann.delete(later_post)])
    assert [r.status for r in results] == ["deleted", "deleted", "stored"]


@pytest.mark.parametrize(
    ("body", "tags", "code"),
    [
        ({"visibility": "local"}, [], "bad_value"),
        ({"visibility": "inside"}, [], "bad_value"),
        ({"Question": "x"}, [], "extra_field"),
        ({}, [["target", "not an id"]], "bad_tag"),
        ({}, [["mention", "00" * 32]], "bad_tag"),
        ({}, [["hashtag", "Upper"]], "bad_tag"),
        ({}, [["Bad-Name", "x"]], "bad_tag"),
        ({}, [["x", "1"], ["x", "1"]], "bad_tag"),
        ({}, [["x", str(n)] for n in range(65)], "bad_tag"),
    ],
)
def test_an_unknown_kind_is_checked_for_shape(
    ann: Person, body: dict[str, str], tags: list[list[str]], code: str
) -> None:
    with pytest.raises(Refused) as info:
        check(ann.sign("survey", body, tags, None))
    assert info.value.code == code


def test_a_body_value_that_is_not_a_string_is_refused(ann: Person) -> None:
    message = survey(ann)
    message["body"]["seats"] = 4
    with pytest.raises(Refused) as info:
        check(message)
    assert info.value.code == "wrong_type"


@pytest.mark.parametrize("name", ["Poll", "", "poll-x", "9poll", "p" * 33, "pöll"])
def test_a_kind_that_is_no_kind_name_is_refused(ann: Person, name: str) -> None:
    with pytest.raises(Refused) as info:
        check(ann.sign(name, {}, [], None))
    assert info.value.code == "unknown_kind"


async def test_a_member_cannot_publish_a_kind_the_home_server_does_not_know(store: Store, ann: Person) -> None:
    [result] = await store.ingest([survey(ann)], origin="local", policy=signed_by(ann.key))
    assert (result.status, result.code) == ("refused", "unknown_kind")
    [known] = await store.ingest([ann.post()], origin="local", policy=signed_by(ann.key))
    assert known.status == "stored"


async def test_a_bundle_carries_it_from_store_to_store(tmp_path: Path, store: Store, ann: Person) -> None:
    carried = survey(ann)
    await store.ingest([carried], origin="peer:" + "ab" * 32, policy=refuse_local("peer"))
    out = io.BytesIO()
    assert await export_bundle(store, out, ExportFilter()) == 1
    other = await Store.open(tmp_path / "other.db")
    try:
        report = await import_bundle(other, io.BytesIO(out.getvalue()))
        assert report.stored == 1 and await other.get_raw(carried["id"]) is not None
    finally:
        await other.close()
