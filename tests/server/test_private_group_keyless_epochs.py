"""Group messages naming an epoch the device holds no key for (anyone may send one: its author is a one-time key):
one not come, another id under a number held (never called a fork), one whose keys were deleted. A group keeps a
bounded number of them, past which they are dropped and counted; they are shown as one count line, never one row
each (docs/encryption.md §16.5)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from murmur.client.cli.private import emit_private_timeline, private_timeline
from murmur.direct import sign_outer
from murmur.group_chains import GroupKeys
from murmur.keys import Identity
from murmur.kinds.sealed import envelope_text
from murmur.message import now_ms
from murmur.private_group import group_inner, seal_group
from murmur.store.group_inbox import NO_KEY_KEPT
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of
from tests.server.test_sealed_api import joined


def made_up(shape: GroupKeys, device: Identity, n: int, epoch: int) -> dict[str, Any]:
    """A group message of the group ``shape`` holds keys of, as a stranger makes one: its epoch ``epoch`` under an
    id of his own making (``n`` tells them apart), handed in under a one-time key."""
    inner = group_inner("post", device.public_key, device.public_key, "x", now_ms())
    body = json.loads(seal_group(shape, device, inner, "public")["body"]["group_message"])
    body |= {"epoch": epoch, "epoch_id": hashlib.sha256(f"junk {n}".encode()).hexdigest()[:32]}
    return sign_outer(Identity.generate(), now_ms(), "public", "group_message", envelope_text(body))


@pytest.mark.parametrize(
    ("epoch", "code"),
    [(0, "too_old"), (1, "unproven_epoch"), (9, "wrong_epoch")],  # keys deleted; a number held, another id; not held
)
async def test_a_stranger_cannot_make_a_members_store_or_screen_grow_without_bound(
    server: Harness, tmp_path: Path, epoch: int, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ada, bo, mallory = Speaker.new(), Speaker.new(), Speaker.new()
    laptop = groups_of(ada.devices[0], await joined(server, ada), ada.identity, tmp_path / "ada")
    await joined(server, bo)
    stranger = await joined(server, mallory)
    group = await laptop.create("board")
    await laptop.invite(group, [bo.identity])  # epoch 1
    await laptop.remove(group, bo.identity)  # epoch 2
    await laptop.sync(group)  # epochs 1 and 2 kept, 0 deleted
    shape = GroupKeys.from_json(laptop.store.keys(group))  # any valid shape will do; Mallory makes his own
    sent = NO_KEY_KEPT + 12
    for n in range(sent):
        assert (await stranger.publish(made_up(shape, laptop.device, n, epoch)))["status"] == "stored"
    page = await private_timeline(laptop, group, 50)
    kept = laptop.store.unread(group)
    assert len(kept) == NO_KEY_KEPT and laptop.store.no_key(group) == (NO_KEY_KEPT, sent - NO_KEY_KEPT)
    assert {u.code for u in kept} == {code}
    assert all("fork" not in u.reason for u in kept)
    emit_private_timeline(page, as_json=False)
    said = capsys.readouterr().err.splitlines()
    assert [line for line in said if line.startswith("not read")] == [
        f"not read: {NO_KEY_KEPT} messages in an epoch this device holds no key for (one whose key has not come, one"
        " it was not in, or one whose keys it deleted; anyone can send these): read if its key comes; 12 more"
        f" dropped, as a group keeps at most {NO_KEY_KEPT}"
    ]
    emit_private_timeline(page, as_json=True)
    answer = json.loads(capsys.readouterr().out)
    assert answer["unread"] == [] and answer["no_key"] == {"kept": NO_KEY_KEPT, "dropped": 12}
