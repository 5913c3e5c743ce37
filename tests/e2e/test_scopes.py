"""Three real servers with two labels: a post to ``inside`` reaches the inside server and never the outside one,
by push, pull, repair, bundle or relay through the inside peer; the dry-run preview lists exactly the servers
that then receive it; a peer that relays it beyond its audience is refused, and the refusal shows against it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import Person, ServerProcess, admin, murmur_cmd, stored_ids, wait_for

pytestmark = pytest.mark.timeout(240)

FAST = {"retry_max_seconds": 1, "pull_interval_seconds": 1, "rate_per_minute": 0, "repair_interval_seconds": 1}


def cli(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(murmur_cmd(*args), capture_output=True, text=True, timeout=60)
    assert result.returncode == code, result.stderr
    return result


def peer(a: ServerProcess, b: ServerProcess, name: str, *labels: str) -> None:
    flags = [arg for label in labels for arg in ("--label", label)]
    cli("peer", "add", "--data", str(a.data), b.url, "--key", b.key, "--name", name, *flags)


def member(tmp_path: Path, proc: ServerProcess, name: str) -> Person:
    person = Person(tmp_path / f"home-{name}")
    person.run("init", "--name", name)
    person.run("join", proc.url, "--invite", admin(proc.data, "invite")["code"])
    return person


def visibility(proc: ServerProcess, msg_id: str) -> str:
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT visibility FROM messages WHERE id = ?", (bytes.fromhex(msg_id),)).fetchone()
    finally:
        db.close()
    return str(row[0]) if row else ""


def test_a_post_to_inside_never_reaches_the_outside_server(tmp_path: Path, procs: list[ServerProcess]) -> None:
    a, b, c = (ServerProcess(tmp_path / n, config=FAST).start() for n in "abc")
    procs.extend([a, b, c])
    peer(a, b, "b", "inside", "team")
    peer(a, c, "c", "outside")
    peer(b, a, "a", "inside", "team")
    peer(b, c, "c")  # unlabelled: outside
    peer(c, a, "a", "outside")
    peer(c, b, "b", "outside")
    ada, bob = member(tmp_path, a, "ada"), member(tmp_path, b, "bob")

    # counted by kind: bob's identity events federate to a meanwhile, and only a post would be the dry run's
    before = len(stored_ids(a, "post"))
    preview = ada.json("post", "--audience", "inside", "--dry-run")
    assert preview["audience"] == "scope:inside"
    assert [(s["name"], s["key"], s["labels"], s["outside"]) for s in preview["servers"]] == [
        ("b", b.key, ["inside", "team"], False)
    ]
    human = ada.run("post", "--dry-run").stdout  # public: both, c flagged outside
    assert "OUTSIDE" in human and c.key[:16] in human
    assert len(stored_ids(a, "post")) == before  # a dry run signs and sends nothing

    secret = ada.json("post", "inside only", "--audience", "inside")["id"]
    wait_for(lambda: secret in stored_ids(b))
    # a reply on the inside server signs its thread's audience by default
    reply = bob.json("post", "agreed", "--reply-to", secret)["id"]
    assert visibility(b, reply) == "scope:inside"
    assert bob.json("post", "--reply-to", secret, "--dry-run")["audience"] == "scope:inside"
    # so do a reaction and a boost: a server that never holds the post still narrows them
    reacted = bob.json("react", secret, "+1")["id"]
    boosted = bob.json("boost", secret)["id"]
    assert visibility(b, reacted) == visibility(b, boosted) == "scope:inside"
    # a reply chosen for team in the inside thread signs team (never the thread's inside in its place); the preview
    # names the servers carrying both labels, as delivery then does
    team_preview = ada.json("post", "--reply-to", secret, "--audience", "team", "--dry-run")
    assert team_preview["audience"] == "scope:inside+scope:team"
    assert [s["key"] for s in team_preview["servers"]] == [b.key]
    team_reply = ada.json("post", "team only", "--reply-to", secret, "--audience", "team")["id"]
    assert visibility(a, team_reply) == "scope:team"
    wait_for(lambda: team_reply in stored_ids(b))
    wait_for(lambda: reply in stored_ids(a))
    marker = ada.json("post", "for everyone")["id"]
    late = bob.json("post", "also for everyone")["id"]
    wait_for(lambda: {marker, late} <= set(stored_ids(c)))
    for peer_name in ("a", "b"):
        cli("sync", "--data", str(c.data), peer_name, "--repair")
    cli("sync", "--data", str(b.data), "c", "--repair")
    bundle = tmp_path / "a.murmur"
    cli("export", "--data", str(a.data), "--include-local", str(bundle))
    imported = json.loads(cli("import", "--data", str(c.data), str(bundle), "--json", code=1).stdout)
    assert imported["refused"] >= 1  # the scoped post; the reply naming it is confined, not widened
    held = set(stored_ids(c))
    assert secret not in held and reply not in held and team_reply not in held

    # the preview named exactly the servers that received it
    received = {p.key for p in (b, c) if secret in stored_ids(p)}
    assert received == {s["key"] for s in preview["servers"]}

    # b is misconfigured: it now counts c inside. c does not count b so: it refuses, and says so against b.
    cli("peer", "label", "--data", str(b.data), "c", "inside")
    leaked = ada.json("post", "inside again", "--audience", "inside")["id"]

    def caught() -> bool:
        rows = json.loads(cli("peer", "list", "--data", str(c.data), "--json").stdout)["peers"]
        return any(r["key"] == b.key and r["beyond_audience"] >= 1 for r in rows)

    wait_for(caught)
    assert leaked not in stored_ids(c)
    status = cli("peer", "list", "--data", str(c.data)).stdout
    assert "beyond their audience" in status and "'inside'" in status
    # c's refusal came back to b signed: b's readers see what c withheld, and why
    wait_for(lambda: "withheld by c (" in bob.run("thread", leaked).stdout)

    # a delete's receipts: every peer it went to confirms, signed
    regret = ada.json("post", "regret")["id"]
    ada.run("delete", regret)

    def confirmed() -> bool:
        peers = ada.json("delete", regret, "--status")["peers"]
        return {p["name"]: p["status"] for p in peers} == {"b": "confirmed", "c": "confirmed"}

    wait_for(confirmed)
    assert "2 of 2 peer(s) confirmed" in ada.run("delete", regret[:12], "--status").stdout

    # murmur doctor, against real peers: each reachable, clocks agree; a person's home likewise
    report = json.loads(cli("doctor", "--data", str(a.data), "--json").stdout)
    assert report["needs_action"] is False, report
    reached = {f["subject"] for f in report["findings"] if f["area"] == "peer" and f["level"] == "ok"}
    assert reached == {"peer b", "peer c"}
    assert [f["level"] for f in report["findings"] if f["area"] == "clock"] == ["ok", "ok"]
    mine = ada.json("doctor")
    assert mine["needs_action"] is False and any(f["area"] == "clock" for f in mine["findings"])
