"""What every ``murmur`` command shares, on the client's side and the server's: exit codes, the one-line
failure, and JSON output.

All output goes through ``murmur.terminal.say`` (human text, made inert whatever it holds) or the helpers
here: ``complain`` and ``fail`` (one line on stderr), ``emit_json`` (JSON whose bytes are safe on a terminal)
and ``emit_exact`` (bytes that must not change). tests/cli/test_one_printer.py checks that no command prints any
other way.

Exit codes (docs/cli.md): 0 success; 1 the request was refused or a check failed; 2 usage error; 3 a local
file (key, config, database) is missing or unusable; 4 the server could not be reached or failed.

Framework-free on purpose: the client's and the server's command groups both use it, and neither may import
the other.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from murmur.errors import ConfigError, KeyFileError, LocalFileError, MurmurError, Refused, StoreError
from murmur.terminal import inert, json_line, say

T = TypeVar("T")

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_LOCAL = 3
EXIT_SERVER = 4


def complain(message: str) -> None:
    """``murmur: MESSAGE`` as one inert line on stderr; the message may quote a server or a peer."""
    say(f"murmur: {inert(message, keep_newlines=False)}", err=True)


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    """Stop the command: ``murmur: MESSAGE`` on stderr, then exit with ``code``."""
    complain(message)
    raise SystemExit(code)


def checked_argument(check: Callable[[], T]) -> T:
    """Run the core's check of a value given on the command line: a refusal is a usage error (exit 2), the
    command line's fault, not a request some server refused."""
    try:
        return check()
    except Refused as refusal:
        fail(refusal.message, EXIT_USAGE)


def exit_code_for(error: MurmurError) -> int:
    if isinstance(error, KeyFileError | ConfigError | StoreError | LocalFileError):
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
