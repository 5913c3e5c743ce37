"""The home server as a person uses it: a real `murmur serve` process, the real CLI, real files."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from murmur.httpsig import sign_request
from murmur.keys import load_identity
from tests.e2e.harness import Person, ServerProcess, admin, murmur_cmd
from tests.waiting import BOUND_S

pytestmark = pytest.mark.timeout(600)  # about 30 CLI runs in a row: a few seconds each on a loaded machine


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    proc = ServerProcess(tmp_path / "server").start()
    yield proc
    if proc.proc is not None and proc.proc.poll() is None:
        proc.stop()


def join(person: Person, server: ServerProcess, name: str) -> str:
    person.run("init", "--name", name)
    code = admin(server.data, "invite")["code"]
    person.run("join", server.url, "--invite", code)
    return person.key


def ids(page: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["message"]["id"] for item in page["items"]]


def test_first_start_creates_data_dir_and_stops_cleanly(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path / "fresh").start()
    for name in ("server.key", "murmur.db", "config.toml"):
        assert (proc.data / name).stat().st_mode & 0o077 == 0, name
    assert "# " in (proc.data / "config.toml").read_text()
    info = admin(proc.data, "info")
    assert info["server_key"] == proc.key and info["members"] == 0 and info["url"].startswith("http://127.0.0.1:")
    assert proc.stop(signal.SIGINT) == 0
    proc2 = ServerProcess(proc.data).start()
    assert proc2.key == proc.key
    assert proc2.stop(signal.SIGTERM) == 0


def test_two_members_full_conversation_across_restarts(server: ServerProcess, tmp_path: Path) -> None:
    ada, bob = Person(tmp_path / "ada"), Person(tmp_path / "bob")
    ada_key, bob_key = join(ada, server, "Ada"), join(bob, server, "Bob")
    assert {m["key"] for m in admin(server.data, "members")["members"]} == {ada_key, bob_key}

    ada.run("profile", "--name", "Ada L", "--bio", "engines")
    bob.run("follow", ada_key)
    ada.run("follow", bob_key)
    first = ada.json("post", "hello #murmur from ada")["id"]
    reply = bob.json("post", f"hi @{ada_key}", "--reply-to", first)["id"]
    bob.run("react", first, "👍")
    bob.run("boost", first)

    server.stop()
    server.start()  # nothing stored is lost; members persist

    home = bob.json("timeline", "home")
    assert first in ids(home) and reply in ids(home)
    item = next(i for i in home["items"] if i["message"]["id"] == first and not i["boosted_by"])
    assert item["counts"] == {"replies": 1, "reactions": 1, "boosts": 1}
    assert all(i["verified"] for i in home["items"])
    assert first in ids(ada.json("timeline", "tag:murmur"))
    assert first in ids(ada.json("timeline", "local"))
    assert reply in ids(ada.json("timeline", "mentions"))
    assert ids(ada.json("timeline", f"@{bob_key}"))[0] in (reply, first)

    thread = ada.json("thread", reply)
    assert thread["root"]["id"] == first
    assert [c["id"] for c in thread["root"]["children"]] == [reply]

    notes = ada.json("notifications")
    kinds = {n["kind"] for n in notes["items"]}
    assert {"reply", "reaction", "boost", "follow"} <= kinds
    assert notes["unread"] >= 4
    ada.run("notifications", "--mark-read")
    assert ada.json("notifications")["unread"] == 0

    assert first in [p["message"]["id"] for p in bob.json("search", "hello")["posts"]]
    assert ada_key in [p["key"] for p in bob.json("search", "Ada")["people"]]
    profile = bob.json("profile", ada_key)
    assert profile["name"] == "Ada L" and profile["following"] and profile["follows_you"]

    ada.run("delete", first)
    assert first not in ids(bob.json("timeline", "home"))
    assert first not in ids(bob.json("timeline", "federated"))
    assert bob.json("search", "hello")["posts"] == []
    refused = bob.run("delete", reply.replace(reply[0], "0" if reply[0] != "0" else "1", 1), check=False)
    assert refused.returncode != 0 and refused.stderr.startswith("murmur: ")


def test_invites_persist_and_are_single_use(server: ServerProcess, tmp_path: Path) -> None:
    code = admin(server.data, "invite")["code"]
    server.stop()
    server.start()
    a, b = Person(tmp_path / "a"), Person(tmp_path / "b")
    a.run("init")
    b.run("init")
    a.run("join", server.url, "--invite", code)
    again = b.run("join", server.url, "--invite", code, check=False)
    assert again.returncode == 1 and "used" in again.stderr


def test_stream_delivers_a_new_post_live(server: ServerProcess, tmp_path: Path) -> None:
    ada = Person(tmp_path / "ada")
    join(ada, server, "Ada")
    identity = load_identity(ada.home / "profiles" / "default" / "key.pem")
    received: list[dict] = []  # type: ignore[type-arg]
    ready = threading.Event()

    def listen() -> None:
        headers = sign_request(identity, "GET", "/api/v1/stream", "", b"", recipient=server.key).as_dict()
        with httpx.stream("GET", f"{server.url}/api/v1/stream", headers=headers, timeout=BOUND_S) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                ready.set()  # the stream's opening comment: it is live from here on
                if line.startswith("data:"):
                    received.append(json.loads(line[5:]))
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(BOUND_S)
    post_id = ada.json("post", "live!")["id"]
    thread.join(BOUND_S)
    assert received, "no event arrived"
    assert received[0]["message"]["id"] == post_id  # the stream started at the end of the log: this is news


def test_backup_while_running_restores_and_serves(server: ServerProcess, tmp_path: Path) -> None:
    ada = Person(tmp_path / "ada")
    join(ada, server, "Ada")
    post_id = ada.json("post", "keep me")["id"]
    backup = tmp_path / "backup.db"
    made = subprocess.run(
        murmur_cmd("admin", "backup", "--data", str(server.data), str(backup)), capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert sqlite3.connect(backup).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    server.stop()

    restored = tmp_path / "restored"
    restored.mkdir(mode=0o700)
    for name in ("server.key", "config.toml"):
        (restored / name).write_bytes((server.data / name).read_bytes())
        (restored / name).chmod(0o600)
    (restored / "murmur.db").write_bytes(backup.read_bytes())
    (restored / "murmur.db").chmod(0o600)
    again = ServerProcess(restored, port=server.port).start()
    try:
        assert post_id in ids(ada.json("timeline", "local"))
    finally:
        again.stop()


def test_errors_are_one_line_without_traceback(server: ServerProcess, tmp_path: Path) -> None:
    ada = Person(tmp_path / "ada")
    ada.run("init")
    no_server = ada.run("timeline", check=False)
    assert no_server.returncode == 3 and "murmur join" in no_server.stderr
    not_member = ada.run("join", server.url, "--invite", "bogus", check=False)
    assert not_member.returncode == 1 and not_member.stderr.count("\n") == 1
    server_down = Person(tmp_path / "bob")
    join(server_down, server, "Bob")
    server.stop()
    down = server_down.run("timeline", check=False)
    assert down.returncode == 4 and "reach" in down.stderr
    server.start()


def test_post_says_which_hashtags_it_could_not_tag(server: ServerProcess, tmp_path: Path) -> None:
    ada = Person(tmp_path / "ada")
    join(ada, server, "Ada")
    text = " ".join(f"#tag{i}" for i in range(23)) + " #tag0"  # 23 distinct: 3 past the protocol's 20
    posted = ada.run("post", "--json", text)
    assert "only the first 20 hashtags are tagged; 3 more stay in the text untagged" in posted.stderr
    message = ada.json("thread", json.loads(posted.stdout)["id"])["root"]["item"]["message"]
    assert [v for n, v in message["tags"] if n == "hashtag"] == [f"tag{i}" for i in range(20)]
    assert message["body"]["text"] == text
    quiet = ada.run("post", "#one #two")
    assert "murmur:" not in quiet.stderr


def test_bad_values_are_usage_errors_wherever_they_are_caught(server: ServerProcess, tmp_path: Path) -> None:
    ada = Person(tmp_path / "ada")
    join(ada, server, "Ada")
    # caught by the CLI, or only by the server (400): exit 2 either way
    for args in (("timeline", "--limit", "0"), ("timeline", "everything")):
        assert ada.run(*args, check=False).returncode == 2, args
    server_checked = (
        ("thread", "zz"),
        ("profile", "zz"),
        ("timeline", "tag:no-dashes"),
        ("search", "x", "--type", "things"),
        ("timeline", "--before", "0"),
    )
    for args in server_checked:
        result = ada.run(*args, check=False)
        assert result.returncode == 2 and result.stderr.startswith("murmur: "), (args, result.stderr)
    # well-formed, refused: exit 1
    missing = ada.run("thread", "0" * 64, check=False)
    assert missing.returncode == 1 and "No thread" in missing.stderr


def test_post_reads_stdin_and_refuses_empty(server: ServerProcess, tmp_path: Path) -> None:
    ada = Person(tmp_path / "ada")
    join(ada, server, "Ada")
    posted = json.loads(ada.run("post", "--json", stdin="line one\nline two\n").stdout)
    message = ada.json("thread", posted["id"])["root"]["item"]["message"]
    assert message["body"]["text"] == "line one\nline two"
    empty = ada.run("post", stdin="   \n", check=False)
    assert empty.returncode == 1 and "empty" in empty.stderr
    local = ada.json("post", "team only", "--local", "--cw", "spoilers")
    body = ada.json("thread", local["id"])["root"]["item"]["message"]["body"]
    assert body == {"text": "team only", "visibility": "local", "cw": "spoilers"}


def test_join_publishes_the_name_given_at_init(server: ServerProcess, tmp_path: Path) -> None:
    ada, bob = Person(tmp_path / "ada"), Person(tmp_path / "bob")
    ada_key = join(ada, server, "Ada")
    join(bob, server, "Bob")
    assert bob.json("profile", ada_key)["name"] == "Ada"
    ada.run("post", "hello")
    assert bob.json("timeline", "local")["names"][ada_key] == "Ada"
    # A name set since (from anywhere) is never overwritten by joining again.
    ada.run("profile", "--name", "Ada L")
    ada.run("join", server.url)
    assert bob.json("profile", ada_key)["name"] == "Ada L"


def test_a_different_server_on_the_joined_address_is_named(server: ServerProcess, tmp_path: Path) -> None:
    ada = Person(tmp_path / "ada")
    join(ada, server, "Ada")
    server.stop()
    other = ServerProcess(tmp_path / "other", port=server.port).start()
    try:
        wrong = ada.run("timeline", check=False)
        posted = ada.run("post", "hello", check=False)
    finally:
        other.stop()
    for result in (wrong, posted):
        assert result.returncode == 4, result.stderr
        assert "different server" in result.stderr and "not a member" not in result.stderr
        assert result.stderr.count("\n") == 1
    server.start()
    assert ada.json("timeline", "local")["items"] == []


def test_short_ids_mentions_and_taking_back(server: ServerProcess, tmp_path: Path) -> None:
    """What a newcomer types: the ids and names they see, not 64-hex keys."""
    ada, bob = Person(tmp_path / "ada"), Person(tmp_path / "bob")
    ada_key = join(ada, server, "Ada Lovelace")
    join(bob, server, "Bob")
    first = ada.json("post", "hello #murmur")["id"]
    short = first[:8]
    reply = bob.json("post", "hi @ada_lovelace", "--reply-to", first[:12])
    message = bob.json("thread", short)["root"]["children"][0]["item"]["message"]
    assert message["id"] == reply["id"] and message["body"]["text"] == f"hi @{ada_key}"
    assert ["mention", ada_key] in message["tags"]
    shown = ada.run("thread", short).stdout
    assert f"@Ada Lovelace ({ada_key[:4]}-" in shown and f"@{ada_key}" not in shown

    for _ in range(2):
        bob.run("react", short, "👍")
        bob.run("boost", first[:10])
    item = next(i for i in ada.json("timeline", "local")["items"] if i["message"]["id"] == first)
    assert item["counts"] == {"replies": 1, "reactions": 1, "boosts": 1}
    assert [n["kind"] for n in ada.json("notifications")["items"]].count("boost") == 1
    bob.run("unboost", short)
    bob.run("unreact", short, "👍")
    item = next(i for i in ada.json("timeline", "local")["items"] if i["message"]["id"] == first)
    assert item["counts"] == {"replies": 1, "reactions": 0, "boosts": 0}
    again = bob.run("unboost", short, check=False)
    assert again.returncode == 1 and "not boosted" in again.stderr and again.stderr.count("\n") == 1

    bob.run("follow", ada_key[:9])
    assert bob.json("profile", ada_key[:8])["following"]
    bob.run("unfollow", "@Ada_Lovelace")
    assert not bob.json("profile", "@ada_lovelace")["following"]
    assert first in ids(bob.json("timeline", "@ada_lovelace"))
    bad_key = bob.run("follow", "abc", check=False)
    assert bad_key.returncode == 2 and "at least 8" in bad_key.stderr
    too_short = bob.run("react", first[:5], "👍", check=False)
    assert too_short.returncode == 2 and "at least 8" in too_short.stderr  # a usage error, caught before sending
    unknown = bob.run("post", "hey @nobody", check=False)
    assert unknown.returncode == 1 and "Nobody called @nobody" in unknown.stderr
    found = ada.run("search", "hello").stdout
    assert "Ada Lovelace" in found and first[:12] in found
