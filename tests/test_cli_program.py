"""The `murmur` program's plumbing: one-line usage errors (exit 2), --version, shell completion, and a bare
`murmur` without a terminal printing help instead of opening the full-screen UI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from murmur import __version__
from murmur.client.cli.main import app
from murmur.client.profiles import resolve

USAGE_ERRORS = [
    ["post", "--bogus", "hi"],  # unknown option
    ["nosuch"],  # unknown command
    ["join"],  # missing argument
    ["timeline", "--limit", "x"],  # a value of the wrong type
    ["timeline", "--limit", "0"],  # a value out of range
    ["admin", "invite", "--data"],  # an option without its value
    ["peer", "add", "--data", "/nowhere"],  # a subgroup's missing argument and option
    ["--home"],  # a global option without its value
    ["admin", "nosuch"],  # unknown command in a group
]


def murmur(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real program, with stdin and stdout that are not a terminal."""
    env = {**os.environ, "MURMUR_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "murmur.client.cli", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_usage_errors_are_one_line_on_stderr_with_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(app, args, env={"MURMUR_HOME": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("murmur: ") and "--help" in lines[0]
    assert "╭" not in result.stderr and "Usage:" not in result.stderr


def test_usage_error_through_the_real_entry_point(tmp_path: Path) -> None:
    result = murmur(tmp_path, "timeline", "--lim", "3")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "murmur: No such option: --lim (Possible options: --limit) (see `murmur timeline --help`)"
    ]


def test_murmur_errors_are_one_line_through_the_runner_too(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["whoami"], env={"MURMUR_HOME": str(tmp_path)})
    assert result.exit_code == 3
    assert len(result.stderr.splitlines()) == 1 and "murmur init" in result.stderr


def test_version(tmp_path: Path) -> None:
    result = murmur(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout == f"murmur {__version__}\n"


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o default -F _murmur_completion murmur"),
        ("zsh", "compdef"),
        ("fish", "complete --command murmur"),
    ],
)
def test_completion_prints_the_script_for_the_named_shell(tmp_path: Path, shell: str, marker: str) -> None:
    result = murmur(tmp_path, "completion", shell)
    assert result.returncode == 0, result.stderr
    assert "_MURMUR_COMPLETE" in result.stdout and marker in result.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error(tmp_path: Path) -> None:
    result = murmur(tmp_path, "completion", "tcsh")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1


def test_completion_completes_commands_and_options(tmp_path: Path) -> None:
    env = {**os.environ, "MURMUR_HOME": str(tmp_path), "_MURMUR_COMPLETE": "complete_bash"}
    words = {"COMP_WORDS": "murmur ad", "COMP_CWORD": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "murmur.client.cli"], env={**env, **words}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "admin" in done.stdout.split()
    words = {"COMP_WORDS": "murmur admin invite --t", "COMP_CWORD": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "murmur.client.cli"], env={**env, **words}, capture_output=True, text=True, timeout=60
    )
    assert "--ttl" in done.stdout.split()


def ready_profile(home: Path) -> None:
    """A profile with a key and a home server: a bare `murmur` on a terminal would open the TUI."""
    assert murmur(home, "init").returncode == 0
    ref = resolve(home, None)
    config = ref.config()
    config.section(ref.name)["server"] = "http://127.0.0.1:1"
    config.save()


def test_bare_murmur_without_a_terminal_prints_help(tmp_path: Path) -> None:
    ready_profile(tmp_path)
    result = murmur(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage: murmur" in result.stdout and "timeline" in result.stdout
    assert "\x1b[?1049h" not in result.stdout  # the alternate screen a full-screen app switches to


def test_bare_murmur_without_a_terminal_and_without_identity_prints_the_guide_and_help(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [], env={"MURMUR_HOME": str(tmp_path)})
    assert result.exit_code == 0
    assert "murmur init" in result.stdout and "Usage: murmur" in result.stdout
