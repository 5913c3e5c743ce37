"""Review (issue 16): a crafted epoch chunk. Anyone who can seal a message to a device (any member of any server)
can make its plaintext the epoch label followed by deeply nested JSON. ``murmur.private_group.open_chunk`` and
``murmur.group_epoch.open_epoch`` parse it with ``json.loads`` and catch ``ValueError`` only, so the
``RecursionError`` escapes: every sync of the device's private groups fails at that chunk, for good (the chunk
feed's cursor never moves past it). A malformed chunk must be a refusal with a reason (``bad_envelope``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from murmur.direct import sealed_to_devices
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
