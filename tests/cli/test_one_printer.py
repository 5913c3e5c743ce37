"""Every command prints through the one printer (``murmur.terminal.say``) or the JSON and error helpers.

A command that called ``typer.echo`` or ``print`` itself could put a server's words on the terminal raw;
this finds any such call in the command modules, whichever engineer adds it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND_DIRS = [ROOT / "client" / "cli", ROOT / "server" / "cli"]
# The helpers that write: the printer's own module and the CLI's output helpers.
ALLOWED = {ROOT / "client" / "cli" / "common.py"}
RAW_WRITERS = {"echo", "secho", "print", "write", "writelines"}


def raw_prints(source: str, label: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            target = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            if name in ("echo", "secho", "print") or (name in RAW_WRITERS and target.startswith("sys.std")):
                found.append(f"{label}:{node.lineno} {ast.unparse(func)}")
    return found


def test_commands_print_only_through_the_printer() -> None:
    modules = [p for d in COMMAND_DIRS if d.is_dir() for p in sorted(d.rglob("*.py")) if p not in ALLOWED]
    assert len(modules) >= 8
    offenders = [hit for path in modules for hit in raw_prints(path.read_text(encoding="utf-8"), path.name)]
    assert offenders == []


def test_the_check_finds_a_raw_print() -> None:
    source = "import sys, typer\ntyper.echo('x')\nprint('y')\nsys.stderr.write('z')\nsay('fine')\nout.write('ok')\n"
    assert raw_prints(source, "bad.py") == ["bad.py:2 typer.echo", "bad.py:3 print", "bad.py:4 sys.stderr.write"]
