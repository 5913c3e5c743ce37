"""A device whose home server is restored from a backup: the server's log goes back, and positions the device
already read past are handed out again to new messages. The device's cursor into its server's log names the
message at its position (docs/encryption.md §9.8); the restored server says the cursor moved, and the device
reads its feed again from the start, so a direct message stored after the restore is read there, once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from murmur.direct import conversation_id
from tests.e2e.harness import ServerProcess, stored_ids, wait_for
from tests.e2e.test_direct_messages import devices_held
from tests.e2e.two_servers import two_servers

pytestmark = pytest.mark.timeout(300)


def test_a_direct_message_after_the_home_server_is_restored_reads(tmp_path: Path, procs: list[ServerProcess]) -> None:
    s = two_servers(tmp_path, procs, config={"repair_interval_seconds": 0})
    s.trust(tmp_path)
    ada_id = s.ada.json("identity", "create")["identity"]
    bea_id = s.bea.json("identity", "create")["identity"]
    wait_for(lambda: devices_held(s.a, bea_id) == 1)
    backup = tmp_path / "b-backup.db"
    s.bea.run("admin", "backup", "--data", str(s.b.data), str(backup))
    for i in range(4):  # written on b after the backup and held nowhere else: the restore loses them for good
        s.bea.json("post", f"for the team {i}", "--local")
    first = s.ada.json("dm", bea_id, "one")["id"]
    wait_for(lambda: first in stored_ids(s.b))
    conversation = conversation_id([ada_id, bea_id])
    assert [m["text"] for m in s.bea.json("dm", "show", conversation)["messages"]] == ["one"]

    s.b.stop()
    for suffix in ("-wal", "-shm"):
        (s.b.data / f"murmur.db{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, s.b.data / "murmur.db")
    s.b.start()
    s.bea.run("sync", "--data", str(s.b.data), "--repair")
    second = s.ada.json("dm", bea_id, "two")["id"]
    wait_for(lambda: second in stored_ids(s.b))
    assert [m["text"] for m in s.bea.json("dm", "show", conversation)["messages"]] == ["one", "two"]
