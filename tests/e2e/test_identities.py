"""An identity across two real servers: devices added and removed, a theft, a recovery, a fork made on purpose
(docs/protocol.md §13; docs/cli.md, "Devices and recovery")."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from murmur import key_events as ke
from murmur.jcs import canonicalize
from murmur.keys import Identity, load_identity
from murmur.message import now_ms, sign_draft
from murmur.sync.bundle import BundleWriter
from tests.e2e.harness import Person, ServerProcess, admin, murmur_cmd, stored_ids, wait_for

pytestmark = pytest.mark.timeout(300)

FAST = {"retry_max_seconds": 1, "pull_interval_seconds": 1, "rate_per_minute": 0}


def server(tmp_path: Path, name: str) -> ServerProcess:
    return ServerProcess(tmp_path / name, config=FAST).start()


def peer(a: ServerProcess, b: ServerProcess, name: str) -> None:
    args = murmur_cmd("peer", "add", "--data", str(a.data), b.url, "--key", b.key, "--name", name)
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def devices_held(proc: ServerProcess, identity: str) -> dict[str, int | None]:
    """The server's own resolution of the identity: device key -> removed_at."""
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT device, removed_at FROM identity_devices WHERE identity = ?", (bytes.fromhex(identity),)
        ).fetchall()
    finally:
        db.close()
    return {bytes(r[0]).hex(): r[1] for r in rows}


def import_into(proc: ServerProcess, tmp_path: Path, messages: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """Bring messages in by the bundle door (``murmur import --data``), as a thief with a copied key could."""
    path = tmp_path / f"{name}.murmur"
    with path.open("wb") as out, BundleWriter(out, len(messages), {}) as writer:
        for m in messages:
            writer.add(canonicalize(m))
    result = subprocess.run(murmur_cmd("import", "--data", str(proc.data), str(path), "--json"), capture_output=True,
                            text=True)  # fmt: skip
    return dict(json.loads(result.stdout))


def first_device(home: Path, proc: ServerProcess) -> tuple[Person, str]:
    """A person joined to ``proc`` whose device (called laptop) is the first of a new identity; with the identity."""
    laptop = Person(home)
    laptop.run("init", "--name", "ada")
    laptop.run("join", proc.url, "--invite", admin(proc.data, "invite")["code"])
    return laptop, laptop.json("identity", "create", "--name", "laptop")["identity"]


def post_for(device: Identity, identity: str, text: str) -> dict[str, Any]:
    draft = {"kind": "post", "body": {"text": text}, "tags": [["identity", identity]]}
    return sign_draft(device, draft, created_at=now_ms())


def test_devices_theft_recovery_and_a_fork_across_two_servers(tmp_path: Path, procs: list[ServerProcess]) -> None:
    a, b = server(tmp_path, "a"), server(tmp_path, "b")
    procs.extend([a, b])
    peer(a, b, "b")
    peer(b, a, "a")

    laptop = Person(tmp_path / "laptop")
    laptop.run("init", "--name", "ada")
    laptop.run("join", a.url, "--invite", admin(a.data, "invite")["code"])
    identity = laptop.json("identity", "create", "--name", "laptop")["identity"]
    assert laptop.json("whoami")["identity"] == identity
    recovery = tmp_path / "recovery.txt"
    laptop.run("recovery", "export", str(recovery), "--words")
    assert recovery.stat().st_mode & 0o777 == 0o600

    # pairing: the new device writes a request; an existing one approves it; the new key never leaves its home
    phone = Person(tmp_path / "phone")
    phone.run("init")
    request = tmp_path / "phone.request"
    code = phone.json("device", "add", identity, "--name", "phone", "--out", str(request), "--server", a.url)["code"]
    assert "PRIVATE" not in request.read_text()
    assert laptop.json("device", "approve", str(request))["code"] == code
    listing = phone.json("device", "list")
    assert listing["identity"] == identity
    assert [(d["name"], d["current"]) for d in listing["devices"]] == [("laptop", True), ("phone", True)]

    # both devices post; both posts reach the other server, as the identity's
    from_laptop = laptop.json("post", "from the laptop")["id"]
    from_phone = phone.json("post", "from the phone")["id"]
    wait_for(lambda: {from_laptop, from_phone} <= set(stored_ids(b)))
    wait_for(lambda: len(devices_held(b, identity)) == 2)

    # the phone is removed; what it signed before stays, what it signs after is refused on both servers
    laptop.run("device", "remove", "phone")
    wait_for(lambda: devices_held(b, identity).get(phone.key) is not None)
    stolen_phone = load_identity(phone.home / "profiles" / "default" / "key.pem")
    late = post_for(stolen_phone, identity, "the phone after its removal")
    for proc, name in ((a, "late-a"), (b, "late-b")):
        report = import_into(proc, tmp_path, [late], name)
        assert report["refused"] == 1 and "device_removed" in json.dumps(report)
    assert from_phone in stored_ids(a) and from_phone in stored_ids(b)
    assert phone.run("post", "still here?", check=False).returncode != 0  # the home server no longer takes it

    # theft of the laptop: the thief cannot rotate, but can act as a device until the owner recovers
    thief = load_identity(laptop.home / "profiles" / "default" / "key.pem")
    thief_rotation = ke.rotation(thief, identity, _head(laptop, identity), thief.public_key)
    report = import_into(a, tmp_path, [thief_rotation], "thief-rotation")
    assert "not_rotation_key" in json.dumps(report)

    spare = Person(tmp_path / "spare")
    spare.run("init")
    spare.run("join", a.url, "--invite", admin(a.data, "invite")["code"])
    spare.json("recover", str(recovery), "--name", "spare")
    assert "murmur recovery v1" in recovery.read_text()  # replaced with the next rotation key
    wait_for(lambda: devices_held(b, identity).get(thief.public_key) is not None)
    after = post_for(thief, identity, "the thief after the recovery")
    for proc, name in ((a, "thief-a"), (b, "thief-b")):
        assert "device_removed" in json.dumps(import_into(proc, tmp_path, [after], name))
    from_spare = spare.json("post", "it is me again")["id"]
    wait_for(lambda: from_spare in stored_ids(b))

    # moving home: signed by a device, it reaches the other server; a server (or anyone) without a device key
    # cannot forge one
    spare.json("move", b.url)
    wait_for(lambda: _home(b, identity) == b.url)
    forged = ke.move(Identity.from_seed(bytes([99]) * 32), identity, _head(spare, identity), "http://elsewhere.example")
    assert "not_device" in json.dumps(import_into(b, tmp_path, [forged], "forged-move"))
    assert _home(a, identity) == b.url

    # a fork made on purpose: two events at one place, both kept, none picked, shown to readers
    spare_key = load_identity(spare.home / "profiles" / "default" / "key.pem")
    place = _head(spare, identity)
    one = ke.add_device(spare_key, identity, place, _device(identity, 71, "one"))
    other = ke.add_device(spare_key, identity, place, _device(identity, 72, "other"))
    import_into(a, tmp_path, [one, other], "fork")
    wait_for(lambda: {one["id"], other["id"]} <= set(stored_ids(b)))
    shown = spare.json("device", "list")
    assert shown["fork"]["place"] == place and set(shown["fork"]["branches"]) == {one["id"], other["id"]}
    assert "FORK" in spare.run("device", "list").stdout


def _home(proc: ServerProcess, identity: str) -> str | None:
    db = sqlite3.connect(f"file:{proc.data / 'murmur.db'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT home FROM identities WHERE identity = ?", (bytes.fromhex(identity),)).fetchone()
    finally:
        db.close()
    return None if row is None else row[0]


def _head(person: Person, identity: str) -> str:
    listing = person.json("device", "list")
    assert listing["identity"] == identity
    return str(listing["head"])


def _device(identity: str, seed: int, name: str) -> dict[str, str]:
    from tests.identity_logs import x25519

    new = Identity.from_seed(bytes([seed]) * 32)
    return ke.device_body(new.public_key, name, x25519(seed), ke.device_proof(new, identity))


def test_a_move_to_a_peer_keeps_followers_on_the_same_identity(tmp_path: Path, procs: list[ServerProcess]) -> None:
    """Old home a, new home b, the follower's server c, each peering with the two others: after the move, what a
    device signs through b reaches the follower as the same identity, and c says it trusts the new home."""
    a, b, c = server(tmp_path, "a"), server(tmp_path, "b"), server(tmp_path, "c")
    procs.extend([a, b, c])
    for x, y in ((a, b), (a, c), (b, c)):
        peer(x, y, y.data.name)
        peer(y, x, x.data.name)

    laptop, identity = first_device(tmp_path / "laptop", a)
    fan = Person(tmp_path / "fan")
    fan.run("init")
    fan.run("join", c.url, "--invite", admin(c.data, "invite")["code"])
    fan.run("follow", identity)
    before = laptop.json("post", "from the old home")["id"]

    laptop.json("move", b.url)
    wait_for(lambda: _home(c, identity) == b.url)
    profile = fan.json("profile", identity)
    assert profile["identity"]["home"] == b.url and profile["identity"]["home_trust"] == "peer"
    assert "move" in [n["kind"] for n in fan.json("notifications")["items"]]

    # a device on the new home signs for the same identity; the follower's home timeline holds both posts as it
    phone = Person(tmp_path / "phone")
    phone.run("init")
    phone.run("join", b.url, "--invite", admin(b.data, "invite")["code"])
    request = tmp_path / "phone.request"
    phone.json("device", "add", identity, "--name", "phone", "--out", str(request), "--server", b.url)
    laptop.json("device", "approve", str(request))
    wait_for(lambda: len(devices_held(b, identity)) == 2)
    after = phone.json("post", "from the new home")["id"]

    def home_timeline() -> list[tuple[str, str]]:
        return [(i["message"]["id"], i["identity"]) for i in fan.json("timeline", "home")["items"]]

    wait_for(lambda: {after, before} <= {m for m, _ in home_timeline()})
    assert {who for _, who in home_timeline()} == {identity}
