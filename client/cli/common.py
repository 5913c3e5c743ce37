"""What every command shares: global options, exit codes, output helpers and error mapping.

All output goes through ``murmur.terminal.say`` (human text, made inert whatever it holds) or the helpers
here: ``complain`` and ``fail`` (one line on stderr), ``emit_json`` (JSON whose bytes are safe on a terminal)
and ``emit_exact`` (bytes that must not change). tests/cli/test_one_printer.py checks that no command prints any
other way.

Exit codes (docs/cli.md): 0 success; 1 the request was refused or a check failed; 2 usage error; 3 a local
file (key, config, database) is missing or unusable; 4 the server could not be reached or failed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer

from murmur.errors import ConfigError, KeyFileError, MurmurError, Refused, StoreError
from murmur.terminal import inert, json_line, say

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_LOCAL = 3
EXIT_SERVER = 4


@dataclass
class Globals:
    home: Path | None
    profile: str | None


def globals_of(ctx: typer.Context) -> Globals:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Globals) else Globals(None, None)


def complain(message: str) -> None:
    """``murmur: MESSAGE`` as one inert line on stderr; the message may quote a server or a peer."""
    say(f"murmur: {inert(message, keep_newlines=False)}", err=True)


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    complain(message)
    raise typer.Exit(code)


def exit_code_for(error: MurmurError) -> int:
    if isinstance(error, KeyFileError | ConfigError | StoreError):
        return EXIT_LOCAL
    if isinstance(error, Refused):
        return EXIT_REFUSED
    return getattr(error, "exit_code", EXIT_REFUSED)


def emit_json(value: Any) -> None:
    """One JSON document on stdout (or one line of a JSON Lines stream)."""
    sys.stdout.write(json_line(value) + "\n")
    sys.stdout.flush()


def emit_exact(line: str) -> None:
    """A line whose bytes must stay exactly as they are (the canonical JSON of a message this person signed)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def read_input(path: Path | None) -> bytes:
    """The bytes of FILE, or of stdin when FILE is absent or '-'."""
    if path is None or str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}.", EXIT_LOCAL)
