"""murmur's own TOML files (a server's config.toml, the client's config.toml, a trust manifest file), malformed,
nested too deep or not UTF-8, at every place that reads one: one line naming the file and what to do, exit 3 (a
local file unusable, docs/cli.md), never a RecursionError or a tomllib traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from murmur.errors import NotToml
from murmur.keys import Identity, save_identity
from murmur.server.config import DataDir
from tests.cli.datadir import data_dir, invoke  # noqa: F401 (data_dir: the fixture `data`)
from tests.cli.fakehome import run_main

DAMAGED = {
    "nested too deep": ("x = " + "[" * 5000 + "]" * 5000 + "\n").encode(),
    "malformed": b"x = [1,\n",
    "not UTF-8": b'name = "\xff"\n',
}


def _one_line_naming(stderr: str, path: Path, fix: str) -> None:
    [line] = stderr.splitlines()
    assert str(path) in line and fix in line and "Traceback" not in line, line


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_a_server_config_that_is_no_toml(data: Path, damage: str) -> None:
    path = data / "config.toml"
    path.write_bytes(DAMAGED[damage])
    for command in (["config", "show"], ["admin", "invite"], ["peer", "list"]):
        result = invoke(*command, "--data", str(data))
        assert result.exit_code == 3, (command, result.stderr)
        _one_line_naming(result.stderr, path, "move it aside to regenerate it")
    with pytest.raises(NotToml, match="move it aside"):  # where `config show` reads which settings the file sets
        DataDir(data).sources()


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_a_client_config_that_is_no_toml(tmp_path: Path, damage: str) -> None:
    home = tmp_path / "home"
    assert run_main("--home", str(home), "init", "--name", "ada").exit_code == 0
    path = home / "config.toml"  # --home holds every file, config.toml among them
    path.write_bytes(DAMAGED[damage])
    ran = run_main("--home", str(home), "whoami")
    assert ran.exit_code == 3, ran.stderr
    _one_line_naming(ran.stderr, path, "Fix it, or remove it")


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_a_manifest_file_that_is_no_toml(data: Path, tmp_path: Path, damage: str) -> None:
    path, key = tmp_path / "next.toml", tmp_path / "admin.key"
    path.write_bytes(DAMAGED[damage])
    save_identity(key, Identity.generate())
    for command in (
        ["peer", "manifest", "sign", str(path), "--key", str(key)],
        ["peer", "manifest", "verify", "--data", str(data), str(path)],
        ["peer", "manifest", "apply", "--data", str(data), str(path)],
    ):
        result = invoke(*command)
        assert result.exit_code == 3, (command, result.stderr)
        _one_line_naming(result.stderr, path, "as `murmur peer manifest show` prints it")


def test_a_missing_manifest_file_is_one_line_too(tmp_path: Path) -> None:
    key = tmp_path / "admin.key"
    save_identity(key, Identity.generate())
    result = invoke("peer", "manifest", "sign", str(tmp_path / "absent.toml"), "--key", str(key))
    assert result.exit_code == 3
    _one_line_naming(result.stderr, tmp_path / "absent.toml", "cannot be read")


def test_only_the_one_reader_reads_toml() -> None:
    """Every TOML file murmur reads goes through murmur.toml_files: a second reader would miss what it catches."""
    root = Path(__file__).resolve().parents[2]
    readers = [
        str(p.relative_to(root))
        for folder in ("murmur", "server", "client")
        for p in (root / folder).rglob("*.py")
        if "tomllib" in p.read_text(encoding="utf-8")
    ]
    assert readers == ["murmur/toml_files.py"]
