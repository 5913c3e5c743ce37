"""Direct messages through a real home server in process: sealed on one device, fetched by each device of the
recipients and the sender's other devices from ``GET /api/v1/sealed``, announced on the live stream without
content, shown nowhere else, and opened only on the devices (murmur.client.conversations)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from murmur import direct
from murmur.client.api import ApiError, MurmurClient
from murmur.client.identity_check import checked_identity
from murmur.errors import ConfigError
from murmur.keys import Identity
from murmur.message import now_ms, sign_draft
from tests.dm_people import Device, Speaker
from tests.server.conftest import Harness
from tests.server.streaming import stream_events


async def joined(server: Harness, speaker: Speaker) -> MurmurClient:
    """The speaker's first device as a member, its key events published."""
    api = await server.member(speaker.devices[0].key)
    for event in speaker.events:
        assert (await api.publish(event))["status"] == "stored"
    return api


async def publish_events(api: MurmurClient, speaker: Speaker) -> None:
    for event in speaker.events:
        assert (await api.publish(event))["status"] in ("stored", "duplicate")


@pytest.fixture
async def ada_bo(server: Harness) -> tuple[Speaker, Speaker, MurmurClient, MurmurClient]:
    ada, bo = Speaker.new(), Speaker.new()
    ada.add()
    bo.add()
    return ada, bo, await joined(server, ada), await joined(server, bo)


async def test_every_device_of_each_side_reads_it_and_nobody_else(
    server: Harness, ada_bo: tuple[Speaker, Speaker, MurmurClient, MurmurClient], tmp_path: Path
) -> None:
    ada, bo, ada_api, bo_api = ada_bo
    cy = Speaker.new()
    cy_api = await joined(server, cy)
    sender = ada.devices[0].conversations(ada_api, ada.identity, tmp_path / "ada")
    sent = await sender.send([bo.identity], "canary-7f3 lunch at noon?")
    assert sent.devices == 4 and sent.audience == "local"  # Bo's two devices, both of Ada's; everyone is here

    readers = [
        (bo.devices[0], bo_api, bo.identity),
        (bo.devices[1], server.client(bo.devices[1].key), bo.identity),
        (ada.devices[1], server.client(ada.devices[1].key), ada.identity),
    ]
    for device, api, identity in readers:
        talks = device.conversations(api, identity, tmp_path / "readers")
        report = await talks.sync()
        assert (report.opened, report.refused) == (1, [])
        [conversation] = talks.conversations()
        assert conversation.id == sent.conversation
        assert set(conversation.participants) == {ada.identity, bo.identity}
        [message] = talks.messages(conversation.id)
        assert (message.sender, message.text, message.device) == (ada.identity, "canary-7f3 lunch at noon?",
                                                                  ada.devices[0].key.public_key)  # fmt: skip
        assert [m.id for m in talks.search("lunch")] == [message.id]
        assert (await talks.sync()).opened == 0  # the cursor moved: nothing twice

    outsider = cy.devices[0].conversations(cy_api, cy.identity, tmp_path / "cy")
    assert await outsider.sync() == type(await outsider.sync())(0, [])
    assert outsider.conversations() == []
    # the server holds it, and keeps it out of every reader's view
    assert (await cy_api.timeline("local"))["items"] == []
    assert (await cy_api.search("canary", kind="posts"))["posts"] == []
    raw = await server.state.store.get_raw(sent.id)
    assert raw is not None and b"canary" not in raw
    public = await sender.send([bo.identity], "canary-7f3 again", audience="public")
    async with httpx.AsyncClient(transport=server.transport, base_url="http://murmur.test") as web:
        for path in (f"/m/{public.id}", f"/m/{public.id}/signed.json"):
            assert (await web.get(path)).status_code == 404  # the web view shows no sealed message, even public


async def test_unread_counts_and_reading_marks_them_read(
    server: Harness, ada_bo: tuple[Speaker, Speaker, MurmurClient, MurmurClient], tmp_path: Path
) -> None:
    ada, bo, ada_api, bo_api = ada_bo
    sender = ada.devices[0].conversations(ada_api, ada.identity, tmp_path / "ada")
    first = await sender.send([bo.identity], "one")
    await sender.send([bo.devices[1].key.public_key], "two")  # a device's key names its identity
    reader = bo.devices[0].conversations(bo_api, bo.identity, tmp_path / "bo")
    await reader.sync()
    [conversation] = reader.conversations()
    assert (conversation.unread, conversation.last and conversation.last.text) == (2, "two")
    assert [m.text for m in reader.messages(first.conversation)] == ["one", "two"]
    assert reader.conversations()[0].unread == 0
    reply = await reader.send([ada.identity], "three", reply_to=reader.messages(first.conversation)[-1].id)
    assert reply.conversation == first.conversation
    assert [m.text for m in reader.messages(first.conversation)][-1] == "three"
    assert sender.conversations()[0].unread == 0  # what I send is read already
    await sender.sync()
    assert sender.conversations()[0].unread == 1


async def test_who_cannot_receive_is_told_what_to_do(server: Harness, tmp_path: Path) -> None:
    ada = Speaker.new()
    ada_api = await joined(server, ada)
    bare = await server.member()
    sender = ada.devices[0].conversations(ada_api, ada.identity, tmp_path / "ada")
    await bare.publish(sign_draft(bare.identity, {"kind": "post", "body": {"text": "hi"}}))
    with pytest.raises(ConfigError, match="murmur identity create"):
        await sender.send([bare.identity.public_key], "hello")
    with pytest.raises(ConfigError, match="no identity or key your server knows"):
        await sender.send([Identity.generate().public_key], "hello")
    with pytest.raises(ConfigError, match="murmur identity create"):
        await Device.new().conversations(bare, None, tmp_path / "bare").sync()
    with pytest.raises(ApiError) as refused:
        await bare.sealed()
    assert refused.value.code == "no_identity" and "murmur identity create" in str(refused.value)


async def test_a_removed_device_stops_receiving_and_a_new_one_reads_from_its_addition(
    server: Harness, ada_bo: tuple[Speaker, Speaker, MurmurClient, MurmurClient], tmp_path: Path
) -> None:
    ada, bo, ada_api, bo_api = ada_bo
    sender = ada.devices[0].conversations(ada_api, ada.identity, tmp_path / "ada")
    await sender.send([bo.identity], "before")
    gone = bo.devices[1]
    bo.remove(gone)
    late = bo.add()
    await publish_events(bo_api, bo)
    await sender.send([bo.identity], "after")
    newcomer = late.conversations(server.client(late.key), bo.identity, tmp_path / "late")
    report = await newcomer.sync()
    assert report.opened == 1 and [r.code for r in report.refused] == ["not_for_me"]
    assert [m.text for c in newcomer.conversations() for m in newcomer.messages(c.id)] == ["after"]
    with pytest.raises(ApiError) as refused:  # a removed device's requests get nothing sealed
        await server.client(gone.key).sealed()
    assert refused.value.code in ("no_identity", "not_member")


async def test_pages_and_limits(
    server: Harness, ada_bo: tuple[Speaker, Speaker, MurmurClient, MurmurClient], tmp_path: Path
) -> None:
    ada, bo, ada_api, bo_api = ada_bo
    sender = ada.devices[0].conversations(ada_api, ada.identity, tmp_path / "ada")
    for n in range(3):
        await sender.send([bo.identity], f"n{n}")
    first = await bo_api.sealed(0, limit=2)
    assert len(first["sealed"]) == 2 and first["more"] is True
    rest = await bo_api.sealed(first["next_cursor"], limit=2)
    assert len(rest["sealed"]) == 1 and rest["more"] is False
    for bad in ({"after": "-1"}, {"limit": "0"}, {"limit": "501"}, {"after": "x"}):
        with pytest.raises(ApiError) as refused:
            await bo_api.request("GET", "/api/v1/sealed", params=bad)
        assert refused.value.status == 400 and refused.value.code in ("bad_cursor", "bad_limit")


async def test_the_stream_announces_a_sealed_message_to_its_recipients_only_and_never_shows_it(
    server: Harness, ada_bo: tuple[Speaker, Speaker, MurmurClient, MurmurClient], tmp_path: Path
) -> None:
    ada, bo, ada_api, _ = ada_bo
    cy = Speaker.new()
    await joined(server, cy)
    sent = await ada.devices[0].conversations(ada_api, ada.identity, tmp_path / "ada").send([bo.identity], "psst")
    marker = sign_draft(ada.devices[0].key, {"kind": "post", "body": {"text": "marker", "visibility": "local"}})
    await ada_api.publish(marker)
    held = await server.state.store.get_raw(sent.id)
    assert held is not None
    bare = (await server.member()).identity  # a member with no identity: no devices to announce anything to
    for who, told in ((bo.devices[1].key, True), (cy.devices[0].key, False), (ada.devices[0].key, True), (bare, False)):
        events = await stream_events(server, who, lambda seen: any(d.get("message", {}).get("id") == marker["id"]
                                                                   for _, d in seen))  # fmt: skip
        shown = [d["message"]["id"] for name, d in events if name == "message"]
        assert sent.id not in shown and marker["id"] in shown
        announced = [d for name, d in events if name == "sealed"]
        assert len(announced) == told and all(set(d) == {"seq"} for d in announced)


async def test_a_device_resolves_an_identity_from_the_signed_events_the_server_holds(
    server: Harness, ada_bo: tuple[Speaker, Speaker, MurmurClient, MurmurClient]
) -> None:
    _, bo, ada_api, _ = ada_bo
    served = await ada_api.identity_of(bo.identity)
    for name in (bo.identity, bo.devices[1].key.public_key):  # an identity, or one of its devices' keys
        answer = await ada_api.identity_events(name)
        assert answer["identity"] == bo.identity and len(answer["events"]) == len(bo.events)
        assert await checked_identity(ada_api, name, at=0) == served
    assert await checked_identity(ada_api, Identity.generate().public_key, at=0) is None
    with pytest.raises(ApiError) as bad:
        await ada_api.identity_events("zz")
    assert bad.value.code == "bad_id"


async def test_each_sealed_message_says_when_it_reached_the_server(
    ada_bo: tuple[Speaker, Speaker, MurmurClient, MurmurClient], tmp_path: Path
) -> None:
    ada, bo, ada_api, bo_api = ada_bo
    before = now_ms()
    await ada.devices[0].conversations(ada_api, ada.identity, tmp_path).send([bo.identity], "when?")
    [item] = (await bo_api.sealed())["sealed"]
    assert before <= item["received_at"] <= now_ms()


async def test_a_members_door_refuses_a_backdated_sealed_message_with_a_reason(
    ada_bo: tuple[Speaker, Speaker, MurmurClient, MurmurClient],
) -> None:
    ada, bo, ada_api, _ = ada_bo
    inner = direct.inner_message([ada.identity, bo.identity], ada.identity, ada.devices[0].key.public_key, "old",
                                 now_ms() - 3_600_000)  # fmt: skip
    with pytest.raises(ApiError) as refused:
        await ada_api.publish(direct.seal_direct(inner, ada.devices[0].x25519, [bo.devices[0].public], "public"))
    assert (refused.value.status, refused.value.code) == (422, "too_old")


async def test_a_cursor_names_its_message_and_one_that_moved_is_refused(
    server: Harness, ada_bo: tuple[Speaker, Speaker, MurmurClient, MurmurClient], tmp_path: Path
) -> None:
    ada, bo, ada_api, bo_api = ada_bo
    cy_api = await joined(server, Speaker.new())
    sender = ada.devices[0].conversations(ada_api, ada.identity, tmp_path / "ada")
    for n in range(2):
        await sender.send([bo.identity], f"n{n}")
    first, second = (await bo_api.sealed())["sealed"]
    seq, at = first["seq"], first["message"]["id"]
    assert [i["seq"] for i in (await bo_api.sealed(seq, at=at))["sealed"]] == [second["seq"]]
    assert len((await bo_api.sealed(0, at=at))["sealed"]) == 2  # the start is no position: nothing to check
    moved = [
        (bo_api, seq, second["message"]["id"]),  # another message of Bo's is there
        (bo_api, second["seq"] + 1, second["message"]["id"]),  # nothing is there (a restored log ends before)
        (bo_api, seq - 1, at),  # a message is there that is none of Bo's sealed ones
        (cy_api, seq, at),  # it is there, but not Cy's to fetch: she learns nothing of it
    ]
    for api, after, named in moved:
        with pytest.raises(ApiError) as refused:
            await api.sealed(after, at=named)
        assert (refused.value.status, refused.value.code) == (409, "cursor_moved")
        assert f"Position {after} " in refused.value.message and "after=0" in refused.value.message
    for bad in ("x" * 64, at.upper(), at[:63], ""):
        with pytest.raises(ApiError) as refused:
            await bo_api.request("GET", "/api/v1/sealed", params={"after": seq, "at": bad})
        assert (refused.value.status, refused.value.code) == (400, "bad_cursor")
