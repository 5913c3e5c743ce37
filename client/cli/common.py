"""What every client command shares: global options and reading input.

Exit codes, ``fail`` and ``emit_json`` live in ``murmur.console`` (the server's commands use them too); they
are imported here so client commands find all their helpers in one place.
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


def read_input(path: Path | None) -> bytes:
    """The bytes of FILE, or of stdin when FILE is absent or '-'."""
    if path is None or str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}.", EXIT_LOCAL)
