"""The core never loads a web framework, a UI toolkit or an HTTP client, checked in a fresh interpreter per module.

A module imported by an earlier test would hide the problem in-process, so each one gets its own interpreter.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "murmur"
FORBIDDEN = ("textual", "typer", "starlette", "uvicorn", "rich", "httpx")
# These names map to the server/ and client/ folders, which are allowed what the core is not.
ELSEWHERE = ("murmur.server", "murmur.client")


def core_modules(path: Path = CORE, prefix: str = "murmur") -> list[str]:
    """Every module and package in the murmur/ folder, found on disk without importing anything."""
    names = [prefix]
    for info in pkgutil.iter_modules([str(path)], prefix + "."):
        if info.name.startswith(ELSEWHERE):
            continue
        if info.ispkg:
            names += core_modules(path / info.name.rsplit(".", 1)[1], info.name)
        else:
            names.append(info.name)
    return names


MODULES = core_modules()


def test_discovery_finds_the_core() -> None:
    assert {"murmur", "murmur.errors", "murmur.jcs", "murmur.keys", "murmur.message", "murmur.validate"} <= set(MODULES)
    assert "murmur.store" in MODULES and any(m.startswith("murmur.store.") for m in MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_core_module_loads_no_ui_or_web_package(module: str) -> None:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert module in loaded
    offenders = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert offenders == [], f"importing {module} loads {offenders}"


# The client reaches the server only over HTTP, and the server never needs the client; the one `murmur`
# program composes both command groups in this single entry module.
ENTRY_MODULE = "murmur.client.cli.main"
LAYERS = {"client": ("murmur.client", "murmur.server"), "server": ("murmur.server", "murmur.client")}


def imported_names(source: str, package: str = "") -> set[str]:
    """Every module a source file in ``package`` imports, at the top or inside a function (a lazy import counts
    too), relative imports resolved."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names.update(arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return names


def layer_files(folder: str, prefix: str) -> dict[str, Path]:
    """Module name -> file, for every module under ``folder`` (installed as ``prefix``)."""
    root = CORE.parent / folder
    return {
        ".".join((prefix, *path.relative_to(root).with_suffix("").parts)): path
        for path in root.rglob("*.py")
        if "__pycache__" not in path.parts
    }


def package_of(module: str, path: Path) -> str:
    return module.removesuffix(".__init__") if path.name == "__init__.py" else module.rsplit(".", 1)[0]


@pytest.mark.parametrize("folder", sorted(LAYERS))
def test_client_and_server_never_import_each_other(folder: str) -> None:
    prefix, other = LAYERS[folder]
    files = layer_files(folder, prefix)
    assert files, f"no modules found under {folder}/"
    offenders = {
        module: sorted(
            n
            for n in imported_names(path.read_text(encoding="utf-8"), package_of(module, path))
            if n.split(".")[:2] == other.split(".")
        )
        for module, path in files.items()
        if module != ENTRY_MODULE
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_import_scan_sees_lazy_and_relative_forms() -> None:
    source = "def f():\n    from murmur.server.config import DataDir\n    import murmur.server.serve\n"
    assert {"murmur.server.config", "murmur.server.serve"} <= imported_names(source)
    assert "murmur.server.x" in imported_names("import importlib\nimportlib.import_module('murmur.server.x')\n")
    assert "murmur.server.config" in imported_names("from ...server import config\n", "murmur.client.cli")
    assert "murmur.client.cli.common" in imported_names("from .common import fail\n", "murmur.client.cli")


def test_the_entry_module_composes_both_sides() -> None:
    path = layer_files("client", "murmur.client")[ENTRY_MODULE]
    names = imported_names(path.read_text(encoding="utf-8"))
    assert any(n.startswith("murmur.server.") for n in names)


def test_the_program_and_a_sqlite_server_start_without_the_postgresql_driver() -> None:
    """psycopg takes about a tenth of a second to import; every CLI command and every server on SQLite would pay
    it at start for nothing (the end-to-end tests run a few thousand commands). Only a PostgreSQL URL loads it."""
    code = "import sys, murmur.client.cli.main, murmur.server.app, murmur.server.serve; print(*sorted(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert ENTRY_MODULE in result.stdout.split() and "murmur.store.db" in result.stdout.split()
    assert [m for m in result.stdout.split() if m.split(".")[0] in ("psycopg", "psycopg_binary")] == []
