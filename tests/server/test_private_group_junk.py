"""Signed messages anyone can make naming a private group never fill a member device's store: only the steps that
can change who is in the group or who holds a role are kept (murmur.kinds.group_fold.bearing), and a legitimate
step among a flood of junk still lands (murmur.client.group_authority.signed_state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from murmur.keys import Identity
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, membership_draft
from murmur.message import now_ms, sign_draft
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of
from tests.server.test_private_groups_faults import pair
from tests.server.test_sealed_api import joined

FLOOD = 60


def junk(group: str, n: int) -> list[dict[str, Any]]:
    """Validly signed steps naming the group by keys that never held a role or a place in it: every kind."""
    drafts = [membership_draft("group_join", group), membership_draft("group_leave", group),
              about_person_draft("group_approve", group, "cd" * 32), about_person_draft("group_mod", group, "ce" * 32),
              about_person_draft("group_remove", group, "cf" * 32), about_post_draft("group_hide", group, "ab" * 32,
                                                                                     reason="spam")]  # fmt: skip
    at = now_ms()
    return [sign_draft(Identity.generate(), drafts[i % len(drafts)], created_at=at - i) for i in range(n)]


def rows(groups: Any, group: str) -> int:
    return len(groups.store.signed_log(group))


async def test_a_flood_of_junk_does_not_grow_the_store_and_a_real_step_still_lands(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    await bog.sync()
    before = rows(bog, group)
    flood = junk(group, FLOOD)
    log = bog.api.group_log

    async def flooded(group_id: str) -> dict[str, Any]:  # what a hostile server, or anyone relaying, could add
        found = await log(group_id)
        return {**found, "messages": [*found["messages"], *flood]}

    bog.api.group_log = flooded  # type: ignore[method-assign]
    await bog.sync()
    assert rows(bog, group) == before
    members = set(bog.store.member_changes(group))

    cy = Speaker.new()
    cyg = groups_of(cy.devices[0], await joined(server, cy), cy.identity, tmp_path / "cy")
    await laptop.invite(group, [cyg.me])  # a real step, among the junk
    flood.extend(junk(group, FLOOD))
    await bog.sync()
    assert rows(bog, group) == before + 1
    assert cy.identity in {c.key for c in bog.store.member_changes(group)} - {c.key for c in members}
    await laptop.post(group, "welcome cy")
    await bog.sync()
    assert [p.text for p in bog.timeline(group)] == ["welcome cy"]
