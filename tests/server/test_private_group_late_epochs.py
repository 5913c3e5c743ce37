"""An epoch key a home server holds back and releases late (docs/encryption.md §16.5, "An epoch key come late"):
refused when it comes (its sealer's role had ended by the time this device can prove it arrived), it does not cut
the device off the group for good. A later epoch, sealed by a device whose role was in force, names it as the one
it follows (``prev``: the digest of its plaintext, key and all), which proves the owner or a moderator held it in
the chain: the late key is started for reading then, and so is the later one. Nothing is sealed to anyone by it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from murmur.client.devices import publish_as_device
from murmur.client.group_reading import CHUNKS
from murmur.client.private_groups import PrivateGroups
from murmur.group_chains import EpochKeys, GroupKeys
from murmur.kinds.group_drafts import about_person_draft
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_group_arrival_bound import board
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined


def holding_chunks(reader: PrivateGroups) -> list[str | None]:
    """``reader``'s home server from now on holds back every epoch chunk sealed to it while the list it returns is
    open (``held``), and releases them, at the end of the feed, once the list is closed (``None`` appended)."""
    real = reader.api.sealed
    held: list[dict[str, Any]] = []
    gate: list[str | None] = []

    async def sealed(after: int = 0, **kw: Any) -> dict[str, Any]:
        page = await real(after, **kw)
        if kw.get("group") is not None:
            return page
        if gate and gate[-1] is not None:
            held.extend(page["sealed"])
            return {**page, "sealed": []}
        released, held[:] = [{**i, "seq": page["next_cursor"]} for i in held], []
        return {**page, "sealed": page["sealed"] + released}

    reader.api.sealed = sealed  # type: ignore[method-assign]
    return gate


@dataclass
class Scene:
    laptop: PrivateGroups
    cyg: PrivateGroups
    dee: PrivateGroups
    group: str
    start: EpochKeys
    gate: list[str | None]


async def held_past_the_demotion(server: Harness, tmp_path: Path) -> Scene:
    """Bo, a moderator, invites Dee: his epoch's chunk to Cy is held back by Cy's home server while Cy reads her
    chunks through, past Ada's demotion of Bo."""
    laptop, bog, cyg, group = await board(server, tmp_path)
    mod = about_person_draft("group_mod", group, bog.device.public_key)
    assert (await publish_as_device(laptop.api, laptop.device, mod))["status"] == "stored"
    await bog.sync()
    await cyg.sync()
    start = GroupKeys.from_json(cyg.store.keys(group)).current()
    assert start is not None
    gate = holding_chunks(cyg)
    gate.append("hold")
    dee = Speaker.new()
    dee_groups = groups_of(dee.devices[0], await joined(server, dee), dee.identity, tmp_path / "dee")
    await bog.invite(group, [dee_groups.me])
    await laptop.sync()
    unmod = about_person_draft("group_unmod", group, bog.device.public_key)
    assert (await publish_as_device(laptop.api, laptop.device, unmod))["status"] == "stored"
    await cyg.sync()  # read through past the demotion: Bo's chunk held back
    return Scene(laptop, cyg, dee_groups, group, start, gate)


@pytest.mark.parametrize("released_first", [True, False], ids=["late-key-first", "next-epoch-first"])
async def test_an_epoch_key_held_back_until_its_sealers_role_ended_does_not_cut_the_reader_off(
    server: Harness, tmp_path: Path, released_first: bool
) -> None:
    """Ada then removes Dee, starting the next epoch after Bo's. Released (before Ada's epoch comes, or after
    it), Bo's chunk is refused (Cy's device proves it came after Bo's role ended) and Ada's epoch does not follow
    any Cy holds; once both are in, Ada's epoch vouches for Bo's and Cy reads what Ada writes."""
    scene = await held_past_the_demotion(server, tmp_path)
    cyg, group = scene.cyg, scene.group
    if released_first:
        scene.gate.append(None)
        await cyg.sync()
        assert [u.code for u in cyg.store.unread(CHUNKS)] == ["not_member"]
    await scene.laptop.remove(group, scene.dee.me)
    await scene.laptop.post(group, "canary-late written by Ada after the gap")
    scene.gate.append(None)
    await cyg.sync()
    now = GroupKeys.from_json(cyg.store.keys(group)).current()
    assert now is not None and now.number == scene.start.number + 2
    assert "canary-late written by Ada after the gap" in texts(cyg, group)
    assert cyg.store.unread(CHUNKS) == []


async def test_a_late_epoch_key_no_later_epoch_follows_stays_refused(server: Harness, tmp_path: Path) -> None:
    """Bo's chunk is held back until his demotion and nothing follows it: it stays refused, ``not_member``."""
    scene = await held_past_the_demotion(server, tmp_path)
    scene.gate.append(None)
    await scene.cyg.sync()
    assert GroupKeys.from_json(scene.cyg.store.keys(scene.group)).current() == scene.start
    assert [u.code for u in scene.cyg.store.unread(CHUNKS)] == ["not_member"]
