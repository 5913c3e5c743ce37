"""The core never loads a web framework, a UI toolkit or an HTTP client, checked in a fresh interpreter per module.

A module imported by an earlier test would hide the problem in-process, so each one gets its own interpreter.
"""

from __future__ import annotations

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
