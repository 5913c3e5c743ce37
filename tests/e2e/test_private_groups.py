"""A private group across two real servers: Ada on a owns it and invites Bea on b; what each writes reaches the
other's server sealed and reads on the other's device, both timelines converge, and neither server's files
(database, write-ahead log, logs) hold the text in any form."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.client.devices import encryption_key
from murmur.errors import Refused
from murmur.private_group import open_chunk
from murmur.validate import check
from tests.e2e.harness import Person, ServerProcess, encodings, wait_for
from tests.e2e.test_direct_messages import devices_held, pair
from tests.e2e.two_servers import two_servers

pytestmark = pytest.mark.timeout(300)
CANARY = "canary-9d2c the meeting moved to room 4"


def test_members_on_two_servers_converge(tmp_path: Path, procs: list[ServerProcess]) -> None:
    s = two_servers(tmp_path, procs)
    s.trust(tmp_path)
    ada_id = s.ada.json("identity", "create", "--name", "laptop")["identity"]
    bea_id = s.bea.json("identity", "create", "--name", "laptop")["identity"]
    wait_for(lambda: devices_held(s.a, bea_id) == 1 and devices_held(s.b, ada_id) == 1)  # each log reached the other

    group = s.ada.json("group", "create", "organisers", "--private")["id"]
    s.ada.json("group", "invite", group, bea_id)
    posted = s.ada.json("post", "--group", group, CANARY)["id"]

    pages: dict[str, list[dict[str, object]]] = {}

    def read_by(person: Person, text: str) -> bool:
        page = json.loads(person.run("timeline", f"group:{group}", "--json").stdout)
        pages[str(person.home)] = page["items"]
        return text in [i["text"] for i in page["items"]]

    wait_for(lambda: read_by(s.bea, CANARY))  # the group, the invitation, the epoch and the post reached b
    s.bea.json("post", "--group", group, "see you there", "--reply-to", posted)
    wait_for(lambda: read_by(s.ada, "see you there"))
    wait_for(lambda: read_by(s.bea, "see you there"))  # her own, as she wrote it
    ada_sees, bea_sees = pages[str(s.ada.home)], pages[str(s.bea.home)]
    assert [i["id"] for i in ada_sees] == [i["id"] for i in bea_sees]  # the same messages, in the same order
    assert [i["author"] for i in ada_sees] == [bea_id, ada_id] and ada_sees[0]["reply_to"] == posted

    forms = encodings(CANARY)
    for proc in (s.a, s.b):
        for path in proc.data.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert not any(form in data for form in forms), path


@pytest.mark.timeout(600)  # a pairing, a removal and their epochs, each waited for across two servers
def test_a_device_added_reads_from_then_on_and_one_removed_reads_no_more(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    s = two_servers(tmp_path, procs)
    s.trust(tmp_path)
    ada_id = s.ada.json("identity", "create", "--name", "laptop")["identity"]
    bea_id = s.bea.json("identity", "create", "--name", "laptop")["identity"]
    wait_for(lambda: devices_held(s.a, bea_id) == 1 and devices_held(s.b, ada_id) == 1)
    group = s.ada.json("group", "create", "organisers", "--private")["id"]
    s.ada.json("group", "invite", group, bea_id)
    s.ada.json("post", "--group", group, "before the phone")

    def page(person: Person) -> dict[str, Any]:
        return dict(json.loads(person.run("timeline", f"group:{group}", "--json").stdout))

    def texts(person: Person) -> list[str]:
        return [str(i["text"]) for i in page(person)["items"]]

    def posted(person: Person, text: str) -> bool:
        """Sent once its writer holds an epoch made for the member devices there are now (refused, nothing is
        sent: members_changed until the owner's epoch reaches it)."""
        return person.run("post", "--group", group, text, check=False).returncode == 0

    wait_for(lambda: "before the phone" in texts(s.bea))
    phone = pair(tmp_path, s.bea, bea_id, s.b, "bea-phone")
    wait_for(lambda: devices_held(s.a, bea_id) == 2)  # Bea's log reached a
    s.ada.run("timeline", f"group:{group}")  # the owner's sync: a new epoch, sealed to the phone too
    wait_for(lambda: posted(s.bea, "after the phone"))
    wait_for(lambda: "after the phone" in texts(phone))
    shown = page(phone)
    assert [i["text"] for i in shown["items"]] == ["after the phone"]  # from when it was added, not before
    assert {u["code"] for u in shown["unread"]} <= {"wrong_epoch"}

    s.bea.run("device", "remove", "bea-phone")
    wait_for(lambda: devices_held(s.a, bea_id) == 1)
    s.ada.run("timeline", f"group:{group}")  # the owner's sync: a new epoch, without the phone
    wait_for(lambda: posted(s.bea, "after the removal"))
    wait_for(lambda: "after the removal" in texts(s.ada))
    [last] = [i for i in page(s.ada)["items"] if i["text"] == "after the removal"]
    # the phone's keys, as a thief holding it has them: no epoch key sealed after its removal opens with them,
    # so the message's epoch is one it can never hold
    x25519 = encryption_key(phone.home / "profiles" / "default" / "key.pem")
    assert last["epoch"] not in epochs_opened_by(s.b, x25519)
    assert max(epochs_opened_by(s.b, x25519)) < last["epoch"]


def epochs_opened_by(proc: ServerProcess, x25519: X25519PrivateKey) -> set[int]:
    """The epochs whose keys any sealed message the server holds gives to the device with ``x25519``."""
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        raws = [bytes(r[0]) for r in db.execute("SELECT raw FROM messages WHERE kind = 'sealed'")]
    finally:
        db.close()
    opened = set()
    for raw in raws:
        try:
            chunk = open_chunk(check(raw), x25519)
        except Refused:  # sealed to other devices
            continue
        if chunk is not None:
            opened.add(chunk.epoch.number)
    return opened
