"""init / whoami / sign / verify through the real entry point, with a temporary home."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path


def murmur(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MURMUR_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "murmur.client.cli", *args], input=stdin, capture_output=True, text=True, env=env
    )


def test_init_creates_private_key_and_refuses_overwrite(tmp_path: Path) -> None:
    first = murmur(tmp_path, "init", "--json")
    assert first.returncode == 0, first.stderr
    key = json.loads(first.stdout)["key"]
    key_file = tmp_path / "profiles" / "default" / "key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    again = murmur(tmp_path, "init")
    assert again.returncode == 3
    assert "--force" in again.stderr and "Traceback" not in again.stderr
    assert json.loads(murmur(tmp_path, "whoami", "--json").stdout)["key"] == key

    forced = murmur(tmp_path, "init", "--force", "--json")
    assert json.loads(forced.stdout)["key"] != key


def test_whoami_without_identity_says_what_to_do(tmp_path: Path) -> None:
    result = murmur(tmp_path, "whoami")
    assert result.returncode == 3
    assert "murmur init" in result.stderr and "Traceback" not in result.stderr


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    murmur(tmp_path, "init")
    key_file = tmp_path / "profiles" / "default" / "key.pem"
    key_file.chmod(0o644)
    result = murmur(tmp_path, "whoami")
    assert result.returncode == 3 and "chmod 600" in result.stderr


def test_sign_then_verify_round_trip_and_tamper(tmp_path: Path) -> None:
    murmur(tmp_path, "init", "--name", "Ada")
    signed = murmur(tmp_path, "sign", stdin='{"kind": "post", "body": {"text": "hello #murmur"}}')
    assert signed.returncode == 0, signed.stderr
    line = signed.stdout.strip()
    message = json.loads(line)
    assert message["body"] == {"text": "hello #murmur", "visibility": "public"}
    assert message["tags"] == [["hashtag", "murmur"]]

    ok = murmur(tmp_path, "verify", stdin=line + "\n")
    assert ok.returncode == 0 and ok.stdout.strip() == f"ok {message['id']}"

    tampered = line.replace("hello", "HELLO")
    mixed = murmur(tmp_path, "verify", stdin=f"{line}\n{tampered}\n")
    assert mixed.returncode == 1
    out = mixed.stdout.splitlines()
    assert out[0] == f"ok {message['id']}"
    assert out[1].startswith("refused id_mismatch: ")


def test_sign_refuses_invalid_draft_with_reason(tmp_path: Path) -> None:
    murmur(tmp_path, "init")
    result = murmur(tmp_path, "sign", stdin='{"kind": "post", "body": {"text": "x", "text": "y"}}')
    assert result.returncode == 1 and "appears twice" in result.stderr
    result = murmur(tmp_path, "sign", stdin='{"kind": "survey", "body": {}}')
    assert result.returncode == 1 and "survey" in result.stderr


def test_verify_json_lines_output(tmp_path: Path) -> None:
    murmur(tmp_path, "init")
    line = murmur(tmp_path, "sign", stdin='{"body": {"text": "hi"}}').stdout.strip()
    result = murmur(tmp_path, "verify", "--json", stdin=line + "\n{}\n")
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert rows[0]["status"] == "ok"
    assert rows[1] == {"line": 2, "status": "refused", "code": "missing_field", "reason": rows[1]["reason"]}
    assert result.returncode == 1
