"""`murmur serve --log-format json` (or log_format in config.toml): every stderr line is a JSON object."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

from murmur.keys import Identity
from tests.e2e.harness import ServerProcess, murmur_cmd, wait_for
from tests.waiting import BOUND_S


def test_a_real_server_logs_json_lines_with_context(tmp_path: Path, procs: list[ServerProcess]) -> None:
    server = ServerProcess(tmp_path / "srv", extra=("--log-format", "json"), config={"retry_max_seconds": 1})
    procs.append(server.start())
    added = subprocess.run(
        murmur_cmd("peer", "add", "--data", str(server.data), "--key", Identity.generate().public_key,
                   "--name", "gone", "http://127.0.0.1:9"),
        capture_output=True, text=True, timeout=BOUND_S,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    wait_for(lambda: any('"failures"' in line for line in server.log))  # the federator's retry line
    with socket.create_connection(("127.0.0.1", server.port), timeout=BOUND_S) as garbage:
        garbage.sendall(b"\x00\x01 not http\r\n\r\n")  # uvicorn's own warning must be JSON too
        garbage.recv(1024)
    wait_for(lambda: any("Invalid HTTP request" in line for line in server.log))
    assert server.stop() == 0
    records = [json.loads(line) for line in server.log if line.strip()]  # every line is JSON
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert records[0]["message"].startswith("murmur serving ") and records[0]["server_key"] == server.key
    assert records[-1]["message"] == "murmur stopped"
    retry = next(r for r in records if "failures" in r)
    assert retry["level"] == "warning" and retry["loop"] in ("push", "pull") and retry["failures"] >= 1


def test_log_format_from_the_config_and_refused_when_unknown(tmp_path: Path, procs: list[ServerProcess]) -> None:
    server = ServerProcess(tmp_path / "srv", config={"log_format": "json"})
    procs.append(server.start())
    assert server.stop() == 0
    assert json.loads(server.log[-1])["message"] == "murmur stopped"
    wrong = subprocess.run(
        murmur_cmd("serve", "--data", str(server.data), "--log-format", "xml"), capture_output=True, text=True,
        timeout=BOUND_S,
    )  # fmt: skip
    assert wrong.returncode == 2 and "--log-format 'xml'" in wrong.stderr
    (server.data / "config.toml").write_text('log_format = "xml"\n')
    bad = subprocess.run(murmur_cmd("serve", "--data", str(server.data)), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 3 and "log_format = 'xml'" in bad.stderr
