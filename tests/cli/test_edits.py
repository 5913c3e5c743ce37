"""``murmur edit`` and ``murmur history`` against a home server whose answers the test writes, and what the
reading commands show of an edited post."""

from __future__ import annotations

import json
import sys
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.validate import check
from tests.cli.fakehome import FakeHome, Ran
from tests.hostile import HOSTILE, acting_characters

OTHER = Identity.from_seed(b"\x07" * 32)
AT = 1_700_000_000_000


def post(who: Identity, text: str, **body: Any) -> dict[str, Any]:
    return sign_draft(who, {"kind": "post", "body": {"text": text, **body}}, created_at=AT)


def edit(who: Identity, target: dict[str, Any], text: str, at: int = AT + 60_000, **body: Any) -> dict[str, Any]:
    draft = {"kind": "edit", "body": {"text": text, **body}, "tags": [["target", target["id"]]]}
    return sign_draft(who, draft, created_at=at)


def version(message: dict[str, Any]) -> dict[str, Any]:
    row = {"id": message["id"], "text": message["body"]["text"], "created_at": message["created_at"]}
    if message["body"].get("cw"):
        row["cw"] = message["body"]["cw"]
    return {**row, "message": message}


class Published:
    """Records what the CLI publishes, answered as a server would."""

    def __init__(self, fake: FakeHome) -> None:
        self.messages: list[dict[str, Any]] = []
        self.fake = fake
        fake.handle = self.handle  # type: ignore[method-assign]

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/api/v1/messages":
            message = json.loads(request.content)
            check(message)
            self.messages.append(message)
            answer = {"status": "stored", "id": message["id"], "seq": len(self.messages)}
            return httpx.Response(201, content=json.dumps(answer).encode())
        return FakeHome.handle(self.fake, request)


def serve_post(fake: FakeHome, message: dict[str, Any], *edits: dict[str, Any]) -> None:
    """The post and its history, at its full id (the server resolves prefixes: tests/server)."""
    answer = {**message, "edit": edits[-1], "edited_at": edits[-1]["created_at"]} if edits else message
    fake.answer(f"/api/v1/messages/{message['id']}", answer)
    if message["kind"] == "post":
        fake.answer(f"/api/v1/messages/{message['id']}/history", {"versions": [version(m) for m in (message, *edits)]})


def run(fake: FakeHome, *args: str, stdin: str | None = None, tty: bool = False) -> Ran:
    from murmur.client.cli.main import main

    with CliRunner().isolation(input=stdin) as (out, err, _):
        if tty:
            sys.stdin.isatty = lambda: True  # type: ignore[method-assign]  # the test's stdin stands for a terminal
        try:
            main(["--home", str(fake.home), *args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        return Ran(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))


def test_edit_publishes_a_signed_edit_of_the_post(fake_home: FakeHome) -> None:
    mine = post(fake_home.identity, "teh plan #ops", cw="work")
    serve_post(fake_home, mine)
    sent = Published(fake_home)
    result = run(fake_home, "edit", mine["id"], "the plan #ops @" + OTHER.public_key, "--json")
    assert result.exit_code == 0, result.output
    [message] = sent.messages
    assert json.loads(result.stdout)["id"] == message["id"]
    assert message["kind"] == "edit" and message["author"] == fake_home.identity.public_key
    assert message["body"] == {"text": f"the plan #ops @{OTHER.public_key}", "cw": "work"}  # the cw is kept
    assert message["tags"] == [["target", mine["id"]], ["hashtag", "ops"], ["mention", OTHER.public_key]]
    assert run(fake_home, "edit", mine["id"], "no warning now", "--cw", "").exit_code == 0
    assert sent.messages[-1]["body"] == {"text": "no warning now"}
    plain = run(fake_home, "edit", mine["id"], "again")
    assert plain.stdout == f"Edited with {sent.messages[-1]['id']}\n"


def test_edit_reads_stdin_or_opens_the_editor_on_the_current_text(
    fake_home: FakeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = post(fake_home.identity, "first words")
    serve_post(fake_home, mine, edit(fake_home.identity, mine, "current words"))
    sent = Published(fake_home)
    assert run(fake_home, "edit", mine["id"], stdin="piped words\n").exit_code == 0
    assert sent.messages[-1]["body"]["text"] == "piped words"
    monkeypatch.setenv("EDITOR", "sed -i s/current/edited/")
    monkeypatch.delenv("VISUAL", raising=False)
    result = run(fake_home, "edit", mine["id"], tty=True)
    assert result.exit_code == 0, result.output
    assert sent.messages[-1]["body"]["text"] == "edited words"  # the editor was given the newest version


@pytest.mark.parametrize(
    "case,code,says",
    [
        ("someone else's", 1, "someone else's; you can only edit your own"),
        ("not a post", 1, "not a post; only posts can be edited"),
        ("unknown", 1, "No such thing here"),
        ("malformed", 2, "hex"),
        ("empty", 1, "the edit is empty"),
    ],
)
def test_edit_says_what_is_wrong_in_one_line(fake_home: FakeHome, case: str, code: int, says: str) -> None:
    theirs = post(OTHER, "their words")
    mine = post(fake_home.identity, "my words")
    reaction = sign_draft(
        fake_home.identity, {"kind": "reaction", "body": {"emoji": "+"}, "tags": [["target", theirs["id"]]]}
    )
    for message in (theirs, mine, reaction):
        serve_post(fake_home, message)
    sent = Published(fake_home)
    target, text = {
        "someone else's": (theirs["id"], "mine now"),
        "not a post": (reaction["id"], "changed"),
        "unknown": ("ef" * 32, "anything"),
        "malformed": ("xyz", "anything"),
        "empty": (mine["id"], "  "),
    }[case]
    result = run(fake_home, "edit", target, text)
    assert result.exit_code == code, result.output
    assert says in result.stderr and result.stderr.count("\n") == 1 and result.stderr.startswith("murmur: ")
    assert sent.messages == []


def test_history_lists_each_version_with_its_time(fake_home: FakeHome) -> None:
    mine = post(fake_home.identity, "one")
    later = [edit(fake_home.identity, mine, "two", at=AT + 1000), edit(fake_home.identity, mine, "three", cw="x")]
    serve_post(fake_home, mine, *later)
    result = run(fake_home, "history", mine["id"], "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "versions": [
            {"id": mine["id"], "text": "one", "created_at": AT},
            {"id": later[0]["id"], "text": "two", "created_at": AT + 1000},
            {"id": later[1]["id"], "text": "three", "cw": "x", "created_at": AT + 60_000},
        ]
    }
    plain = run(fake_home, "history", mine["id"]).stdout
    assert plain.startswith("original · 2023-11-14 22:13:20 UTC (") and "edit 2 · 2023-11-14 22:14:20 UTC" in plain
    assert plain.index("one") < plain.index("two") < plain.index("three") and "CW: x" in plain


def test_history_leaves_out_a_version_that_does_not_check_out(fake_home: FakeHome) -> None:
    mine = post(fake_home.identity, "one")
    genuine = edit(fake_home.identity, mine, "two")
    forged = {**edit(OTHER, mine, "words put in my mouth")}
    tampered = {**genuine, "body": {"text": "altered"}}
    fake_home.answer(
        f"/api/v1/messages/{mine['id']}/history", {"versions": [version(m) for m in (mine, forged, tampered, genuine)]}
    )
    rows = json.loads(run(fake_home, "history", mine["id"], "--json").stdout)["versions"]
    assert [r["text"] for r in rows] == ["one", "two"]
    # A first version that is not the post asked about: nothing is shown.
    fake_home.answer(f"/api/v1/messages/{mine['id']}/history", {"versions": [version(genuine)]})
    result = run(fake_home, "history", mine["id"])
    assert result.exit_code == 1 and "does not check out" in result.stderr


def test_reading_commands_show_the_newest_text_and_when_it_was_edited(fake_home: FakeHome) -> None:
    theirs = post(OTHER, "old text here")
    newest = edit(OTHER, theirs, "new text here", at=AT + 3_600_000)
    item = {
        "seq": 1,
        "message": theirs,
        "boosted_by": None,
        "boost": None,
        "counts": {"replies": 0, "reactions": 0, "boosts": 0},
        "origin": "local",
        "edit": newest,
        "edited_at": newest["created_at"],
    }
    fake_home.answer("/api/v1/timelines/home", {"items": [item], "next_cursor": None})
    root = {"id": theirs["id"], "parent": None, "item": item, "children": []}
    fake_home.answer(f"/api/v1/threads/{theirs['id']}", {"root": root, "size": 0, "truncated": False})
    fake_home.answer("/api/v1/search", {"posts": [item]})
    for command in (["timeline"], ["thread", theirs["id"]], ["search", "text"]):
        out = run(fake_home, *command).stdout
        assert "new text here" in out and "old text here" not in out, command
        assert " · edited " in out, command
    # An edit that is not the post's author's is not shown as the post's words.
    forged = edit(fake_home.identity, theirs, "forged text")
    fake_home.answer("/api/v1/timelines/home", {"items": [{**item, "edit": forged}], "next_cursor": None})
    out = run(fake_home, "timeline").stdout
    assert "forged text" not in out and "failed verification" in out


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
def test_an_edits_text_is_inert_wherever_it_is_shown(fake_home: FakeHome, hostile: str) -> None:
    theirs = post(OTHER, "before")
    newest = edit(OTHER, theirs, f"after {hostile} end", cw=f"cw {hostile}")
    item = {"seq": 1, "message": theirs, "counts": {}, "origin": "local", "edit": newest, "edited_at": AT}
    fake_home.answer("/api/v1/timelines/home", {"items": [item], "next_cursor": None})
    notice = {"seq": 2, "kind": "edit", "actor": OTHER.public_key, "target_id": theirs["id"], "message": newest}
    fake_home.answer("/api/v1/notifications", {"items": [notice], "next_cursor": None, "unread": 1})
    serve_post(fake_home, theirs, newest)
    for command in (["timeline", "--show-cw"], ["notifications", "--show-cw"], ["history", theirs["id"]]):
        result = run(fake_home, *command)
        assert result.exit_code == 0, (command, result.output)
        assert "after" in result.stdout and acting_characters(result.output) == [], command
