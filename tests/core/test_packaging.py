"""pyproject.toml lists every package the three folders hold, or setuptools silently leaves some out of a wheel."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Folder on disk -> the import name it installs under (package-dir in pyproject.toml).
FOLDERS = {"murmur": "murmur", "server": "murmur.server", "client": "murmur.client"}


def packages_on_disk() -> set[str]:
    found: set[str] = set()
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            if "__pycache__" not in parts:
                found.add(".".join((name, *parts)))
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
    on_disk = packages_on_disk()
    missing, stale = sorted(on_disk - set(listed)), sorted(set(listed) - on_disk)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert not stale, f"{stale} are listed in pyproject.toml but have no folder with an __init__.py"
