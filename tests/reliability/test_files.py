"""Keys and files: created private, refused when others can read them or could replace them, and a damaged config,
key or database gives one clear line and exit code 3 (docs/cli.md: a local file is missing or unusable), never a
traceback; a database with damaged pages is not served; one server per data directory; admin commands turn the
operating system's errors into one line."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import typer

from tests.damage import damage_pages
from tests.reliability.conftest import BASE_SETTINGS
from tests.reliability.harness import Member, Server, murmur_cmd, run_cli
from tests.waiting import BOUND_S

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
        results = list(pool.map(lambda args: run_cli(*args), commands))
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


# -- keys others could replace ----------------------------------------------------------------------------------


def _sign(home: Path, draft: bytes = b'{"kind": "post", "body": {"text": "hi"}}') -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        murmur_cmd("sign"), input=draft.decode(), capture_output=True, text=True, timeout=BOUND_S,
        env={**os.environ, "MURMUR_HOME": str(home)},
    )  # fmt: skip


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o720, 0o702, 0o766])
def test_sign_refuses_a_key_whose_folder_others_can_write(tmp_path: Path, mode: int) -> None:
    home = tmp_path / "home"
    assert run_cli("init", env={"MURMUR_HOME": str(home)}).returncode == 0
    [key] = list(home.rglob("key.pem"))
    assert _sign(home).returncode == 0
    key.parent.chmod(mode)
    one_clear_line(_sign(home), "writable by other users", f"chmod go-w {key.parent}")
    key.parent.chmod(0o700)
    assert _sign(home).returncode == 0


def test_a_world_writable_folder_higher_up_is_refused_unless_sticky(tmp_path: Path) -> None:
    """Whoever can write to a folder above the key can rename the key's folder away and put their own there."""
    home = tmp_path / "home"
    assert run_cli("init", env={"MURMUR_HOME": str(home)}).returncode == 0
    home.chmod(0o777)
    one_clear_line(_sign(home), "writable by other users", str(home))
    home.chmod(0o1777)  # the sticky bit: others may not rename what is ours (like /tmp)
    assert _sign(home).returncode == 0, _sign(home).stderr


@pytest.mark.parametrize("target", ["folder", "key"])
def test_server_key_others_could_replace_is_refused(pristine: Path, tmp_path: Path, target: str) -> None:
    data = tmp_path / "data"
    shutil.copytree(pristine, data)
    if target == "folder":
        data.chmod(0o777)
    else:
        (data / "server.key").chmod(0o620)
    word = "chmod go-w" if target == "folder" else "chmod 600"
    for args in (["serve", "--data", str(data), "--port", "0"], ["admin", "info", "--data", str(data)]):
        one_clear_line(run_cli(*args), word)


# -- a database with damaged pages ------------------------------------------------------------------------------


@pytest.fixture
def damaged(pristine: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(pristine, data)
    for extra in data.glob("murmur.db-*"):  # the clean stop checkpointed the WAL: the main file holds everything
        extra.unlink()
    damage_pages(data / "murmur.db", "messages_by_author")
    return data


def test_a_server_refuses_to_serve_damaged_pages(damaged: Path) -> None:
    result = run_cli("serve", "--data", str(damaged), "--port", "0")
    one_clear_line(result, "damaged", f"murmur admin check --data {damaged}", "backup")
    assert "murmur serving" not in result.stderr


def test_admin_check_reports_damage_with_exit_1(damaged: Path, pristine: Path, tmp_path: Path) -> None:
    result = run_cli("admin", "check", "--data", str(damaged))
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip() and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "damaged" in result.stderr
    as_json = run_cli("admin", "check", "--data", str(damaged), "--json")
    body = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and body["ok"] is False and body["problems"]
    sound = tmp_path / "sound"
    shutil.copytree(pristine, sound)
    result = run_cli("admin", "check", "--data", str(sound), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"database": str(sound / "murmur.db"), "ok": True, "problems": []}


def test_admin_reads_of_damaged_pages_give_one_line(pristine: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(pristine, data)
    for extra in data.glob("murmur.db-*"):
        extra.unlink()
    damage_pages(data / "murmur.db", "members")
    one_clear_line(run_cli("admin", "members", "--data", str(data)), "admin check")


# -- one server per data directory ------------------------------------------------------------------------------


def test_one_server_per_data_directory(tmp_path: Path) -> None:
    first = Server(tmp_path / "server", dict(BASE_SETTINGS)).start()
    try:
        second = run_cli("serve", "--data", str(first.data), "--port", "0")
        one_clear_line(second, "already running", f"pid {first.proc.pid if first.proc else '?'}", first.url)
        info = run_cli("admin", "info", "--data", str(first.data), "--json")  # reads go on meanwhile
        assert info.returncode == 0, info.stderr
        invite = run_cli("admin", "invite", "--data", str(first.data))  # and WAL-safe writes
        assert invite.returncode == 0, invite.stderr
        first.kill()  # no cleanup at all: the OS lock goes with the process
        first.start()
        assert first.running()
    finally:
        first.stop()


# -- OS errors on admin paths -----------------------------------------------------------------------------------


def test_backup_to_a_path_that_cannot_be_written_gives_one_line(pristine: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(pristine, data)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for target, words in (
        (tmp_path / "missing" / "folder" / "b.db", ("does not exist",)),
        (a_file / "b.db", ("Not a directory",)),
        (tmp_path, ("already exists",)),
    ):
        one_clear_line(run_cli("admin", "backup", "--data", str(data), str(target)), *words)
    made = run_cli("admin", "backup", "--data", str(data), str(tmp_path / "b.db"))
    assert made.returncode == 0 and "integrity: ok" in made.stdout


def test_serve_on_a_data_path_that_cannot_be_made_gives_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    one_clear_line(run_cli("serve", "--data", str(a_file / "data"), "--port", "0"), str(a_file))


@pytest.mark.parametrize(
    "error",
    [PermissionError(13, "Permission denied", "/srv/murmur/x"), OSError(28, "No space left on device"),
     FileNotFoundError(2, "No such file or directory", "/a", "/b")],
    ids=["with a file", "without one", "with two"],
)  # fmt: skip
def test_any_os_error_that_reaches_the_top_is_one_line_and_exit_3(
    error: OSError, capsys: pytest.CaptureFixture[str]
) -> None:
    """The program's top level is the boundary for the operating system's errors too: whatever command lets one
    through, a person gets one line naming the file and the reason, never a traceback."""
    from murmur.client.cli.program import MurmurGroup

    program = typer.Typer(cls=MurmurGroup)

    @program.command()
    def fails() -> None:
        raise error

    @program.command()
    def works() -> None:  # a second command keeps typer from collapsing the group into one command
        pass

    with pytest.raises(SystemExit) as info:
        program(args=["fails"], prog_name="murmur")
    assert info.value.code == EXIT_LOCAL
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("murmur: Cannot use") and str(error.strerror) in lines[0]
    if error.filename:
        assert str(error.filename) in lines[0]
