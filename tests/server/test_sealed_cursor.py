"""A device's cursor into its home server's sealed feeds outlives the server being restored from a backup (issue
16): the restored log hands positions out again, the server refuses a cursor whose position no longer holds the
message it names (``cursor_moved``), and the device reads the feed again from the start, skipping what it holds.
The restore is a second server on a fresh database holding fewer messages, at the same address and key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from murmur.client.api import ApiError
from murmur.direct import conversation_id
from murmur.store.inbox import Cursor, Inbox
from tests.dm_people import Speaker
from tests.server.conftest import Harness, serving
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined, publish_events


async def test_a_private_groups_cursor_is_checked_the_same_way(server: Harness, tmp_path: Path) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    ada_groups = groups_of(ada.devices[0], await joined(server, ada), ada.identity, tmp_path / "ada")
    bo_api = await joined(server, bo)
    group = await ada_groups.create("organisers")
    await ada_groups.invite(group, [bo.identity])
    for text in ("one", "two"):
        await ada_groups.post(group, text)
    first, second = (await bo_api.sealed(group=group))["sealed"]
    seq, at = first["seq"], first["message"]["id"]
    assert [i["seq"] for i in (await bo_api.sealed(seq, at=at, group=group))["sealed"]] == [second["seq"]]
    for after, named in ((seq, second["message"]["id"]), (second["seq"] + 1, at), (seq - 1, at)):
        with pytest.raises(ApiError) as refused:
            await bo_api.sealed(after, at=named, group=group)
        assert (refused.value.status, refused.value.code) == (409, "cursor_moved")


@pytest.mark.parametrize("kept", [1, 0], ids=["another-message-there", "nothing-there"])
async def test_a_direct_message_after_a_restore_is_read_and_nothing_twice(
    server: Harness, tmp_path: Path, migrated: Callable[[Path], None], kept: int
) -> None:
    ada, bo = Speaker.new(), Speaker.new()
    ada_api, bo_api = await joined(server, ada), await joined(server, bo)
    sender = ada.devices[0].conversations(ada_api, ada.identity, tmp_path / "ada")
    reader = bo.devices[0].conversations(bo_api, bo.identity, tmp_path / "bo")
    for text in ("one", "two"):
        await sender.send([bo.identity], text)
    assert (await reader.sync()).opened == 2
    held = [i["message"] for i in (await bo_api.sealed())["sealed"]]
    assert reader.inbox.cursor(bo_api.base_url).at == held[-1]["id"]

    # The backup held both logs and the first `kept` messages; what came after it is gone for good.
    migrated(tmp_path / "restored.db")
    async with serving(tmp_path / "restored.db", None, server.state.identity) as restored:
        ada_api, bo_api = await restored.member(ada.devices[0].key), await restored.member(bo.devices[0].key)
        await publish_events(ada_api, ada)
        await publish_events(bo_api, bo)
        for message in held[:kept]:
            assert (await ada_api.publish(message))["status"] == "stored"
        sender.close()
        reader.close()  # the same profiles and stores, their server now the restored one
        sender = ada.devices[0].conversations(ada_api, ada.identity, tmp_path / "ada")
        reader = bo.devices[0].conversations(bo_api, bo.identity, tmp_path / "bo")
        await sender.send([bo.identity], "three")  # at the position Bo's cursor holds, or before it

        report = await reader.sync()
        assert (report.opened, report.refused) == (1, [])  # "three"; "one" again is skipped by its outer id
        conversation = conversation_id([ada.identity, bo.identity])
        assert [m.text for m in reader.messages(conversation)] == ["one", "two", "three"]
        after = reader.inbox.cursor(bo_api.base_url)
        assert after.at == (await bo_api.sealed())["sealed"][-1]["message"]["id"]
        assert (await reader.sync()).opened == 0  # the new cursor holds: read on from it, nothing twice


async def test_a_cursor_kept_before_it_named_its_message_starts_over(tmp_path: Path) -> None:
    """A store from before cursors named their message cannot be checked: it reads from the start once."""
    path = tmp_path / "conversations.db"
    inbox = Inbox.open(path)
    # as a store of version 3 was: without the columns later versions add (through: 6, held: 7)
    inbox.db.executescript("PRAGMA user_version = 3; ALTER TABLE cursors DROP COLUMN at;"
                           " ALTER TABLE cursors DROP COLUMN through;"
                           " ALTER TABLE opened DROP COLUMN held;"
                           " INSERT INTO cursors (server, seq) VALUES ('http://murmur.test', 9);")  # fmt: skip
    inbox.close()
    assert Inbox.open(path).cursor("http://murmur.test") == Cursor(0, None)


async def test_a_private_groups_feed_past_a_restored_log_is_read_again(server: Harness, tmp_path: Path) -> None:
    """A group feed's cursor past the end of its home server's log, naming a message not there (as a restore from
    an older backup leaves it): the device reads the feed again, skips what it holds, and misses nothing new."""
    ada, bo = Speaker.new(), Speaker.new()
    ada_groups = groups_of(ada.devices[0], await joined(server, ada), ada.identity, tmp_path / "ada")
    bo_groups = groups_of(bo.devices[0], await joined(server, bo), bo.identity, tmp_path / "bo")
    group = await ada_groups.create("organisers")
    await ada_groups.invite(group, [bo.identity])
    for text in ("one", "two"):
        await ada_groups.post(group, text)
    assert (await bo_groups.sync()).read == 2
    feed = f"group {group} {bo_groups.api.base_url}"
    bo_groups.store.set_cursor(feed, Cursor(await server.state.store.last_seq() + 50, "f" * 64))
    await ada_groups.post(group, "three")
    report = await bo_groups.sync()
    assert (report.read, report.unread) == (1, [])
    assert texts(bo_groups, group) == ["one", "two", "three"]
