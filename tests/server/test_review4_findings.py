"""Review 4 (issue 16), through a real home server in process: attacks on private groups that still work, each
proven by a test that fails until it is fixed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from murmur.client.devices import device_envelope, publish_as_device
from murmur.client.group_authority import signed_state
from murmur.client.group_checks import member_roles
from murmur.client.private_groups import PrivateGroups
from murmur.direct import sign_outer
from murmur.group_chains import GroupKeys
from murmur.keys import Identity
from murmur.kinds.group_drafts import about_person_draft
from murmur.kinds.sealed import envelope_text
from murmur.message import complete_draft, now_ms, sign_envelope
from murmur.private_group import group_inner, seal_group
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined


async def _board(server: Harness, tmp_path: Path) -> tuple[PrivateGroups, PrivateGroups, PrivateGroups, str]:
    """Ada's laptop owning a private group Bo and Cy were invited to."""
    ada, bo, cy = Speaker.new(), Speaker.new(), Speaker.new()
    people = [groups_of(s.devices[0], await joined(server, s), s.identity, tmp_path / str(i))
              for i, s in enumerate((ada, bo, cy))]  # fmt: skip
    group = await people[0].create("board")
    await people[0].invite(group, [people[1].me, people[2].me])
    return people[0], people[1], people[2], group


async def test_a_hostile_home_that_says_no_arrival_lets_a_removed_member_write_into_history(
    server: Harness, tmp_path: Path
) -> None:
    """Bo is removed from Ada's group; Cy's device syncs and holds the removal (and still the epoch before it,
    as it keeps the newest two). Bo writes in that old epoch, dated before his removal, and Cy's home server
    leaves out ``received_at``: judged by Bo's claimed time alone, Cy's device shows the message as Bo's, written
    while he was a member. Cy's device itself held the removal before it first saw the message."""
    laptop, bog, cyg, group = await _board(server, tmp_path)
    await bog.sync()
    await cyg.sync()
    before = now_ms()
    await laptop.remove(group, bog.me)
    await cyg.sync()  # Cy's device holds the removal and the epoch without Bo
    keys = GroupKeys.from_json(bog.store.keys(group))  # Bo never synced again: the epoch he was in
    inner = group_inner("post", bog.me, bog.device.public_key, "forged-r4 vote was unanimous", before)
    forged = seal_group(keys, bog.device, inner, "public")
    real = cyg.api.sealed
    injected = [forged]

    async def no_arrival(after: int = 0, **kw: Any) -> dict[str, Any]:
        page = await real(after, **kw)
        items = [{k: v for k, v in i.items() if k != "received_at"} for i in page["sealed"]]
        if kw.get("group") == group and injected:  # the organisation's server: takes, and serves, anything
            items.append({"seq": page["next_cursor"], "message": injected.pop()})
        return {**page, "sealed": items}

    cyg.api.sealed = no_arrival  # type: ignore[method-assign]
    await cyg.sync(group)
    assert "forged-r4 vote was unanimous" not in texts(cyg, group)


async def test_a_copy_of_a_devices_group_store_reads_what_the_device_had_read(server: Harness, tmp_path: Path) -> None:
    """docs/encryption.md §13 says a copy of a device's group state (its store, a backup) cannot read what the
    device had already read, its keys being deleted. The store (``private_groups.db``, plain unless a passphrase
    is set) keeps every text it read, with an FTS5 index: the copy reads them all, however many epochs ago."""
    ada, bo = Speaker.new(), Speaker.new()
    laptop = groups_of(ada.devices[0], await joined(server, ada), ada.identity, tmp_path / "ada")
    bog = groups_of(bo.devices[0], await joined(server, bo), bo.identity, tmp_path / "bo")
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await laptop.post(group, "canary-r4fs layoffs on monday")
    await bog.sync()
    assert texts(bog, group) == ["canary-r4fs layoffs on monday"]
    copied = bog.store.path.read_bytes()  # a backup of the profile folder, taken after Bo read it
    assert b"canary-r4fs" not in copied


async def test_a_removed_moderators_backdated_invitation_counts_on_a_moderator_that_was_offline(
    server: Harness, tmp_path: Path
) -> None:
    """Ada removes Bo, a moderator; Cy, another moderator, last synced before that (not her first sync). Bo at once
    signs an invitation of his puppet dated before his removal. Cy's next fetch holds the removal and the
    invitation together, so her device has no bound on the invitation's arrival and counts it by its claimed time:
    her sync seals the next epoch to the puppet, who reads what Cy writes. (A hostile home server can arrange the
    same for every device but the remover's by holding the removal back until the invitation exists.)"""
    laptop, bog, cyg, group = await _board(server, tmp_path)
    for who in (bog, cyg):
        made = await publish_as_device(laptop.api, laptop.device,
                                       about_person_draft("group_mod", group, who.device.public_key))  # fmt: skip
        assert made["status"] == "stored"
    await bog.sync()
    await cyg.sync()  # Cy's device has folded the group: Bo and Cy moderators
    before = now_ms()
    await laptop.remove(group, bog.me)
    puppet = Speaker.new()
    puppet_groups = groups_of(puppet.devices[0], await joined(server, puppet), puppet.identity, tmp_path / "pup")
    draft = complete_draft(about_person_draft("group_approve", group, puppet.identity), bog.device.public_key,
                           created_at=before - 1)  # fmt: skip
    backdated = sign_envelope(bog.device, device_envelope(draft, bog.me, None))
    assert (await bog.api.publish(backdated))["status"] == "stored"
    await cyg.sync()  # the removal and the backdated invitation, first held in one fetch
    await cyg.post(group, "canary-r4mod written by Cy")
    await puppet_groups.sync()
    assert "canary-r4mod written by Cy" not in texts(puppet_groups, group)
    assert puppet.identity not in member_roles(await signed_state(cyg.api, group, cyg.store))


async def test_a_stranger_fills_every_members_store_and_screen_with_messages_that_can_never_be_read(
    server: Harness, tmp_path: Path
) -> None:
    """Any account on any server may hand in a sealed group message for any group id (its author is a one-time
    key). One naming an epoch no member will ever hold is kept on each member's device, its bytes whole, with no
    bound, and listed on the group's screen as "not read yet" for ever: a stranger chooses how much every member
    stores and scrolls past. (What can never be read, an epoch number below the ones held, or past the
    stranger's share, should be dropped with a count, not kept.)"""
    ada, mallory = Speaker.new(), Speaker.new()
    laptop = groups_of(ada.devices[0], await joined(server, ada), ada.identity, tmp_path / "ada")
    stranger = await joined(server, mallory)
    group = await laptop.create("board")
    made_up = GroupKeys.from_json(laptop.store.keys(group))  # any valid shape will do; Mallory makes his own
    sent = 0
    for n in range(40):
        real = seal_group(made_up, laptop.device, group_inner("post", laptop.me, laptop.device.public_key, "x",
                                                               now_ms()), "public")  # fmt: skip
        body = json.loads(real["body"]["group_message"])
        body |= {"epoch": 0, "epoch_id": hashlib.sha256(f"junk {n}".encode()).hexdigest()[:32]}
        junk = sign_outer(Identity.generate(), now_ms(), "public", "group_message", envelope_text(body))
        sent += (await stranger.publish(junk))["status"] == "stored"
    assert sent == 40
    await laptop.sync(group)
    kept = laptop.store.unread(group)
    assert len(kept) < 40, f"{len(kept)} junk messages kept whole, {sum(len(u.raw) for u in kept)} bytes"
