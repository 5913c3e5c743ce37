"""What a copy of a device's private groups' store holds (docs/encryption.md §13): the keys that read a message
are deleted, so the copy's keys cannot decrypt it again from the ciphertext servers keep; but the text the device
read is kept for the person, in the clear unless a passphrase seals the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from murmur.client.private_groups import PrivateGroups
from murmur.errors import Refused
from murmur.group_chains import GroupKeys
from murmur.message import Message
from murmur.private_group import open_group
from murmur.store.group_inbox import GroupInbox
from murmur.store.inbox import relock
from murmur.validate import check
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined

CANARY = "canary-at-rest layoffs on monday"


async def read_by_bo(server: Harness, tmp_path: Path) -> tuple[PrivateGroups, str, Message]:
    """Bo's device, having read Ada's post in their private group; the post as the server keeps it."""
    ada, bo = Speaker.new(), Speaker.new()
    laptop = groups_of(ada.devices[0], await joined(server, ada), ada.identity, tmp_path / "ada")
    bog = groups_of(bo.devices[0], await joined(server, bo), bo.identity, tmp_path / "bo")
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await laptop.post(group, CANARY)
    await bog.sync()
    assert texts(bog, group) == [CANARY]
    kept = (await bog.api.sealed(0, group=group))["sealed"]
    return bog, group, check(kept[-1]["message"])


async def test_a_copy_of_the_keys_cannot_decrypt_what_the_device_already_read(server: Harness, tmp_path: Path) -> None:
    bog, group, post = await read_by_bo(server, tmp_path)
    copied = GroupKeys.from_json(bog.store.keys(group))  # a backup, taken after Bo read it
    with pytest.raises(Refused) as refused:
        open_group(copied, post)
    assert refused.value.code == "replayed"  # its message key is gone from the chain


async def test_the_text_read_rests_plain_unless_a_passphrase_seals_the_store(server: Harness, tmp_path: Path) -> None:
    bog, _, _ = await read_by_bo(server, tmp_path)
    path = bog.store.path
    bog.store.close()
    assert CANARY.encode() in path.read_bytes()  # as §13 says: kept for the person to read and search
    relock(path, None, "correct horse battery staple")
    assert CANARY.encode() not in path.read_bytes()
    reopened = GroupInbox.open(path, "correct horse battery staple")
    assert [p.text for p in reopened.search("canary-at-rest")] == [CANARY]
    reopened.close()
