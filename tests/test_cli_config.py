"""`murmur config path|show` on a data directory: the file's path, the settings in effect and their source, no
secret in full."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from murmur.client.cli.main import app
from murmur.server.config import SECRET, DataDir, ServerConfig, redacted


@pytest.fixture
def data(tmp_path: Path) -> Path:
    DataDir(tmp_path / "data").create(ServerConfig())
    return tmp_path / "data"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_path_names_the_config_file_even_before_it_exists(data: Path, tmp_path: Path) -> None:
    shown = invoke("config", "path", "--data", str(data))
    assert (shown.exit_code, shown.stdout) == (0, f"{(data / 'config.toml').absolute()}\n")
    assert json.loads(invoke("config", "path", "--data", str(data), "--json").stdout) == {
        "path": str((data / "config.toml").absolute()),
        "exists": True,
    }
    empty = invoke("config", "path", "--data", str(tmp_path / "new"))
    assert empty.exit_code == 0 and empty.stdout == f"{(tmp_path / 'new' / 'config.toml').absolute()}\n"
    assert "not written yet" in empty.stderr


def test_show_gives_each_setting_and_where_it_comes_from(data: Path) -> None:
    (data / "config.toml").write_text('name = "Team \\u001b[2J"\nport = 9001\nmetrics = true\n')
    result = invoke("config", "show", "--data", str(data), "--json")
    assert result.exit_code == 0, result.stderr
    settings = json.loads(result.stdout)["settings"]
    assert settings["port"] == {"value": 9001, "source": "config.toml"}
    assert settings["metrics"] == {"value": True, "source": "config.toml"}
    assert settings["log_format"] == {"value": "text", "source": "default"}
    assert settings["name"] == {"value": "Team \x1b[2J", "source": "config.toml"}  # JSON carries it exactly
    assert set(settings) == {f.name for f in dataclasses.fields(ServerConfig)}
    human = invoke("config", "show", "--data", str(data)).stdout.splitlines()
    assert human[0] == f"# {(data / 'config.toml').absolute()}"
    assert any(line.startswith("port = 9001 ") and line.endswith("# config.toml") for line in human)
    assert any(line.startswith('durability = "full" ') and line.endswith("# default") for line in human)
    assert "\x1b" not in "\n".join(human)  # shown inert on a terminal


def test_show_refuses_a_bad_config_with_the_setting_named(data: Path, tmp_path: Path) -> None:
    (data / "config.toml").write_text('log_format = "xml"\n')
    result = invoke("config", "show", "--data", str(data))
    assert result.exit_code == 3 and "log_format = 'xml'" in result.stderr
    missing = invoke("config", "show", "--data", str(tmp_path / "none"))
    assert missing.exit_code == 3 and "No server in" in missing.stderr


def test_secrets_are_never_shown_in_full(data: Path) -> None:
    (data / "config.toml").write_text('public_url = "https://ada:hunter2@murmur.example.org"\n')
    result = invoke("config", "show", "--data", str(data))
    assert "hunter2" not in result.stdout and "https://ada:****@murmur.example.org" in result.stdout

    @dataclasses.dataclass(frozen=True)
    class WithSecret(ServerConfig):
        token: str = dataclasses.field(default="", metadata=SECRET)
        dsn: str = "postgresql://murmur:s3cret-pass@db.internal/murmur"

    shown = redacted(WithSecret(token="abcdefghijklmnop-XYZW"))
    assert shown["token"] == "****XYZW" and shown["dsn"] == "postgresql://murmur:****@db.internal/murmur"
    assert redacted(WithSecret(token="short"))["token"] == "****"
