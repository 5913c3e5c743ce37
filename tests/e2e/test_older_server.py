"""Edits and groups cross a server of the version before them, and the new servers on both sides agree.

Three real processes in a line, A - O - C, with no link between A and C: A and C run today's program, O stands in
for the version before edits and groups (tests/e2e/older.py: today's program with those kinds and the ``group``
tag taken out of the registry). Everything is written on A; C has it only through O, which carries edits and
group messages as kinds it does not know (docs/protocol.md §7.3) and shows none of them. Peer modes pin which
loop carries both hops (pushes only, or pulls only); repair brings back what C lost, out of O.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError, MurmurClient
from murmur.keys import Identity
from murmur.message import sign_draft
from tests.e2e.harness import ServerProcess, admin, stored_ids, wait_for
from tests.e2e.test_edits import edit_draft, found, history, shown
from tests.e2e.test_federation import member
from tests.e2e.test_groups import scenario, seen_by
from tests.e2e.test_mixed_versions import FAST, peer
from tests.e2e.test_repair import bring, drop, sync_repair

pytestmark = pytest.mark.timeout(300)

OLDER = "tests.e2e.older"


def start(tmp_path: Path, name: str, procs: list[ServerProcess], module: str = "murmur.client.cli") -> ServerProcess:
    proc = ServerProcess(tmp_path / name, config=FAST, module=module).start()
    procs.append(proc)
    return proc


def link(upstream: ServerProcess, downstream: ServerProcess, way: str) -> None:
    """Messages go from ``upstream`` to ``downstream`` by ``upstream``'s push only, or ``downstream``'s pull only."""
    if way == "push":
        peer(upstream, downstream, "push-pull")
        peer(downstream, upstream, "serve-only")
    else:
        peer(downstream, upstream, "pull-only")
        peer(upstream, downstream, "serve-only")


def post(author: Identity, text: str, at: int) -> dict[str, Any]:
    return sign_draft(author, {"kind": "post", "body": {"text": text}, "tags": []}, created_at=at)


def edit(author: Identity, target: dict[str, Any], text: str, at: int) -> dict[str, Any]:
    return sign_draft(author, edit_draft(target["id"], text, at))


async def as_member(proc: ServerProcess, ask: Any, who: Identity | None = None) -> Any:
    """``ask(api)`` as a new member of ``proc`` (``who``, else someone new); an ``ApiError`` is returned, not
    raised."""
    async with MurmurClient(proc.url, who or Identity.generate()) as api:
        await api.join(admin(proc.data, "invite")["code"])
        try:
            return await ask(api)
        except ApiError as exc:
            return exc


def code(answer: Any) -> str:
    assert isinstance(answer, ApiError), answer
    return answer.code


@pytest.mark.parametrize("way", ["push", "pull"])
def test_edits_and_groups_cross_an_older_server_and_converge(
    tmp_path: Path, procs: list[ServerProcess], way: str
) -> None:
    a, o, c = start(tmp_path, "a", procs), start(tmp_path, "o", procs, OLDER), start(tmp_path, "c", procs)
    link(a, o, way)
    link(o, c, way)
    on_a, on_c = member(tmp_path, a, "ada"), member(tmp_path, c, "cy")
    ann = Identity.generate()
    t0 = int(time.time() * 1000) - 3_600_000

    # An edit that reaches A before its post: it waits there, relayed to no one (it signs no audience, and the post
    # could be scoped: docs/protocol.md §11.1) until the post comes; then it crosses O like the rest.
    late_post = post(ann, "the post came late", t0)
    waited = edit(ann, late_post, "the edit came first", t0 + 1000)
    bring(a, [waited], tmp_path / "first.murmur")

    # Two edits of one post arriving newest first; a post edited, then deleted; a group's whole life, newest first
    # (every message waits for the group's creation).
    edited = post(ann, "first words", t0 + 2000)
    newer, older = edit(ann, edited, "third words", t0 + 4000), edit(ann, edited, "second words", t0 + 3000)
    doomed = post(ann, "soon gone", t0 + 5000)
    doomed_edit = edit(ann, doomed, "gone soon", t0 + 6000)
    g, group_messages, who = scenario(t0 + 10_000)
    rest = [late_post, edited, newer, older, doomed, doomed_edit, *group_messages[::-1]]
    bring(a, rest, tmp_path / "rest.murmur")
    everything = {m["id"] for m in (waited, *rest)}
    wait_for(lambda: everything <= set(stored_ids(c)))
    assert everything <= set(stored_ids(o))

    for person in (on_a, on_c):
        assert shown(person, edited["id"]) == ("third words", True)
        assert history(person, edited["id"]) == ["first words", "second words", "third words"]
        assert shown(person, late_post["id"]) == ("the edit came first", True)
    assert seen_by(on_c, g) == seen_by(on_a, g)
    info, members, items = seen_by(on_c, g)
    assert info["moderators"] == [who["mod"]] and [p["key"] for p in members["removed"]] == [who["ann"]]
    assert items == [(who["kept"], False, None, None), (who["spam"], True, who["mod"], "spam")]

    # The delete takes the post and its versions from every server, search included: O does not know the edit is
    # a version, but a carried message goes with its author's deleted target (§7.3).
    bring(a, [sign_draft(ann, {"kind": "delete", "tags": [["target", doomed["id"]]]}, created_at=t0 + 7000)],
          tmp_path / "delete.murmur")  # fmt: skip
    gone = {doomed["id"], doomed_edit["id"]}
    wait_for(lambda: not gone & set(stored_ids(c)) and not gone & set(stored_ids(o)))
    assert not gone & set(stored_ids(a))
    assert found(on_c, "gone") == found(on_a, "gone") == []

    # O shows posts as signed, keeps no versions and no groups, and takes neither from its own members: no 500.
    on_o = member(tmp_path, o, "otto")
    assert shown(on_o, edited["id"]) == ("first words", False)
    assert asyncio.run(as_member(o, lambda api: api.message(newer["id"])))["kind"] == "edit"
    assert code(asyncio.run(as_member(o, lambda api: api.history(edited["id"])))) == "not_found"
    assert code(asyncio.run(as_member(o, lambda api: api.group(g)))) == "not_found"
    federated = {i["message"]["id"] for i in on_o.json("timeline", "federated")["items"]}
    assert {who["kept"], who["spam"], edited["id"]} <= federated and not federated & {newer["id"], g}
    mine = Identity.generate()
    own_edit = sign_draft(mine, edit_draft(post(mine, "mine", t0)["id"], "x", t0 + 1000))
    refused = asyncio.run(as_member(o, lambda api: api.publish(own_edit), mine))
    assert code(refused) == "unknown_kind"

    # Repair: what C lost comes back out of O, which finds C lacks it (O dials) or offers it in its repair set (C
    # dials), whichever dials the other here.
    lost = [newer["id"], g, who["late"]]
    drop(c, lost)
    report = sync_repair(c if way == "pull" else o)
    assert report["error"] == "" and report["stored" if way == "pull" else "sent"] == len(lost), report
    assert shown(on_c, edited["id"]) == ("third words", True)
    assert seen_by(on_c, g) == seen_by(on_a, g)


def test_a_group_post_keeps_its_tag_through_the_older_server(tmp_path: Path, procs: list[ServerProcess]) -> None:
    """O carries a post's ``group`` tag, a tag its version does not know, byte for byte: C files it in the group."""
    a, o, c = start(tmp_path, "a", procs), start(tmp_path, "o", procs, OLDER), start(tmp_path, "c", procs)
    link(a, o, "push")
    link(o, c, "pull")
    on_a, on_c = member(tmp_path, a, "ada"), member(tmp_path, c, "cy")
    g = on_a.json("group", "create", "Fix CI", "--description", "Builds take an hour")["id"]
    said = on_a.json("post", "--group", g, "the build is at 40 minutes")["id"]
    wait_for(lambda: said in stored_ids(c))
    assert [i["message"]["id"] for i in on_c.json("timeline", f"group:{g}")["items"]] == [said]
    assert [i["message"]["id"] for i in on_a.json("timeline", f"group:{g}")["items"]] == [said]
