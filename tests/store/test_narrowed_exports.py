"""A selection of the log (a member moving to a new home, a filtered export) never widens what it carries: a
message narrowed by what it names leaves only with what narrows it, so wherever it is imported it is narrowed
alike, and nothing that anyone may not see here becomes public there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store, trust
from murmur.store.audience import Policy, for_anyone, moved_in, refuse_local
from murmur.store.export import ExportFilter, matching
from murmur.store.peers import add_peer, outbound
from tests.sync.test_scopes import T0, post, reaction


def boost(author: Identity, target: dict[str, Any]) -> dict[str, Any]:
    return sign_draft(author, {"kind": "boost", "created_at": T0, "body": {}, "tags": [["target", target["id"]]]})


async def public_ids(store: Store) -> set[str]:
    async with store.conn.execute(f"SELECT m.id FROM messages m WHERE {for_anyone('m')}") as cursor:
        return {bytes(r[0]).hex() for r in await cursor.fetchall()}


async def exported(store: Store, chosen: ExportFilter) -> list[bytes]:
    return [raw async for raw in matching(store, chosen)]


def ids(raws: list[bytes]) -> set[str]:
    return {str(orjson.loads(raw)["id"]) for raw in raws}


async def landed_public(raws: list[bytes], where: Path, database: str | None, policy: Policy) -> set[str]:
    """What is public on a fresh server once ``raws`` are imported through the door ``policy`` guards."""
    home = await Store.open(where, database=database)
    try:
        await home.ingest(raws, origin="import", policy=policy)
        return await public_ids(home)
    finally:
        await home.close()


async def test_a_member_moving_leaves_behind_what_they_wrote_about_others_narrowed_posts(
    store: Store, tmp_path: Path, fresh_database: Callable[[], str | None]
) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    scoped, local = post(ada, "inside only", "scope:inside"), post(ada, "here only", "local")
    about_others = [
        post(bob, "a public-signed reply", parent=scoped),
        reaction(bob, scoped),
        boost(bob, scoped),
        post(bob, "a reply to a local post", parent=local),
        reaction(bob, local),
    ]
    reply_to_his_reply = post(bob, "answering myself", parent=about_others[0])  # names only his own reply
    own_scoped = post(bob, "my inside post", "scope:inside")
    own_local = post(bob, "my local post", "local")
    about_own = [post(bob, "more on it", parent=own_scoped), reaction(bob, own_local), boost(bob, own_scoped)]
    everyone = post(bob, "for everyone")
    await store.ingest([scoped, local, *about_others, reply_to_his_reply, own_scoped, own_local, *about_own, everyone])
    here_public = await public_ids(store)

    raws = await exported(store, ExportFilter(authors=(bob.public_key,), include_local=True, moving=True))
    taken = ids(raws)
    # his own scoped post stays (a scope is this server's label), and what leans on it with it
    assert taken == {own_local["id"], everyone["id"], about_own[1]["id"]}
    landed = await landed_public(raws, tmp_path / "new.db", fresh_database(), moved_in(bob.public_key))
    assert landed == here_public & taken


async def test_a_filtered_export_keeps_out_what_its_narrowing_parent_is_not_chosen_with(
    store: Store, tmp_path: Path, fresh_database: Callable[[], str | None]
) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    early = sign_draft(
        bob, {"created_at": T0 - 10_000, "body": {"text": "old", "visibility": "scope:inside"}, "tags": []}
    )
    late_reply = post(bob, "a public-signed reply to my old inside post", parent=early)
    scoped = post(ada, "inside only", "scope:inside")
    about_ada = reaction(bob, scoped)
    await store.ingest([early, late_reply, scoped, about_ada])
    here_public = await public_ids(store)
    bundle, mine = refuse_local("bundle"), moved_in(bob.public_key)
    for n, (chosen, door) in enumerate(
        (
            (ExportFilter(authors=(bob.public_key,), include_local=True), bundle),
            (ExportFilter(since=T0 - 1, include_local=True), bundle),
            (ExportFilter(since=T0 - 1, authors=(bob.public_key,), include_local=True, moving=True), mine),
        )
    ):
        raws = await exported(store, chosen)
        if chosen.authors:  # Ada's post is not chosen, so neither is Bob's reaction to it
            assert about_ada["id"] not in ids(raws), chosen
        if chosen.since is not None:  # the old post is not chosen, so neither is the reply it narrows
            assert late_reply["id"] not in ids(raws), chosen
        assert await landed_public(raws, tmp_path / f"{n}.db", fresh_database(), door) <= here_public
    whole = ids(await exported(store, ExportFilter(authors=(bob.public_key,), include_local=True)))
    assert {early["id"], late_reply["id"]} <= whole  # chosen together, the reply is narrowed wherever it lands


async def test_a_scoped_post_does_not_move_by_file_to_another_servers_scope_of_that_name(
    store: Store, tmp_path: Path, fresh_database: Callable[[], str | None]
) -> None:
    """A scope is a label of the manifest of the server a post was written on: the moving export (`murmur export
    --mine`) leaves the member's scoped posts behind, and the moving door (`murmur import --mine`) refuses one a
    file brings all the same (an older server's export), so the new home never hands it to its own `inside`
    peers (another organisation), nor what names it as public."""
    bob = Identity.generate()
    own_scoped = post(bob, "my inside post", "scope:inside")
    signed_inside = [post(bob, "my inside reply", "scope:inside", parent=own_scoped), reaction(bob, own_scoped)]
    await store.ingest([own_scoped, *signed_inside])
    raws = await exported(store, ExportFilter(authors=(bob.public_key,), include_local=True, moving=True))
    assert own_scoped["id"] not in ids(raws) and not ids(raws) & {m["id"] for m in signed_inside}
    home = await Store.open(tmp_path / "new-home", database=fresh_database())
    try:
        their_inside = Identity.generate().public_key
        await add_peer(home, their_inside, "http://elsewhere.test")
        await trust.set_labels(home, Identity.generate(), their_inside, ["inside"])
        brought = [orjson.dumps(m) for m in (own_scoped, *signed_inside)]  # a file from elsewhere carries them
        results = await home.ingest(brought, origin="import", policy=moved_in(bob.public_key))
        assert [(r.status, r.code) for r in results[:2]] == [("refused", "scoped_post")] * 2
        page = await outbound(home, after=0, limit=100, exclude_origin=None, to=their_inside)
        assert not {bytes(i).hex() for i in page.ids} & {own_scoped["id"], signed_inside[0]["id"]}
        assert signed_inside[1]["id"] not in await public_ids(home)  # narrowed by the refused post's id
    finally:
        await home.close()
