"""Poison messages (issue 16): anyone who can seal a message to a device (any member of any server) chooses its
plaintext. Every plaintext opened on a device is parsed by the one strict parser (``murmur.validate.parse_json``:
bounded in size and depth), so deeply nested JSON is a refusal with a reason (``bad_envelope`` for an epoch,
``bad_inner`` for a direct message), and whatever fault reading one message meets is that message's refusal
(``unreadable`` for one no rule names, ``murmur.client.sealed_feed``): the feed's cursor moves past it, and the
next sync reads on. One crafted message never stops a feed for good."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import murmur.client.conversations
import murmur.client.group_reading
from murmur.client.sealed_feed import UNREADABLE
from murmur.direct import inner_message, seal_direct, sealed_to_devices
from murmur.errors import Refused
from murmur.group_epoch import EPOCH_LABEL, open_epoch
from murmur.message import now_ms
from murmur.sealing import public_hex
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import texts
from tests.server.test_private_groups_faults import pair
from tests.server.test_sealed_api import joined

DEEP = EPOCH_LABEL + b"[" * 5000


def test_review3_a_deeply_nested_epoch_plaintext_is_refused_with_a_reason() -> None:
    with pytest.raises(Refused) as refused:
        open_epoch(DEEP, group="00" * 32)
    assert refused.value.code == "bad_envelope"


async def test_review3_a_crafted_chunk_from_a_stranger_does_not_stop_group_syncs(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    eve = Speaker.new()
    eve_api = await joined(server, eve)
    crafted = sealed_to_devices(DEEP, eve.devices[0].x25519, [public_hex(bog.talks.x25519)], "local", now_ms())
    assert (await eve_api.publish(crafted))["status"] == "stored"
    await laptop.post(group, "the real post")
    await bog.sync()
    assert texts(bog, group) == ["the real post"]
    await laptop.post(group, "and the next")
    await bog.sync()
    assert texts(bog, group) == ["the real post", "and the next"]


@pytest.fixture
def once_broken(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make ``module.name`` fail with a fault no refusal rule names, for the next call only."""

    def breaks(module: Any, name: str) -> None:
        real = getattr(module, name)
        calls = 0

        def broken(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise KeyError("a fault no rule names")
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, broken)

    return breaks


async def test_a_fault_reading_one_epoch_chunk_keeps_it_unread_and_the_feed_reads_on(
    server: Harness, tmp_path: Path, once_broken: Any
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    eve = Speaker.new()
    eve_api = await joined(server, eve)
    crafted = sealed_to_devices(EPOCH_LABEL + b"{}", eve.devices[0].x25519, [public_hex(bog.talks.x25519)], "local",
                                now_ms())  # fmt: skip
    assert (await eve_api.publish(crafted))["status"] == "stored"
    await laptop.post(group, "the real post")
    once_broken(murmur.client.group_reading, "read_epoch")
    report = await bog.sync()
    assert [(u.outer_id, u.code) for u in report.unread] == [(crafted["id"], UNREADABLE)]
    assert texts(bog, group) == ["the real post"]
    await laptop.post(group, "and the next")
    assert (await bog.sync()).read == 1  # the chunk's feed moved past it: not met again


async def test_a_fault_reading_one_group_message_keeps_it_unread_and_the_next_is_read(
    server: Harness, tmp_path: Path, once_broken: Any
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    await laptop.post(group, "the first")
    await laptop.post(group, "the second")
    once_broken(murmur.client.group_reading, "open_group")
    report = await bog.sync()
    assert [u.code for u in report.unread] == [UNREADABLE]
    assert len(texts(bog, group)) == 1
    await laptop.post(group, "the third")
    await bog.sync()
    assert texts(bog, group)[-1] == "the third"


async def test_a_deeply_nested_direct_message_is_refused_and_the_next_is_opened(
    server: Harness, tmp_path: Path, once_broken: Any
) -> None:
    ada, bo, eve = Speaker.new(), Speaker.new(), Speaker.new()
    ada_api, bo_api, eve_api = await joined(server, ada), await joined(server, bo), await joined(server, eve)
    bo_talks = bo.devices[0].conversations(bo_api, bo.identity, tmp_path / "bo")
    deep = b"[" * 5000
    crafted = sealed_to_devices(deep, eve.devices[0].x25519, [public_hex(bo.devices[0].x25519)], "local", now_ms())
    assert (await eve_api.publish(crafted))["status"] == "stored"
    broken = seal_direct(inner_message({ada.identity, bo.identity}, ada.identity, ada.devices[0].key.public_key,
                                       "broken on reading", now_ms(), None),
                         ada.devices[0].x25519, [public_hex(bo.devices[0].x25519)], "local")  # fmt: skip
    assert (await ada_api.publish(broken))["status"] == "stored"
    sent = seal_direct(inner_message({ada.identity, bo.identity}, ada.identity, ada.devices[0].key.public_key,
                                     "hello Bo", now_ms(), None),
                       ada.devices[0].x25519, [public_hex(bo.devices[0].x25519)], "local")  # fmt: skip
    assert (await ada_api.publish(sent))["status"] == "stored"
    once_broken(murmur.client.conversations, "check_sender")
    report = await bo_talks.sync()
    assert [r.code for r in report.refused] == ["bad_inner", UNREADABLE]
    assert "too deeply" in report.refused[0].reason
    assert [m.text for c in bo_talks.conversations() for m in bo_talks.messages(c.id)] == ["hello Bo"]
