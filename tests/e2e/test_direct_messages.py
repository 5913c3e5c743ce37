"""Direct messages across two real servers: Ada on a writes to Bea on b; both of Bea's devices and Ada's second
device read it; another member of a cannot; neither server's files hold the text in any form."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pytest

from murmur.direct import conversation_id
from tests.e2e.harness import Person, ServerProcess, admin, encodings, stored_ids, wait_for
from tests.e2e.two_servers import two_servers

pytestmark = pytest.mark.timeout(300)
CANARY = "canary-4b1d the plan for monday"


def pair(tmp_path: Path, owner: Person, identity: str, proc: ServerProcess, name: str) -> Person:
    """A second device of ``owner``'s identity, paired from the CLI (its key never leaves its home)."""
    device = Person(tmp_path / f"{name}-device")
    device.run("init")
    request = tmp_path / f"{name}.request"
    device.run("device", "add", identity, "--name", name, "--out", str(request), "--server", proc.url)
    owner.run("device", "approve", str(request))
    return device


def devices_held(proc: ServerProcess, identity: str) -> int:
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        sql = "SELECT count(*) FROM identity_devices WHERE identity = ? AND removed_at IS NULL"
        return int(db.execute(sql, (bytes.fromhex(identity),)).fetchone()[0])
    finally:
        db.close()


def test_a_direct_message_between_two_servers(tmp_path: Path, procs: list[ServerProcess]) -> None:
    s = two_servers(tmp_path, procs)
    s.trust(tmp_path)
    ada_id = s.ada.json("identity", "create", "--name", "laptop")["identity"]
    bea_id = s.bea.json("identity", "create", "--name", "laptop")["identity"]
    bea_phone = pair(tmp_path, s.bea, bea_id, s.b, "bea-phone")
    ada_phone = pair(tmp_path, s.ada, ada_id, s.a, "ada-phone")
    cy = Person(tmp_path / "cy")
    cy.run("init", "--name", "cy")
    cy.run("join", s.a.url, "--invite", admin(s.a.data, "invite")["code"])
    cy.json("identity", "create")

    wait_for(lambda: devices_held(s.a, bea_id) == 2)  # Bea's log reached a: her devices are known there
    sent = s.ada.json("dm", bea_id, CANARY)["id"]
    wait_for(lambda: sent in stored_ids(s.b))

    conversation = conversation_id([ada_id, bea_id])  # the same on every device: no need to list first
    for reader in (s.bea, bea_phone, ada_phone):
        messages = reader.json("dm", "show", conversation)["messages"]
        assert [(m["author"], m["text"]) for m in messages] == [(ada_id, CANARY)]
    assert cy.json("dm", "list")["conversations"] == []

    answer = bea_phone.json("dm", ada_id, "monday works")["id"]
    wait_for(lambda: answer in stored_ids(s.a))
    [listed] = s.ada.json("dm", "list")["conversations"]
    assert (listed["id"], listed["unread"], listed["last"]["text"]) == (conversation, 1, "monday works")

    # Every copy a server makes: its database and WAL, a backup, a bundle (which carries the sealed message) and
    # its log lines; the canary is in none, in any encoding.
    bundle = tmp_path / "a.bundle"
    s.ada.run("export", "--data", str(s.a.data), str(bundle))
    s.ada.run("admin", "backup", "--data", str(s.b.data), str(tmp_path / "b-backup.db"))
    unpacked = gzip.decompress(bundle.read_bytes())  # a bundle is gzip: looked at as it reads
    assert sent.encode() in unpacked
    forms = encodings(CANARY)
    files = [*s.a.data.rglob("*"), *s.b.data.rglob("*"), tmp_path / "b-backup.db"]
    for data in (unpacked, *(path.read_bytes() for path in files if path.is_file())):
        assert not any(form in data for form in forms)
    assert not any(CANARY in line for line in (*s.a.log, *s.b.log))
