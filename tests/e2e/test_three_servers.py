"""Private conversations across three real servers, run as people would from the CLI: Ada on a (laptop and
phone), Bea on b, Cy on c (laptop and phone). A direct message between a and c reads on all four devices; a
private group with a member on each server converges; Bea, removed, reads nothing written after; Cy's phone,
offline while c lost what it had received, catches up once c is repaired, and again while c is stopped, through
a bundle carried from a. Then no server's files (database, WAL, backups, bundles) nor logs hold either canary
phrase in any encoding.

One test, servers shared by every step: each step starts from what the one before left.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from murmur.direct import conversation_id
from tests.e2e.harness import Person, ServerProcess, encodings, stored_ids, together, wait_for
from tests.e2e.test_direct_messages import devices_held, pair
from tests.e2e.test_repair import drop
from tests.e2e.two_servers import member, mesh, servers

pytestmark = pytest.mark.timeout(480)
DM_CANARY = "canary-7e3a the vendor list is in drawer 3"
GROUP_CANARY = "canary-51f0 we walk out on friday"
# Scheduled repair off: only the step that repairs does, so what it stores came through repair.
CONFIG = {"repair_interval_seconds": 0}


def group_page(person: Person, group: str) -> dict[str, Any]:
    page: dict[str, Any] = json.loads(person.run("timeline", f"group:{group}", "--json").stdout)
    return page


def reads(person: Person, group: str, *texts: str) -> bool:
    held = {item["text"] for item in group_page(person, group)["items"]}
    return held.issuperset(texts)


def dm_texts(person: Person, conversation: str) -> list[str]:
    return [m["text"] for m in person.json("dm", "show", conversation)["messages"]]


def settled(*procs: ServerProcess) -> bool:
    """Every server's push and pull cursors with every peer at the end of the logs: no message in flight, so
    rows lost now are found by repair alone."""
    ends = {}
    cursors = {}
    for proc in procs:
        db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
        try:
            ends[proc.key] = int(db.execute("SELECT coalesce(max(seq), 0) FROM messages").fetchone()[0])
            cursors[proc.key] = db.execute("SELECT key, push_cursor, pull_cursor FROM peers").fetchall()
        finally:
            db.close()
    return all(
        push >= ends[here] and pull >= ends[bytes(peer).hex()]
        for here, rows in cursors.items()
        for peer, push, pull in rows
    )


def test_private_conversations_across_three_servers(tmp_path: Path, procs: list[ServerProcess]) -> None:
    a, b, c = servers(tmp_path, procs, "a", "b", "c", config=CONFIG)
    mesh(tmp_path, a, b, c)
    ada, bea, cy = together(*(lambda p=p, n=n: member(tmp_path, p, n) for p, n in ((a, "ada"), (b, "bea"), (c, "cy"))))
    ada_id, bea_id, cy_id = (
        made["identity"] for made in together(*(lambda p=p: p.json("identity", "create") for p in (ada, bea, cy)))
    )
    ada_phone, cy_phone = together(
        lambda: pair(tmp_path, ada, ada_id, a, "ada-phone"), lambda: pair(tmp_path, cy, cy_id, c, "cy-phone")
    )
    every_log = ((ada_id, 2), (bea_id, 1), (cy_id, 2))
    wait_for(lambda: all(devices_held(p, who) == n for p in (a, b, c) for who, n in every_log))

    # A direct message between a and c, read on every device of both; the answer too.
    sent = ada.json("dm", cy_id, DM_CANARY)["id"]
    wait_for(lambda: sent in stored_ids(c))
    conversation = conversation_id([ada_id, cy_id])
    answer = cy_phone.json("dm", ada_id, "got it")["id"]
    wait_for(lambda: answer in stored_ids(a))
    shown = together(*(lambda d=d: dm_texts(d, conversation) for d in (ada, ada_phone, cy, cy_phone)))
    assert shown == [[DM_CANARY, "got it"]] * 4

    # A private group with a member on each server; what each writes reads on the others' devices.
    group = ada.json("group", "create", "organisers", "--private")["id"]
    bea_key = bea.key
    ada.json("group", "invite", group, f"@{bea_key}", cy_id)  # by key, and by identity
    ada.json("post", "--group", group, GROUP_CANARY)
    wait_for(lambda: reads(cy, group, GROUP_CANARY))
    cy.json("post", "--group", group, "count me in")
    wait_for(lambda: reads(bea, group, GROUP_CANARY, "count me in"))
    bea.json("post", "--group", group, "me too")
    everything = (GROUP_CANARY, "count me in", "me too")
    together(*(lambda d=d: wait_for(lambda: reads(d, group, *everything)) for d in (ada, ada_phone, cy, cy_phone)))

    # Repair: while Cy's phone is offline, c receives a group post and a DM, then loses their rows while stopped
    # (a disk restored without them); every push and pull cursor says delivered, so only repair brings them back.
    held = set(stored_ids(a))
    ada.json("post", "--group", group, "agenda attached")
    away_dm = ada.json("dm", cy_id, "call me when you are back")["id"]
    lost = sorted(set(stored_ids(a)) - held)  # what Ada wrote: the post, the DM (both sealed)
    assert away_dm in lost
    wait_for(lambda: set(lost) <= set(stored_ids(c)) and settled(a, b, c))
    c.stop()
    drop(c, lost)
    c.start()
    assert away_dm not in stored_ids(c)
    repaired = json.loads(cy.run("sync", "--data", str(c.data), "--repair", "--json").stdout)["peers"]
    assert all(p["error"] == "" for p in repaired), repaired
    assert sum(p["stored"] for p in repaired) == len(lost) and set(lost) <= set(stored_ids(c))
    assert dm_texts(cy_phone, conversation)[-1] == "call me when you are back"
    assert reads(cy_phone, group, "agenda attached")

    # A removal: Bea's device reads nothing written after it, and says why, inertly.
    ada.json("group", "remove", group, f"@{bea_key}")
    ada.json("post", "--group", group, "plans for the walkout")
    wait_for(lambda: reads(cy, group, "plans for the walkout"))
    wait_for(lambda: group_page(bea, group)["no_key"]["kept"] >= 1)  # the new epoch: sealed to no device of hers
    assert not reads(bea, group, "plans for the walkout") and reads(bea, group, "me too")
    said = bea.run("timeline", f"group:{group}")
    assert "holds no key for" in said.stderr and "plans for the walkout" not in said.stdout + said.stderr
    assert "\x1b" not in said.stderr

    # A bundle: c is stopped (Cy's devices offline with it); what Ada writes meanwhile reaches c's data directory
    # as a bundle exported from a, before c runs again.
    c.stop()
    ada.json("post", "--group", group, "room 12 at nine")
    carried = ada.json("dm", cy_id, "bring the banner")["id"]
    bundle = tmp_path / "a-to-c.murmur"
    ada.run("export", "--data", str(a.data), str(bundle))
    imported = cy.json("import", "--data", str(c.data), str(bundle))
    assert imported["refused"] == 0 and imported["stored"] >= 2 and carried in stored_ids(c)
    c.start()
    assert dm_texts(cy_phone, conversation)[-1] == "bring the banner"
    assert reads(cy_phone, group, "room 12 at nine", "plans for the walkout")
    assert not reads(bea, group, "room 12 at nine")

    # Every copy a server makes: database and WAL, a backup made with the documented command, the bundle (as
    # written and unpacked) and the log lines; neither phrase is in any, in any encoding.
    copies = [tmp_path / f"{proc.data.name}-backup.db" for proc in (a, b, c)]
    together(
        *(
            lambda p=p, to=to: ada.run("admin", "backup", "--data", str(p.data), str(to))
            for p, to in zip((a, b, c), copies, strict=True)
        )
    )
    files = [path for proc in (a, b, c) for path in proc.data.rglob("*") if path.is_file()]
    blobs = [path.read_bytes() for path in (*files, *copies, bundle)]
    blobs.append(gzip.decompress(bundle.read_bytes()))
    blobs.append("\n".join(line for proc in (a, b, c) for line in proc.log).encode())
    assert carried.encode() in blobs[-2]  # the bundle does carry the sealed messages
    on_cy = b"".join(path.read_bytes() for path in cy.home.rglob("*") if path.is_file())
    for secret in (DM_CANARY, GROUP_CANARY):
        assert secret.encode() in on_cy  # where it is, the same look finds it: the device's own stores
        for form in encodings(secret):
            assert not any(form in blob for blob in blobs), (secret, form)
