"""How a typed group id names a private group (issue 16): a prefix names the group this device knows by it (holds
keys of, pinned), never the home server's pick; a prefix naming several known here is refused, saying which; one
naming none known is the server's to resolve, its answer checked against what was typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from murmur.client.devices import device_envelope
from murmur.client.private_groups import PrivateGroups
from murmur.errors import ConfigError
from murmur.kinds.group_drafts import create_draft
from murmur.kinds.group_fold import INVITE
from murmur.message import complete_draft, now_ms, sign_envelope
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups_faults import pair
from tests.server.test_sealed_api import joined

SHARED = 2  # hex digits the crafted group's id shares with the real one's (a server could grind 8 the same way)


async def a_group_sharing_the_prefix(server: Harness, of: str) -> str:
    """A private group a stranger made whose id starts as ``of`` does, found by trying names."""
    eve = Speaker.new()
    api = await joined(server, eve)
    device, at = eve.devices[0], now_ms()
    for n in range(20_000):
        draft = create_draft(f"look-alike {n}", join=INVITE)
        envelope = device_envelope(complete_draft(draft, device.key.public_key, created_at=at), eve.identity, None)
        message = sign_envelope(device.key, envelope)
        if message["id"][:SHARED] == of[:SHARED]:
            assert (await api.publish(message))["status"] == "stored"
            return str(message["id"])
    raise AssertionError("no look-alike found")


def answering_prefixes_with(groups: PrivateGroups, crafted: str) -> list[str]:
    """The home server answers every group prefix with the group ``crafted`` (its real answer); what was asked."""
    asked: list[str] = []
    real = groups.api.group

    async def crafting(group_id: str) -> dict[str, Any]:
        asked.append(group_id)
        return await real(crafted if len(group_id) < 64 else group_id)

    groups.api.group = crafting  # type: ignore[method-assign]
    return asked


async def test_a_prefix_names_the_group_this_device_holds_not_the_servers_pick(
    server: Harness, tmp_path: Path
) -> None:
    _, bog, group = await pair(server, tmp_path)
    look_alike = await a_group_sharing_the_prefix(server, group)
    asked = answering_prefixes_with(bog, look_alike)
    assert (await bog.group(group[:SHARED]))["id"] == group
    assert asked == [group]  # asked for by its whole id: the server had no prefix to pick for


async def test_a_prefix_naming_several_groups_held_here_is_refused_saying_which(
    server: Harness, tmp_path: Path
) -> None:
    laptop, _, group = await pair(server, tmp_path)
    look_alike = await a_group_sharing_the_prefix(server, group)
    await laptop.group(look_alike)  # folded here: a group this device knows (its members pinned)
    with pytest.raises(ConfigError) as refused:
        await laptop.group(group[:SHARED])
    assert group[:12] in refused.value.message and look_alike[:12] in refused.value.message


async def test_a_prefix_of_no_group_known_here_is_the_servers_to_resolve_and_checked(
    server: Harness, tmp_path: Path
) -> None:
    laptop, _, _ = await pair(server, tmp_path)
    stranger = await a_group_sharing_the_prefix(server, "ff")
    answering_prefixes_with(laptop, stranger)
    assert (await laptop.group(stranger[:SHARED]))["id"] == stranger  # not known here: the server's answer
    with pytest.raises(ConfigError, match="another group"):
        await laptop.group("ee")  # answered with a group that does not start with it
