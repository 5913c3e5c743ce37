"""Review (issue 16): one post by a private group's owner looks up every member's identity log several times over
(``_sync`` -> ``_spans`` and ``_renew``, then ``_members``, each a ``GET /identities/{id}/events`` per member, with
no cache within the command). The home server's rate limit is 600 requests a minute per key by default, so a
moderator of a 200-member group (the size docs/encryption.md sizes epochs for) cannot post: the look-ups alone
pass the limit, and a 429 fails the whole command. One post should cost each member's log at most once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups_faults import pair
from tests.server.test_sealed_api import joined

OTHERS = 6


async def test_review3_one_post_looks_up_each_members_log_at_most_once(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    people = [Speaker.new() for _ in range(OTHERS)]
    for person in people:
        await joined(server, person)
    await laptop.invite(group, [p.identity for p in people])
    await bog.post(group, "something to read")  # the owner's next sync has a batch to read
    asked: list[str] = []
    real = laptop.api.identity_events

    async def counting(name: str) -> dict[str, Any]:
        asked.append(name)
        return await real(name)

    laptop.api.identity_events = counting  # type: ignore[method-assign]
    await laptop.post(group, "one post")
    members = OTHERS + 2
    assert len(asked) <= members, f"{len(asked)} look-ups for {members} members"
