"""A private group's message and epoch chunk are judged at the later of their claimed time and their arrival, and
the arrival is bound by the reading device too, not only by its home server's word (murmur.client.sealed_feed,
``arrival``): one first seen after the device last read the feed to its end came after that. A home server that
leaves ``received_at`` out cannot have a removed member write into history, nor a demoted moderator start an
epoch, by dating it before the change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from murmur.client.devices import publish_as_device
from murmur.client.group_reading import CHUNKS
from murmur.client.private_groups import PrivateGroups
from murmur.group_chains import GroupKeys
from murmur.group_epoch import Link
from murmur.kinds.group_drafts import about_person_draft
from murmur.message import now_ms
from murmur.private_group import epoch_messages, group_inner, seal_group
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined


async def board(server: Harness, tmp_path: Path) -> tuple[PrivateGroups, PrivateGroups, PrivateGroups, str]:
    """Ada's laptop owning a private group Bo and Cy were invited to."""
    ada, bo, cy = Speaker.new(), Speaker.new(), Speaker.new()
    people = [groups_of(s.devices[0], await joined(server, s), s.identity, tmp_path / str(i))
              for i, s in enumerate((ada, bo, cy))]  # fmt: skip
    group = await people[0].create("board")
    await people[0].invite(group, [people[1].me, people[2].me])
    return people[0], people[1], people[2], group


def no_arrival(reader: PrivateGroups, inject: Callable[[str | None], list[dict[str, Any]]]) -> None:
    """``reader``'s home server from now on: it leaves out when each message came, and serves what ``inject``
    gives for a feed (its group, or None for the chunks sealed to the device), however it came by it."""
    real = reader.api.sealed

    async def sealed(after: int = 0, **kw: Any) -> dict[str, Any]:
        page = await real(after, **kw)
        items = [{k: v for k, v in i.items() if k != "received_at"} for i in page["sealed"]]
        items += [{"seq": page["next_cursor"], "message": m} for m in inject(kw.get("group"))]
        return {**page, "sealed": items}

    reader.api.sealed = sealed  # type: ignore[method-assign]


def once(feed: str | None, messages: list[dict[str, Any]]) -> Callable[[str | None], list[dict[str, Any]]]:
    def inject(asked: str | None) -> list[dict[str, Any]]:
        if asked != feed:
            return []
        given, messages[:] = list(messages), []
        return given

    return inject


async def test_a_removed_members_backdated_message_is_not_read_when_the_home_server_says_no_arrival(
    server: Harness, tmp_path: Path
) -> None:
    """Bo is removed; Cy's device reads the removal (still holding the epoch before it, as it keeps two). Bo writes
    in that old epoch, dated before his removal; Cy's home server leaves out when it came. Cy's device read the
    group's feed through after the removal, before it first saw the message: it came after."""
    laptop, bog, cyg, group = await board(server, tmp_path)
    await bog.sync()
    await cyg.sync()
    before = now_ms()
    await laptop.remove(group, bog.me)
    await cyg.sync()
    keys = GroupKeys.from_json(bog.store.keys(group))  # Bo never synced again: the epoch he was in
    inner = group_inner("post", bog.me, bog.device.public_key, "forged vote was unanimous", before)
    no_arrival(cyg, once(group, [seal_group(keys, bog.device, inner, "public")]))
    await cyg.sync(group)
    assert "forged vote was unanimous" not in texts(cyg, group)
    assert [u.code for u in cyg.store.unread(group)] == ["not_member"]


async def test_a_demoted_moderators_backdated_epoch_is_not_started_when_the_home_server_says_no_arrival(
    server: Harness, tmp_path: Path
) -> None:
    """Bo, a moderator, is demoted but stays a member; Cy's device reads the demotion. Bo seals a new epoch for
    the group dated before his demotion (he may no longer start one); Cy's home server leaves out when it came.
    Cy's device read its chunks through after the demotion: the epoch is refused, not started."""
    laptop, bog, cyg, group = await board(server, tmp_path)
    mod = about_person_draft("group_mod", group, bog.device.public_key)
    assert (await publish_as_device(laptop.api, laptop.device, mod))["status"] == "stored"
    await bog.sync()
    await cyg.sync()
    before = now_ms()
    unmod = about_person_draft("group_unmod", group, bog.device.public_key)
    assert (await publish_as_device(laptop.api, laptop.device, unmod))["status"] == "stored"
    await cyg.sync()
    held = GroupKeys.from_json(cyg.store.keys(group)).current()
    assert held is not None
    _, people = await bog._members(group)
    _, chunks = epoch_messages(group, bog._devices(people), Link(group, held.number, held.digest),
                               bog.talks.x25519, "public", before)  # fmt: skip
    no_arrival(cyg, once(None, chunks))
    await cyg.sync(group)
    now = GroupKeys.from_json(cyg.store.keys(group)).current()
    assert now is not None and now.number == held.number
    assert [u.code for u in cyg.store.unread(CHUNKS)] == ["not_member"]
