"""A private group from the command line against a real server on 127.0.0.1: ``murmur group create --private``,
``group invite``, ``post --group``, ``timeline group:ID`` (read on the device), ``group remove`` and ``group
search``; the server's database and its write-ahead log hold no plaintext."""

from __future__ import annotations

from tests.cli.test_dm_cli import Person, box, people  # noqa: F401  (the same server and people, made here again)
from tests.tui.test_snapshots import ThreadedServer

CANARY = "canary-3b7e the walkout is on thursday"


def test_a_private_group_from_the_command_line(people: dict[str, Person], box: ThreadedServer) -> None:  # noqa: F811
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    group = ada.json("group", "create", "organisers", "--private")["id"]
    assert "private" in ada.ok("group", "info", group[:12]).stdout
    invited = ada.json("group", "invite", group[:12], "@bo")
    assert (invited["epoch"], invited["devices"]) == (1, 2)
    posted = ada.json("post", "--group", group[:12], CANARY)
    bo.ok("post", "--group", group, "count me in", "--reply-to", posted["id"][:12])
    page = bo.json("timeline", f"group:{group[:12]}")
    assert [(i["author"], i["text"][:12]) for i in page["items"]] == [(bo.identity, "count me in"),
                                                                       (ada.identity, CANARY[:12])]  # fmt: skip
    assert page["items"][0]["reply_to"] == posted["id"] and page["unread"] == []
    human = bo.ok("timeline", f"group:{group}").stdout
    assert "canary-3b7e" in human and "you" in human
    assert [m["text"] for m in bo.json("group", "search", "thursday")["messages"]] == [CANARY]
    ada.ok("react", posted["id"][:12], "🔥", "--group", group)
    reactions = [i for i in bo.json("timeline", f"group:{group}")["items"] if i["kind"] == "reaction"]
    assert [(r["text"], r["target"]) for r in reactions] == [("🔥", posted["id"])]

    refused = cy.run("post", "--group", group, "let me in")
    assert refused.exit_code != 0 and "holds no key" in refused.stderr
    assert cy.run("group", "invite", group, "@ada").exit_code != 0  # not a moderator

    removed = ada.json("group", "remove", group, "@bo")
    assert (removed["epoch"], removed["devices"]) == (2, 1)
    ada.ok("post", "--group", group, "after Bo left")
    after = bo.json("timeline", f"group:{group}")
    assert "after Bo left" not in [i["text"] for i in after["items"]]
    assert [u["code"] for u in after["unread"]] == ["wrong_epoch"]
    assert bo.run("post", "--group", group, "still here?").exit_code != 0

    assert ada.run("group", "invite", group, "@nobody-here").exit_code != 0
    for path in box.path.parent.glob(box.path.name + "*"):  # the database and its write-ahead log
        assert b"canary-3b7e" not in path.read_bytes()
