"""A device's first sync of a private group it was just invited to, when its home server will not answer for the
group now (issue 16, docs/encryption.md §16.5 "Looking up, in groups"): the group is behind as any group this
device holds is (``GroupSync.failed``, saying why), the epoch chunk that invited it waits, tried at every later
sync however long the failure lasts, and the group is read once the server answers. A chunk naming a group the
server does not know (anyone can seal one naming a made-up group) is said nowhere."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError
from murmur.client.group_checks import NOT_ANSWERED
from murmur.client.lookups import LOOKUPS_PER_SYNC
from murmur.client.private_groups import PrivateGroups
from murmur.errors import ConfigError
from murmur.group_epoch import Device as Member
from murmur.message import now_ms
from murmur.private_group import epoch_messages
from murmur.sealing import public_hex
from murmur.store.group_inbox import MAX_TRIES
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined

Answer = Callable[[str, str, Any], Any]


async def invited(server: Harness, tmp_path: Path) -> tuple[PrivateGroups, PrivateGroups, str]:
    """Ada's laptop owning a private group with a post in it, Bo invited and never synced yet."""
    ada, bo = Speaker.new(), Speaker.new()
    laptop = groups_of(ada.devices[0], await joined(server, ada), ada.identity, tmp_path / "ada")
    bog = groups_of(bo.devices[0], await joined(server, bo), bo.identity, tmp_path / "bo")
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await laptop.post(group, "welcome")
    return laptop, bog, group


def failing(device: PrivateGroups, when: Callable[[str], bool], answer: Answer) -> Callable[[], None]:
    """``device``'s home server answers ``answer(method, path, kw)`` for each request whose path ``when`` picks, from
    now until the returned function is called."""
    real = device.api.request

    async def request(method: str, path: str, **kw: Any) -> Any:
        return await (answer(method, path, kw) if when(path) else real(method, path, **kw))

    device.api.request = request  # type: ignore[method-assign]
    return lambda: setattr(device.api, "request", real)


def owners(laptop: PrivateGroups) -> Callable[[str], bool]:
    """Picks the look-ups of the owner's key log, by the identity or by the device's key."""
    return lambda p: p.startswith("/api/v1/identities/") and any(k in p for k in (laptop.me, laptop.device.public_key))


def refusing(status: int, code: str, said: str) -> Answer:
    async def refuse(method: str, path: str, kw: Any) -> Any:
        raise ApiError(status, code, said)

    return refuse


async def test_a_first_sync_whose_group_log_is_rate_limited_says_so_and_reads_it_once_answered(
    server: Harness, tmp_path: Path
) -> None:
    _, bog, group = await invited(server, tmp_path)
    restore = failing(bog, lambda p: f"/groups/{group}/log" in p, refusing(429, "rate_limited", "Too many requests."))
    for _ in range(MAX_TRIES // 2 + 2):  # longer than a chunk retried less and less often would still be tried
        report = await bog.sync()
        assert "Too many requests." in report.failed[group] and bog.store.keys(group) is None
        assert [u.code for u in bog.store.unread("")] == [NOT_ANSWERED]  # the chunk is kept, nothing lost
    restore()
    report = await bog.sync()
    assert group not in report.failed and texts(bog, group) == ["welcome"]
    assert bog.store.unread("") == []


async def test_a_group_whose_log_keeps_failing_does_not_stop_another_being_read(
    server: Harness, tmp_path: Path
) -> None:
    """A failed look-up ends the sync's look-ups (``murmur.client.lookups``): the chunk whose look-up failed is
    tried after the others at the next sync, so a group invited to later is read all the same."""
    laptop, bog, board = await invited(server, tmp_path)
    other = await laptop.create("the other board")
    await laptop.invite(other, [bog.me])
    await laptop.post(other, "in the other")
    failing(bog, lambda p: f"/groups/{board}/log" in p, refusing(503, "unavailable", "The server is busy."))
    for _ in range(2):
        report = await bog.sync()
        assert "The server is busy." in report.failed[board]
    assert texts(bog, other) == ["in the other"] and bog.store.keys(board) is None


async def test_a_first_sync_whose_server_fails_on_the_owners_log_says_so(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await invited(server, tmp_path)
    restore = failing(bog, owners(laptop),
                      refusing(503, "unavailable", "The server is busy."))  # fmt: skip
    report = await bog.sync()
    assert "The server is busy." in report.failed[group] and bog.store.keys(group) is None
    restore()
    await bog.sync()
    assert texts(bog, group) == ["welcome"]


async def test_a_first_sync_whose_owners_key_log_does_not_resolve_says_so_and_tries_again(
    server: Harness, tmp_path: Path
) -> None:
    """The server's answer for the owner's identity carries no signed events: whether the sealing device is the
    owner's cannot be told here now (``identity_unverified``, "try again later"), so the chunk waits, said."""
    laptop, bog, group = await invited(server, tmp_path)
    real = bog.api.request

    async def eventless(method: str, path: str, kw: Any) -> Any:
        return {**await real(method, path, **kw), "events": []}

    restore = failing(bog, owners(laptop), eventless)
    report = await bog.sync()
    assert "no signed inception" in report.failed[group] and bog.store.keys(group) is None
    with pytest.raises(ConfigError) as refused:  # a post needing the key says why it has not come
        await bog.post(group, "not yet")
    assert "this sync could not read it" in refused.value.message and "no signed inception" in refused.value.message
    restore()
    for _ in range(2):  # the server answered (a try counted): tried less and less often, two syncs on after two
        await bog.sync()
    assert texts(bog, group) == ["welcome"]


async def test_one_groups_sync_says_its_first_failure_rather_than_stopping(server: Harness, tmp_path: Path) -> None:
    """``murmur timeline group:ID`` syncs that one group: at the first sync the group is read from the chunks, so
    its failure is reported (``failed``) with what this device holds, as the CLI prints it."""
    _, bog, group = await invited(server, tmp_path)
    restore = failing(bog, lambda p: f"/groups/{group}/log" in p, refusing(500, "internal", "Something broke."))
    report = await bog.sync(group)
    assert "Something broke." in report.failed[group] and report.read == 0
    restore()
    assert (await bog.sync(group)).read == 1


async def test_chunks_naming_groups_the_server_does_not_know_are_not_said(server: Harness, tmp_path: Path) -> None:
    """Anyone can seal a chunk naming a made-up group: neither those the server does not know nor those past the
    sync's look-up budget are said, so a flood of them cannot fill the person's screen; a real one is still read."""
    _, bog, group = await invited(server, tmp_path)
    eve = Speaker.new()
    eve_api = await joined(server, eve)
    bo_device = Member(bog.device.public_key, public_hex(bog.talks.x25519))
    for _ in range(LOOKUPS_PER_SYNC + 3):
        _, chunks = epoch_messages(os.urandom(32).hex(), [bo_device], None, eve.devices[0].x25519, "local", now_ms())
        assert (await eve_api.publish(chunks[0]))["status"] == "stored"
    for _ in range(2):  # past the budget at the first, the rest looked up at the second
        assert (await bog.sync()).failed == {}
    assert texts(bog, group) == ["welcome"]
