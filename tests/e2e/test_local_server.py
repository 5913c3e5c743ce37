"""`murmur up`/`down` and `murmur admin info` against real `murmur serve` processes: the URL a server really runs
on, a free port when the configured one is taken, and where each kind of file lives (XDG, or one --home)."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from murmur.server.config import DataDir, ServerConfig
from tests.e2e.harness import ServerProcess, admin, murmur_cmd
from tests.waiting import BOUND_S


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        murmur_cmd(*args),
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another program is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def downs() -> Iterator[list[dict[str, str]]]:
    """Environments whose `murmur up` server must be stopped at the end, whatever happened."""
    envs: list[dict[str, str]] = []
    yield envs
    for env in envs:
        run(env, "down")


def test_admin_info_shows_the_url_the_server_runs_on(tmp_path: Path, procs: list[ServerProcess]) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data)
    procs.append(server)
    server.start()  # --port 0: only the running server knows its port
    info = admin(data, "info")
    assert info["url"] == server.url and info["running"] is True
    human = subprocess.run(murmur_cmd("admin", "info", "--data", str(data)), capture_output=True, text=True)
    assert f"url                {server.url}" in human.stdout.splitlines()

    assert server.stop() == 0
    info = admin(data, "info")
    assert info["url"] == DataDir(data).config().url and info["running"] is False
    assert not DataDir(data).running_path.exists()


def test_admin_info_falls_back_to_the_config_after_a_kill(tmp_path: Path, procs: list[ServerProcess]) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data)
    procs.append(server)
    server.start()
    server.kill()  # leaves its record behind; its process is gone
    assert DataDir(data).running_path.exists()
    info = admin(data, "info")
    assert info["url"] == "http://127.0.0.1:8470" and info["running"] is False


def test_up_takes_a_free_port_when_its_own_is_taken_and_remembers_it(
    tmp_path: Path, held_port: int, downs: list[dict[str, str]]
) -> None:
    home = tmp_path / "home"
    env = {"MURMUR_HOME": str(home)}
    DataDir(home / "server").create(ServerConfig(port=held_port))
    downs.append(env)
    result = run(env, "up", "--no-tui", "--name", "Ada")
    assert result.returncode == 0, result.stderr
    profile = tomllib.loads((home / "config.toml").read_text())["profiles"]["default"]
    url = profile["server"]
    port = int(url.rsplit(":", 1)[1])
    assert port not in (held_port, 0)
    assert DataDir(home / "server").config().port == port  # remembered for the next start
    assert json.loads(run(env, "whoami", "--json").stdout)["server"] == url
    assert run(env, "timeline", "--json").returncode == 0  # a member of the server it runs

    assert run(env, "down").returncode == 0
    again = run(env, "up", "--no-tui")
    assert again.returncode == 0, again.stderr
    assert f"Home server running at {url} " in again.stdout


def test_up_makes_the_first_run_an_identity_that_can_take_direct_messages(
    tmp_path: Path, held_port: int, downs: list[dict[str, str]]
) -> None:
    home = tmp_path / "home"
    env = {"MURMUR_HOME": str(home)}
    DataDir(home / "server").create(ServerConfig(port=held_port))  # a free port is found: none is assumed
    downs.append(env)
    first = run(env, "up", "--no-tui", "--name", "Ada")
    assert first.returncode == 0, first.stderr
    me = json.loads(run(env, "whoami", "--json").stdout)
    assert me["identity"] != me["key"]  # an identity (a key-event log), not a bare key
    rotation = next(line for line in first.stdout.splitlines() if "rotation key is in" in line)
    assert "murmur recovery export FILE" in rotation
    assert stat.S_IMODE(Path(rotation.split(" is in ")[1].split(":")[0]).stat().st_mode) == 0o600
    shown = json.loads(run(env, "profile", me["identity"], "--json").stdout)
    assert shown["name"] == "Ada"  # the identity's name, not only the bare key's
    listed = run(env, "dm", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["conversations"] == []

    again = run(env, "up", "--no-tui")  # the next run keeps the identity it made
    assert again.returncode == 0, again.stderr
    assert "Created identity" not in again.stdout
    assert json.loads(run(env, "whoami", "--json").stdout)["identity"] == me["identity"]


LINUX_ONLY = pytest.mark.skipif(sys.platform != "linux", reason="platformdirs follows the XDG variables on Linux only")


@LINUX_ONLY
def test_files_live_in_the_xdg_directories(tmp_path: Path, downs: list[dict[str, str]]) -> None:
    xdg = {name: tmp_path / name for name in ("config", "data", "state")}
    env = {
        "XDG_CONFIG_HOME": str(xdg["config"]),
        "XDG_DATA_HOME": str(xdg["data"]),
        "XDG_STATE_HOME": str(xdg["state"]),
        "MURMUR_HOME": "",
    }
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    port = held.getsockname()[1]
    held.close()
    DataDir(xdg["data"] / "murmur" / "server").create(ServerConfig(port=port))  # not 8470: other tests may hold it
    downs.append(env)
    result = run(env, "up", "--no-tui", "--name", "Ada")
    assert result.returncode == 0, result.stderr

    config = xdg["config"] / "murmur" / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert (xdg["data"] / "murmur" / "profiles" / "default" / "key.pem").exists()
    assert (xdg["data"] / "murmur" / "server" / "murmur.db").exists()
    assert (xdg["state"] / "murmur" / "server" / "serve.log").exists()
    assert (xdg["state"] / "murmur" / "server" / "serve.pid").exists()
    assert not (xdg["data"] / "murmur" / "config.toml").exists()
    assert not (xdg["data"] / "murmur" / "server" / "serve.log").exists()
    down = run(env, "down")
    assert down.returncode == 0 and "Stopped" in down.stdout


@LINUX_ONLY
def test_a_config_in_the_old_place_is_moved_to_the_config_directory(tmp_path: Path) -> None:
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "MURMUR_HOME": "",
    }
    old_home = tmp_path / "data" / "murmur"
    made = run({**env, "MURMUR_HOME": str(old_home)}, "init", "--name", "Ada", "--json")  # the old layout
    assert made.returncode == 0, made.stderr
    assert (old_home / "config.toml").exists()

    who = run(env, "whoami", "--json")
    assert who.returncode == 0, who.stderr
    shown = json.loads(who.stdout)
    assert (shown["key"], shown["name"]) == (json.loads(made.stdout)["key"], "Ada")
    moved = tmp_path / "config" / "murmur" / "config.toml"
    assert moved.exists() and not (old_home / "config.toml").exists()
    assert stat.S_IMODE(moved.stat().st_mode) == 0o600


@LINUX_ONLY
def test_down_finds_a_server_started_with_the_old_layout(tmp_path: Path, procs: list[ServerProcess]) -> None:
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "MURMUR_HOME": "",
    }
    data = tmp_path / "data" / "murmur" / "server"
    server = ServerProcess(data)
    procs.append(server)
    server.start()
    assert server.proc is not None
    (data / "serve.pid").write_text(f"{server.proc.pid}\n")  # where earlier versions kept it
    down = run(env, "down")
    assert down.returncode == 0, down.stderr
    assert server.proc.wait(timeout=BOUND_S) == 0


def test_port_to_use_prefers_the_wanted_port(held_port: int) -> None:
    from murmur.server.cli.up import _port_to_use

    assert _port_to_use("127.0.0.1", held_port) not in (held_port, 0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    assert _port_to_use("127.0.0.1", free) == free
    assert _port_to_use("127.0.0.1", 0) != 0
