"""`murmur doctor`: one line per finding, exit 1 when one needs action: clocks, reachability, the manifest's
signatures, key and data file permissions, pending deliveries."""

from __future__ import annotations

import json
import sqlite3
from email.utils import formatdate
from pathlib import Path

import pytest

from murmur.doctor import ACTION, OK, WARN, clock_skew, private_file
from murmur.keys import Identity
from tests.cli.datadir import data_dir, invoke  # noqa: F401 (data_dir: the fixture `data`)

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("offset", "level"), [(0, OK), (2, OK), (-15, WARN), (20, WARN), (45, ACTION), (-3600, ACTION)]
)
def test_clock_skew_is_judged_against_the_signature_window(offset: float, level: str) -> None:
    finding = clock_skew("peer b", formatdate(NOW + offset, usegmt=True), NOW - 0.05, NOW + 0.05)
    assert finding.level == level, finding
    if level != OK:
        assert ("ahead of" if offset > 0 else "behind") in finding.message


@pytest.mark.parametrize("header", [None, "", "yesterday", "Mon, 99 Foo 2026 99:99:99 GMT"])
def test_an_unreadable_date_is_a_warning_not_a_crash(header: str | None) -> None:
    assert clock_skew("peer b", header, NOW, NOW).level == WARN


def test_a_key_file_others_can_read_needs_action(tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.write_text("x")
    key.chmod(0o600)
    assert private_file(key, "key").level == OK
    key.chmod(0o640)
    assert private_file(key, "key").level == ACTION
    assert private_file(tmp_path / "missing", "key").level == ACTION


def test_a_healthy_server_exits_0_and_a_tampered_manifest_or_open_key_exit_1(data: Path) -> None:
    key = Identity.generate().public_key
    added = invoke("peer", "add", "--data", str(data), "--key", key, "--mode", "serve-only", "--label", "inside")
    assert added.exit_code == 0, added.stderr
    healthy = invoke("doctor", "--data", str(data), "--json")
    assert healthy.exit_code == 0, healthy.stdout
    found = json.loads(healthy.stdout)
    assert found["needs_action"] is False
    assert {f["area"] for f in found["findings"]} >= {"files", "manifest", "peer", "deliveries"}

    db = sqlite3.connect(data / "murmur.db")
    with db:
        db.execute("UPDATE peer_labels SET label = 'outside'")  # behind the manifest's back
    db.close()
    tampered = invoke("doctor", "--data", str(data))
    assert tampered.exit_code == 1
    [line] = [x for x in tampered.stdout.splitlines() if x.startswith("action")]
    assert "manifest" in line and "differ from signed version" in line

    (data / "server.key").chmod(0o644)
    opened = invoke("doctor", "--data", str(data))
    assert opened.exit_code == 1
    assert any(x.startswith("action") and "server.key" in x for x in opened.stdout.splitlines())
    assert "Traceback" not in opened.stdout + opened.stderr


def test_open_registration_on_a_server_taking_part_in_audiences_is_a_warning(data: Path) -> None:
    def registration() -> dict[str, str]:
        done = invoke("doctor", "--data", str(data), "--json")
        assert done.exit_code == 0, done.stdout  # a warning, not an action
        [finding] = [f for f in json.loads(done.stdout)["findings"] if f["area"] == "members"]
        return finding

    assert registration()["level"] == OK and "invitation" in registration()["message"]
    config = data / "config.toml"
    config.write_text(config.read_text().replace("open_registration = false", "open_registration = true"))
    assert registration()["level"] == OK  # open, but no audience here to read from
    key = Identity.generate().public_key
    added = invoke("peer", "add", "--data", str(data), "--key", key, "--mode", "serve-only", "--label", "inside")
    assert added.exit_code == 0, added.stderr
    warned = registration()
    assert (
        warned["level"] == WARN and "inside" in warned["message"] and "open_registration = false" in warned["message"]
    )
