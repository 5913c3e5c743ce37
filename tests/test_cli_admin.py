"""Admin commands on a data directory through the program (typer's CliRunner): peers that are never dialed, and
a sync with nothing to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from murmur.client.cli.main import app
from murmur.keys import Identity
from tests.cli.datadir import data_dir, invoke  # noqa: F401 (data_dir: the fixture `data`)


def test_a_serve_only_peer_needs_no_url(data: Path) -> None:
    key = Identity.generate().public_key
    added = invoke("peer", "add", "--data", str(data), "--key", key, "--mode", "serve-only", "--name", "far")
    assert added.exit_code == 0, added.stderr
    assert added.stdout == "Peer far (serve-only) added.\n"
    listed = json.loads(invoke("peer", "list", "--data", str(data), "--json").stdout)["peers"]
    assert [(p["key"], p["url"], p["mode"]) for p in listed] == [(key, "", "serve-only")]
    human = invoke("peer", "list", "--data", str(data)).stdout
    assert human.splitlines()[0].split()[-1] == "-"


@pytest.mark.parametrize("mode", ["push-pull", "pull-only"])
def test_a_dialed_peer_without_url_is_a_usage_error(data: Path, mode: str) -> None:
    key = Identity.generate().public_key
    result = invoke("peer", "add", "--data", str(data), "--key", key, "--mode", mode)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and "needs its URL" in result.stderr
    assert json.loads(invoke("peer", "list", "--data", str(data), "--json").stdout) == {"peers": []}


def test_sync_with_no_peer_says_there_is_nothing_to_do(data: Path) -> None:
    result = invoke("sync", "--data", str(data))
    assert result.exit_code == 0
    assert result.stdout.startswith("Nothing to sync: this server has no peers")
    as_json = invoke("sync", "--data", str(data), "--json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == {"peers": []}


def test_sync_with_only_serve_only_peers_says_why(data: Path) -> None:
    key = Identity.generate().public_key
    invoke("peer", "add", "--data", str(data), "--key", key, "--mode", "serve-only")
    result = invoke("sync", "--data", str(data))
    assert result.exit_code == 0
    assert (
        result.stdout
        == "Nothing to sync: this server dials none of its peers (1 serve-only: they sync by dialing it).\n"
    )
    assert json.loads(invoke("sync", "--data", str(data), "--json").stdout) == {"peers": []}


@pytest.mark.parametrize(
    "args",
    [
        ["peer", "add", "http://x:1", "--key", "zz"],  # a key that is not one
        ["peer", "add", "ftp://x", "--key", "0" * 63 + "1"],  # a URL this server cannot dial
        ["peer", "add", "http://x:1", "--key", "0" * 63 + "1", "--mode", "bogus"],  # an unknown mode
        ["admin", "members", "--remove", "zz"],
        ["admin", "invite", "--ttl", "5x"],
        ["admin", "invite", "--ttl", "9" * 5000 + "d"],  # past int()'s digit limit: was a traceback
        ["admin", "invite", "--ttl", "\u0663d"],  # an Arabic-Indic three: was read as 3 days
        ["admin", "invite", "--ttl", "0d"],
        ["admin", "invite", "--ttl", "1_0d"],
        ["serve", "--port", "99999"],  # beyond the TCP ports: was a traceback
        ["serve", "--port", "-1"],
    ],
    ids=" ".join,
)
def test_bad_values_on_the_command_line_are_usage_errors(data: Path, args: list[str]) -> None:
    split = 2 if args[0] in ("peer", "admin") else 1  # --data goes after the (sub)command's name
    result = invoke(*args[:split], "--data", str(data), *args[split:])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("murmur: ")
    assert json.loads(invoke("peer", "list", "--data", str(data), "--json").stdout) == {"peers": []}


def test_a_bad_key_to_follow_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["follow", "zz"], env={"MURMUR_HOME": str(tmp_path)})
    assert result.exit_code == 2 and "hex digits" in result.stderr, result.stderr
