"""A profile asked by an identity: its devices' newest profile, the identity's devices and home, and its fork
shown, never resolved (docs/api.md, GET /api/v1/profiles/{key}; docs/protocol.md §13)."""

from __future__ import annotations

from typing import Any

from murmur.client.render import render_profile
from murmur.client.tui import present
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store.peers import add_peer, same_server
from tests.counted import stream
from tests.identity_logs import LAPTOP, PHONE, SPARE, TABLET, Log
from tests.server.conftest import Harness


def profile_by(device: Identity, made: Log, name: str) -> dict[str, Any]:
    draft = {"kind": "profile", "body": {"name": name, "bio": ""}, "tags": [["identity", made.identity]]}
    return sign_draft(device, draft, created_at=made.at + 1)


async def test_an_identitys_profile_is_its_devices_newest_and_shows_a_fork(server: Harness) -> None:
    made = Log()
    added = made.add(LAPTOP, PHONE, "phone")
    await server.state.store.ingest([*made.events, profile_by(PHONE, made, "Ada")], origin="peer")
    reader = await server.member()

    profile = await reader.profile(made.identity)
    assert (profile["key"], profile["name"]) == (made.identity, "Ada")
    assert [d["key"] for d in profile["identity"]["devices"]] == [LAPTOP.public_key, PHONE.public_key]
    assert profile["identity"]["fork"] is None and "FORK" not in render_profile(profile)
    assert (await reader.profile(PHONE.public_key))["identity"] is None  # a key stays a key

    # two devices' events claiming one place: a key was copied; the profile says so, it picks no branch
    made.add(LAPTOP, TABLET, "tablet", prior=added["id"])
    made.add(PHONE, SPARE, "spare", prior=added["id"])
    await server.state.store.ingest(made.events[-2:], origin="peer")
    profile = await reader.profile(made.identity)
    assert profile["identity"]["fork"]["place"] == added["id"]
    assert "FORK: 2 key events" in render_profile(profile)
    assert "FORK: 2 key events" in str(present.profile_content(profile, "here"))


async def test_a_move_shows_whether_this_server_trusts_the_new_home(server: Harness) -> None:
    made = Log()
    made.move(LAPTOP, "https://New.Example:443/")
    assert {r.status for r in await server.state.store.ingest(made.events, origin="peer")} == {"stored"}
    reader = await server.member()

    profile = await reader.profile(made.identity)
    assert profile["identity"]["home_trust"] == "not_peer"  # nothing is fetched from a server nobody added
    assert "moved to https://New.Example:443/, not a peer of this server; ask your admin to add it" in (
        render_profile(profile)
    )
    await add_peer(server.state.store, Identity.generate().public_key, "https://new.example", name="new")
    profile = await reader.profile(made.identity)
    assert profile["identity"]["home_trust"] == "peer"
    assert "(a peer of this server)" in str(present.profile_content(profile, "here"))

    made.move(LAPTOP, server.state.config.url + "/")  # home again
    assert (await server.state.store.ingest(made.events[-1:], origin="peer"))[0].status == "stored"
    assert (await reader.profile(made.identity))["identity"]["home_trust"] == "here"


def test_one_server_is_named_by_one_url_whatever_its_spelling() -> None:
    assert same_server("https://a.example", "HTTPS://A.example:443/")
    assert same_server("http://a.example:8080/m/", "http://a.example:8080/m")
    assert not same_server("http://a.example", "https://a.example")
    assert not same_server("https://a.example", "https://a.example:8443")
    assert not same_server("https://a.example/m", "https://a.example/n")
    assert not same_server("https://a.example:x", "https://a.example")


async def test_followers_of_an_identity_or_of_its_devices_are_told_it_moved(server: Harness) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    fan, old_fan, other = Identity.generate(), Identity.generate(), Identity.generate()

    def follow(who: Identity, subject: str) -> dict[str, Any]:
        return sign_draft(who, {"kind": "follow", "body": {}, "tags": [["subject", subject]]}, created_at=made.at)

    await server.state.store.ingest(
        [*made.events, follow(fan, made.identity), follow(old_fan, LAPTOP.public_key)], origin="peer"
    )
    made.move(PHONE, "https://new.example")
    await server.state.store.ingest(made.events[-1:], origin="peer")
    for who, told in ((fan, True), (old_fan, True), (other, False)):
        items = (await (await server.member(who)).notifications())["items"]
        assert [i["kind"] for i in items if i["kind"] == "move"] == (["move"] if told else [])
    [item] = (await server.client(fan).notifications())["items"]  # a member by now
    assert item["identity"] == made.identity and item["actor"] == PHONE.public_key


async def test_an_identitys_profile_names_the_device_whose_public_messages_are_missing(server: Harness) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    posts = stream(PHONE, 5, identity=made.identity, start=made.at + 10)
    held = [posts[0], posts[4]]  # the phone's 2, 3 and 4 never came
    await server.state.store.ingest([*made.events, profile_by(PHONE, made, "Ada"), *held], origin="peer")
    reader = await server.member()
    profile = await reader.profile(made.identity)
    assert profile["missing"] == [
        {"device": PHONE.public_key, "device_name": "phone", "count": 3, "ranges": [[2, 4]]}
    ]
    assert "3 public messages from Ada's phone are not on this server" in render_profile(profile)


async def test_a_thread_names_the_missing_messages_of_every_device_of_its_participants(server: Harness) -> None:
    """Ada wrote in the thread from her laptop; her phone's public messages have a gap (a reply there, perhaps):
    the thread names the phone, as her profile does."""
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    root = made.post(LAPTOP, "what do you all think?")
    posts = stream(PHONE, 3, identity=made.identity, start=made.at + 10)
    await server.state.store.ingest([*made.events, root, posts[0], posts[2]], origin="peer")
    reader = await server.member()
    thread = await reader.thread(root["id"])
    assert thread["missing"] == [{"device": PHONE.public_key, "device_name": "phone", "count": 1, "ranges": [[2, 2]]}]
