"""A private group across two real servers: Ada on a owns it and invites Bea on b; what each writes reaches the
other's server sealed and reads on the other's device, both timelines converge, and neither server's files
(database, write-ahead log, logs) hold the text in any form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.harness import Person, ServerProcess, encodings, wait_for
from tests.e2e.test_direct_messages import devices_held
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
