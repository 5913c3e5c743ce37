"""Keys and files: created private, refused when others can read them, and a damaged config, key or database gives
one clear line and exit code 3 (docs/cli.md: a local file is missing or unusable), never a traceback."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.reliability.conftest import BASE_SETTINGS
from tests.reliability.harness import Member, Server, run_cli

pytestmark = pytest.mark.timeout(120)

EXIT_LOCAL = 3


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data directory made by a real first start, with one message in it, copied for each damage below."""
    server = Server(tmp_path_factory.mktemp("files") / "server", dict(BASE_SETTINGS)).start()
    member = Member(server.url).join()
    assert member.publish(member.post("something stored")).status_code == 201
    member.close()
    assert server.stop() == 0
    yield server.data


def one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == EXIT_LOCAL, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("murmur: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_files_are_created_private(pristine: Path, tmp_path: Path) -> None:
    assert stat.S_IMODE(pristine.stat().st_mode) == 0o700
    for name in ("server.key", "murmur.db", "config.toml"):
        assert stat.S_IMODE((pristine / name).stat().st_mode) == 0o600, name
    home = tmp_path / "home"
    result = run_cli("init", env={"MURMUR_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    keys = list(home.rglob("key.pem"))
    assert len(keys) == 1 and stat.S_IMODE(keys[0].stat().st_mode) == 0o600


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def cut_mid_value(text: str) -> str:
    """A config cut off in the middle of a string value, as a crash during a hand edit would leave it."""
    return text[: text.index('name = "') + len('name = "mur')]


def garbage(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def widen(path: Path) -> None:
    path.chmod(0o644)


DAMAGE: dict[str, tuple[str, Callable[[Path], None], tuple[str, ...]]] = {
    "server.key readable by others": ("server.key", widen, ("chmod 600",)),
    "server.key truncated": ("server.key", truncate, ("server.key",)),
    "server.key empty": ("server.key", lambda p: p.write_bytes(b""), ("server.key",)),
    "config.toml truncated": ("config.toml", lambda p: p.write_text(cut_mid_value(p.read_text())), ("config.toml",)),
    "config.toml garbage": ("config.toml", garbage, ("config.toml",)),
    "config.toml wrong type": ("config.toml", lambda p: p.write_text('port = "eighty"\n'), ("port",)),
    "config.toml unknown key": ("config.toml", lambda p: p.write_text("colour = 1\n"), ("colour",)),
    "murmur.db truncated": ("murmur.db", truncate, ("murmur.db",)),
    "murmur.db garbage": ("murmur.db", garbage, ("murmur.db",)),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_server_files_give_one_line_and_exit_3(pristine: Path, tmp_path: Path, case: str) -> None:
    data = tmp_path / "data"
    shutil.copytree(pristine, data)
    name, damage, words = DAMAGE[case]
    if name == "murmur.db":  # the clean stop checkpointed the WAL: the main file holds everything
        for extra in data.glob("murmur.db-*"):
            extra.unlink()
    damage(data / name)
    commands = [["serve", "--data", str(data), "--port", "0"], ["admin", "info", "--data", str(data)]]
    with ThreadPoolExecutor(2) as pool:  # two interpreters start at once: half the wall time
        results = list(pool.map(lambda args: run_cli(*args, timeout=20), commands))
    for result in results:
        one_clear_line(result, *words)


@pytest.mark.parametrize(
    "damage, words",
    [(widen, ("chmod 600",)), (truncate, ("key.pem",)), (garbage, ("key.pem",))],
    ids=["readable by others", "truncated", "garbage"],
)
def test_damaged_person_key_gives_one_line_and_exit_3(
    tmp_path: Path, damage: Callable[[Path], None], words: tuple[str, ...]
) -> None:
    env = {"MURMUR_HOME": str(tmp_path / "home")}
    assert run_cli("init", env=env).returncode == 0
    [key] = list((tmp_path / "home").rglob("key.pem"))
    damage(key)
    one_clear_line(run_cli("whoami", env=env), *words)
