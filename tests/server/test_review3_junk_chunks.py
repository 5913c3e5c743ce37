"""Review (issue 16): denial of service of a member's device by epoch chunks a stranger seals to it. Any member of
any server can seal a `sealed` message to any device; one whose plaintext is an epoch for a made-up group id costs
the reader one `GET /groups/{id}/log` each, with no bound per sync (direct messages bound their look-ups at 64 a
sync for exactly this, docs/encryption.md §9.4 "Looking up"), and the refusal is retried 12 times. Once the
requests hit the home server's rate limit, the person's real group cannot be read at all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from murmur.client.api import ApiError
from murmur.group_epoch import Device as Member
from murmur.message import now_ms
from murmur.private_group import epoch_messages
from murmur.sealing import public_hex
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import texts
from tests.server.test_private_groups_faults import pair
from tests.server.test_sealed_api import joined

RATE_LIMIT = 60  # requests the home server answers before saying 429, for this test


async def test_review3_a_flood_of_junk_epoch_chunks_does_not_stop_a_member_reading_their_group(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    eve = Speaker.new()
    eve_api = await joined(server, eve)
    bo_device = Member(bog.device.public_key, public_hex(bog.talks.x25519))
    for _ in range(RATE_LIMIT + 10):  # each names a group nobody made
        _, chunks = epoch_messages(os.urandom(32).hex(), [bo_device], None, eve.devices[0].x25519, "local", now_ms())
        assert (await eve_api.publish(chunks[0]))["status"] == "stored"
    await laptop.post(group, "the real post")
    asked = 0
    real = bog.api.group_log

    async def rate_limited(group_id: str) -> dict[str, Any]:
        nonlocal asked
        asked += 1
        if asked > RATE_LIMIT:
            raise ApiError(429, "rate_limited", "Too many requests.")
        return await real(group_id)

    bog.api.group_log = rate_limited  # type: ignore[method-assign]
    await bog.sync()
    assert texts(bog, group) == ["the real post"]
