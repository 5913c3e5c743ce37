"""@handles resolve to keys when a post is written; answers name the people a post mentions."""

from __future__ import annotations

import pytest

from murmur.client.api import ApiError, MurmurClient
from murmur.client.mentions import MentionRefused, completion, resolve_draft, resolve_text, show_mentions
from murmur.client.tui.drafts import post_draft
from murmur.keys import Identity, fingerprint
from murmur.message import sign_draft
from tests.server.conftest import Harness


async def named(server: Harness, name: str) -> tuple[Identity, MurmurClient]:
    who = Identity.generate()
    api = await server.member(who)
    await api.publish(sign_draft(who, {"kind": "profile", "body": {"name": name, "bio": ""}}))
    return who, api


async def test_handles_resolve_through_the_people_the_server_knows(server: Harness) -> None:
    ada, api = await named(server, "Ada Lovelace")
    bob, _ = await named(server, "Bob")
    text = await resolve_text(api, f"hi @bob and @Ada_Lovelace, @{bob.public_key[:10]} again; mail me@bob.org")
    assert text == (f"hi @{bob.public_key} and @{ada.public_key}, @{bob.public_key} again; mail me@bob.org")
    assert await resolve_text(api, "no mentions here, @ alone") == "no mentions here, @ alone"
    assert await resolve_text(api, f"@{bob.public_key} as is") == f"@{bob.public_key} as is"


async def test_unknown_and_ambiguous_handles_are_refused_with_candidates(server: Harness) -> None:
    first, api = await named(server, "Sam")
    second, _ = await named(server, "sam")
    with pytest.raises(MentionRefused) as err:
        await resolve_text(api, "hey @sam")
    assert fingerprint(first.public_key) in err.value.message and fingerprint(second.public_key) in err.value.message
    assert "\n" not in err.value.message
    with pytest.raises(MentionRefused, match="Nobody called @nobody"):
        await resolve_text(api, "hey @nobody")
    # Completion offers a key for people who share a handle, so what it writes always resolves.
    people = await api.people(prefix="sa")
    assert {completion(p, people) for p in people} == {f"@{first.public_key[:16]}", f"@{second.public_key[:16]}"}
    assert await resolve_text(api, f"hey {completion(people[0], people)}") == f"hey @{people[0]['key']}"


async def test_a_reply_keeps_its_tags_when_mentions_resolve(server: Harness) -> None:
    ada, api = await named(server, "Ada")
    _, api_bob = await named(server, "Bob")
    parent = sign_draft(ada, {"body": {"text": "question"}})
    await api.publish(parent)
    draft = await resolve_draft(api_bob, post_draft("cc @ada #ops", parent=parent))
    assert draft["body"]["text"] == f"cc @{ada.public_key} #ops"
    assert draft["tags"].count(["mention", ada.public_key]) == 1
    assert ["reply", parent["id"]] in draft["tags"] and ["hashtag", "ops"] in draft["tags"]


async def test_answers_carry_the_names_of_the_people_mentioned(server: Harness) -> None:
    ada, api = await named(server, "Ada")
    bob, api_bob = await named(server, "Bob")
    post = sign_draft(bob, {"body": {"text": await resolve_text(api_bob, "thanks @ada")}})
    await api_bob.publish(post)
    page = await api.timeline("local")
    assert page["names"][ada.public_key] == "Ada"
    assert (await api.thread(post["id"]))["names"][ada.public_key] == "Ada"
    assert (await api.notifications())["names"][ada.public_key] == "Ada"
    shown = show_mentions(post["body"]["text"], page["names"])
    assert shown == f"thanks @Ada ({fingerprint(ada.public_key)})" and ada.public_key not in shown
    assert show_mentions(f"@{'ab' * 32}", {}) == f"@{fingerprint('ab' * 32)}"


@pytest.mark.parametrize("query", ["", "name=&prefix=a", "name=" + "a" * 65, "other=1"])
async def test_people_asks_for_one_handle_or_prefix(server: Harness, query: str) -> None:
    api = await server.member()
    params = dict(p.split("=", 1) for p in query.split("&") if p)
    with pytest.raises(ApiError) as err:
        await api.request("GET", "/api/v1/people", params=params)
    assert (err.value.status, err.value.code) == (400, "bad_request")
