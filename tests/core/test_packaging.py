"""pyproject.toml lists every package the three folders hold, or setuptools silently leaves some out of a wheel."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Folder on disk -> the import name it installs under (package-dir in pyproject.toml).
FOLDERS = {"murmur": "murmur", "server": "murmur.server", "client": "murmur.client"}


def packages_on_disk() -> dict[str, Path]:
    """Every folder holding an ``__init__.py``, and every folder of data files inside one: setuptools treats those
    as namespace packages and, unless they are listed, warns at each install that it may leave them out."""
    found: dict[str, Path] = {}
    for folder, name in FOLDERS.items():
        top = ROOT / folder
        for path in (top, *top.rglob("*")):
            parts = path.relative_to(top).parts
            if not path.is_dir() or "__pycache__" in parts:
                continue
            package = (path / "__init__.py").exists()
            data = (path.parent / "__init__.py").exists() and any(p.is_file() for p in path.iterdir())
            if package or data:
                found[".".join((name, *parts))] = path
    return found


def setuptools_config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return dict(tomllib.load(f)["tool"]["setuptools"])


def test_package_dir_maps_the_three_folders() -> None:
    assert setuptools_config()["package-dir"] == {name: folder for folder, name in FOLDERS.items()}


def test_packages_list_matches_the_folders() -> None:
    listed = setuptools_config()["packages"]
    assert isinstance(listed, list)
    assert len(listed) == len(set(listed)), "pyproject.toml lists a package twice"
    on_disk = set(packages_on_disk())
    missing, stale = sorted(on_disk - set(listed)), sorted(set(listed) - on_disk)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert not stale, f"{stale} are listed in pyproject.toml but have no folder on disk"


def test_data_folders_ship_their_files() -> None:
    data = setuptools_config()["package-data"]
    assert isinstance(data, dict)
    for name, path in packages_on_disk().items():
        if not (path / "__init__.py").exists():
            assert name in data, f"{name} holds only data files: give it package-data in pyproject.toml"
