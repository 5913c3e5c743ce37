"""What every client command shares: global options and reading input.

Exit codes and the output helpers (``fail``, ``complain``, ``emit_json``, ``emit_exact``) live in
``murmur.console`` (the server's commands use them too); they are imported here so client commands find all their
helpers in one place. All human output goes through ``murmur.terminal.say``, which makes it inert whatever it
holds; tests/cli/test_one_printer.py checks that no command prints any other way.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import typer

from murmur.console import (
    EXIT_LOCAL,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_SERVER,
    EXIT_USAGE,
    complain,
    emit_exact,
    emit_json,
    exit_code_for,
    fail,
)

__all__ = [
    "EXIT_LOCAL",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_SERVER",
    "EXIT_USAGE",
    "Globals",
    "complain",
    "emit_exact",
    "emit_json",
    "exit_code_for",
    "fail",
    "globals_of",
    "read_input",
]


@dataclass
class Globals:
    home: Path | None
    profile: str | None


def globals_of(ctx: typer.Context) -> Globals:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Globals) else Globals(None, None)


def read_text_file(path: Path, what: str) -> str:
    """The text of a file a person handed to a command (``what`` it should be: "a recovery file"), or one line
    saying why it cannot be read: a file of another kind (a binary, another encoding) is no traceback."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}.", EXIT_LOCAL)
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text, so it is not {what}.", EXIT_USAGE)


def read_input(path: Path | None) -> bytes:
    """The bytes of FILE, or of stdin when FILE is absent or '-'."""
    if path is None or str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}.", EXIT_LOCAL)
