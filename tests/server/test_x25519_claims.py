"""A device may list only the X25519 key it provably holds (docs/protocol.md §13.2, ``x25519_not_derived``): one
claiming another's is refused at the server's door, so it can neither stop a private group nor be routed
someone else's sealed feed; and a reader meeting such a claim anyway (a log held from before the rule, switched
off here) leaves the claimed device out of the group's sets, with its reason, rather than refuse the set."""

from __future__ import annotations

from pathlib import Path

import pytest

from murmur.client.api import ApiError
from murmur.keys import Identity
from murmur.kinds import key_log
from tests.dm_people import Device, Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import texts
from tests.server.test_private_groups_faults import pair
from tests.server.test_sealed_api import joined, publish_events


async def refused_code(api_publish: object, event: dict[str, object]) -> str:
    try:
        result = await api_publish(event)  # type: ignore[operator]
    except ApiError as exc:
        return exc.code
    assert result["status"] == "refused", result
    return str(result["code"])


async def test_a_member_claiming_anothers_x25519_is_refused_and_the_group_goes_on(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    mallory = Speaker.new()
    m_api = await joined(server, mallory)
    await laptop.invite(group, [mallory.identity])
    mallory.add(Device(Identity.generate(), bog.talks.x25519))  # Bo's public key, under a key of her own
    assert await refused_code(m_api.publish, mallory.events[-1]) == "x25519_not_derived"
    await laptop.post(group, "still here?")
    await laptop.remove(group, mallory.identity)
    await laptop.post(group, "after Mallory left")
    report = await bog.sync()
    assert [u.code for u in report.unread] == [] and report.skipped == {}
    assert texts(bog, group) == ["still here?", "after Mallory left"]


async def test_a_claim_of_anothers_x25519_gets_none_of_their_sealed_feed(server: Harness, tmp_path: Path) -> None:
    ada, bo, mallory = Speaker.new(), Speaker.new(), Speaker.new()
    a_api, _, m_api = await joined(server, ada), await joined(server, bo), await joined(server, mallory)
    sent = await ada.devices[0].conversations(a_api, ada.identity, tmp_path / "ada").send([bo.identity], "hi Bo")
    mallory.add(Device(Identity.generate(), ada.devices[0].x25519))  # by an added device
    assert await refused_code(m_api.publish, mallory.events[-1]) == "x25519_not_derived"
    # by the first device of a new identity: its inception is refused, and so is every event naming it
    eve = Speaker.new(first=Device(Identity.generate(), ada.devices[0].x25519))
    e_api = await server.member(eve.devices[0].key)
    assert await refused_code(e_api.publish, eve.events[0]) == "x25519_not_derived"
    assert sent.id not in {i["message"]["id"] for i in (await m_api.sealed())["sealed"]}
    with pytest.raises(ApiError) as none:  # her key speaks for no identity: no feed at all
        await e_api.sealed()
    assert none.value.status == 403


async def test_a_claim_held_from_before_leaves_the_claimed_device_out_not_the_group(
    server: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewer's case, with the rule off (as on a server and devices holding a log from before it): one
    member claiming another's X25519 key used to stop every post (``bad_recipient``) and, once removed, every later
    epoch for good. Now the device that does not hold the key is left out of the sets, and said."""
    monkeypatch.setattr(key_log, "x25519_unheld", lambda key, x25519: None)
    laptop, bog, group = await pair(server, tmp_path)
    mallory = Speaker.new()
    m_api = await joined(server, mallory)
    await laptop.invite(group, [mallory.identity])
    claimant = mallory.add(Device(Identity.generate(), bog.talks.x25519))
    await publish_events(m_api, mallory)
    await laptop.post(group, "anyone?")
    assert claimant.key.public_key in laptop.skipped
    await laptop.remove(group, mallory.identity)
    await laptop.post(group, "after Mallory left")
    report = await bog.sync()
    assert [u.code for u in report.unread] == []
    assert claimant.key.public_key in report.skipped  # the set of the epoch with Mallory in it, and why
    assert texts(bog, group) == ["anyone?", "after Mallory left"]


def test_a_reading_device_refuses_a_claim_whatever_its_home_server_says() -> None:
    """A device resolves the signed events itself (murmur.client.identity_check): a home server that stored a
    claim (an older one, a hostile one) cannot make it list a key its device does not hold."""
    from murmur.client.identity_check import resolved_view
    from murmur.errors import Refused

    bo, mallory = Speaker.new(), Speaker.new()
    claimant = mallory.add(Device(Identity.generate(), bo.devices[0].x25519))
    view = resolved_view(mallory.identity, {"identity": mallory.identity, "events": mallory.events})
    assert [d["key"] for d in view["devices"]] == [mallory.devices[0].key.public_key]
    with pytest.raises(Refused) as unverified:
        resolved_view(claimant.key.public_key, {"identity": mallory.identity, "events": mallory.events})
    assert unverified.value.code == "identity_unverified"
    eve = Speaker.new(first=Device(Identity.generate(), bo.devices[0].x25519))
    with pytest.raises(Refused) as refused:
        resolved_view(eve.identity, {"identity": eve.identity, "events": eve.events})
    assert refused.value.code == "identity_unverified" and "X25519 form" in refused.value.message
