"""Review (issue 16): the home server calls a member's identity a bare key (``{"identity": ID, "bare": true}``),
a claim ``murmur.client.identity_check.resolved_view`` takes unchecked, even for an identity whose signed devices
this device has pinned already. ``PrivateGroups._identities`` then drops the member without a word: the next epoch
is sealed without their devices, nothing is said (``skipped`` stays empty), and the owner's device goes on as if
the member were in. A claim the server cannot prove must not silently take a member out of the group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from murmur.errors import Refused
from murmur.private_group import open_chunk
from murmur.validate import check
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups_faults import pair
from tests.server.test_sealed_api import joined


async def test_review3_a_member_called_bare_by_the_server_is_not_silently_left_out_of_the_next_epoch(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)  # Ada's device has pinned Bo's devices
    cy = Speaker.new()
    await joined(server, cy)
    real_events, real_publish = laptop.api.identity_events, laptop.api.publish
    sent: list[dict[str, Any]] = []

    async def bare(name: str) -> dict[str, Any]:
        if name == bog.me:
            return {"identity": name, "bare": True, "events": []}
        return await real_events(name)

    async def recording(message: dict[str, Any]) -> dict[str, Any]:
        sent.append(message)
        return await real_publish(message)

    laptop.api.identity_events = bare  # type: ignore[method-assign]
    laptop.api.publish = recording  # type: ignore[method-assign]
    try:
        await laptop.invite(group, [cy.identity])
    except Refused:
        return  # refusing the change is an answer too
    opened = False
    for message in sent:
        if "envelope" in message["body"]:
            try:
                opened |= open_chunk(check(message), bog.talks.x25519) is not None
            except Refused:
                continue
    assert opened or laptop.skipped, "Bo was left out of the epoch, and nothing said so"
