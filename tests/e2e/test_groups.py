"""A group's membership and moderation converge on two `murmur serve` processes that receive its messages in
different orders: each server gets part of them by a bundle, in an order of its own, and the rest from the other
by federation (push and pull, in the other's log order)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from murmur.keys import Identity
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, create_draft, membership_draft
from murmur.message import sign_draft
from murmur.sync.bundle import BundleWriter
from tests.e2e.harness import Person, ServerProcess, stored_ids, wait_for
from tests.e2e.test_federation import member as reader
from tests.e2e.test_federation import peer, server

pytestmark = pytest.mark.timeout(240)


def scenario(start: int) -> tuple[str, list[dict[str, Any]], dict[str, str]]:
    """An approval group: an approval that comes before its signer was appointed (no effect), the approvals
    that count, a post hidden with a reason, a removal, and a post written after it."""
    owner, mod, ann, ben = (Identity.generate() for _ in range(4))
    clock = iter(range(start, start + 100_000, 1000))

    def sign(who: Identity, draft: dict[str, Any]) -> dict[str, Any]:
        return sign_draft(who, draft, created_at=next(clock))

    def post(who: Identity, text: str) -> dict[str, Any]:
        return sign(who, {"kind": "post", "body": {"text": text}, "tags": [["group", g]]})

    create = sign(owner, create_draft("Fix CI", description="Builds take an hour", approval=True))
    g = create["id"]
    messages = [
        create,
        sign(ann, membership_draft("group_join", g)),
        sign(mod, about_person_draft("group_approve", g, ann.public_key)),  # not a moderator yet
        sign(owner, about_person_draft("group_mod", g, mod.public_key)),
        sign(mod, about_person_draft("group_approve", g, ann.public_key)),
        sign(ben, membership_draft("group_join", g)),
        sign(mod, about_person_draft("group_approve", g, ben.public_key)),
    ]
    spam = post(ann, "buy my stuff")
    kept = post(ben, "the build is at 40 minutes")
    messages += [
        spam,
        kept,
        sign(mod, about_post_draft("group_hide", g, spam["id"], reason="spam")),
        sign(mod, about_person_draft("group_remove", g, ann.public_key)),
    ]
    late = post(ann, "written after the removal")
    messages.append(late)
    keys = {"owner": owner.public_key, "mod": mod.public_key, "ann": ann.public_key, "ben": ben.public_key}
    return g, messages, {**keys, "spam": spam["id"], "kept": kept["id"], "late": late["id"]}


def bundle(path: Path, messages: list[dict[str, Any]]) -> Path:
    with path.open("wb") as out, BundleWriter(out, len(messages), {}) as writer:
        for message in messages:
            writer.add(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    return path


def seen_by(person: Person, g: str) -> tuple[Any, ...]:
    """What a member of one server reads of the group, without what differs by server (log positions, origins,
    names) or by reader (their own place in it)."""
    info = {k: v for k, v in person.json("group", "info", g).items() if k not in ("you", "names", "shared_names")}
    info["pinned"] = [i["message"]["id"] for i in info["pinned"]]
    members = {k: v for k, v in person.json("group", "members", g).items() if k not in ("names", "shared_names")}
    page = person.json("timeline", f"group:{g}")
    items = [(i["message"]["id"], i["hidden"], i["hidden_by"], i["reason"]) for i in page["items"]]
    return info, members, items


Split = Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]], list[dict[str, Any]]]]
MODERATION = ("group_approve", "group_remove", "group_mod", "group_hide")


def halves_jumbled(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A: every other message, newest first, the creation last (all of them wait for it); B: the rest, shuffled."""
    rest = messages[::2]
    return [*messages[1::2][::-1], messages[0]], random.Random(14).sample(rest, len(rest))


def moderation_apart(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A: the moderators' messages, newest first; B: the creation, joins and posts, newest first."""
    moderation = [m for m in messages if m["kind"] in MODERATION]
    return moderation[::-1], [m for m in messages if m["kind"] not in MODERATION][::-1]


def all_on_b(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Everything reaches B newest first; A has it only by federation, in B's order."""
    return [], messages[::-1]


@pytest.mark.parametrize("split", [halves_jumbled, moderation_apart, all_on_b])
def test_membership_and_moderation_converge_whatever_the_order(
    tmp_path: Path, procs: list[ServerProcess], split: Split
) -> None:
    a, b = server(tmp_path, "a"), server(tmp_path, "b")
    procs.extend([a, b])
    peer(a, b, "b")
    peer(b, a, "a")
    on_a, on_b = reader(tmp_path, a, "ada"), reader(tmp_path, b, "bo")
    g, messages, who = scenario(int(time.time() * 1000) - 3_600_000)
    for person, proc, part in zip((on_a, on_b), (a, b), split(messages), strict=True):
        if part:
            person.run("import", "--data", str(proc.data), str(bundle(tmp_path / f"{proc.data.name}.murmur", part)))
    every = {m["id"] for m in messages}
    wait_for(lambda: every <= set(stored_ids(a)) & set(stored_ids(b)))

    state = seen_by(on_a, g)
    assert seen_by(on_b, g) == state
    info, members, items = state
    assert info["moderators"] == [who["mod"]] and info["members"] == 3
    roles = {m["key"]: m["role"] for m in members["members"]}
    assert roles == {who["owner"]: "owner", who["mod"]: "moderator", who["ben"]: "member"}
    assert [p["key"] for p in members["removed"]] == [who["ann"]] and members["pending"] == []
    assert items == [(who["kept"], False, None, None), (who["spam"], True, who["mod"], "spam")]
    assert who["late"] not in [i[0] for i in items]
