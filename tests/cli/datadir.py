"""A fresh server data directory (the ``data`` fixture) and the program run on it through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from murmur.client.cli.main import app
from murmur.server.config import DataDir, ServerConfig


@pytest.fixture(name="data")
def data_dir(tmp_path: Path) -> Path:
    """Import it as ``data_dir``: tests take it as ``data``."""
    DataDir(tmp_path / "data").create(ServerConfig(port=0))
    return tmp_path / "data"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))
