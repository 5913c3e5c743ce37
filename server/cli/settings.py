"""``murmur config path|show``: where a server's config.toml is, and the settings in effect with their source.

Like the admin commands they read the data directory, so they work whether or not the server runs. ``show`` prints
what a start would use (the file over the defaults; `murmur serve`'s own options, such as ``--port``, apply to
that run only and are not shown) and never a secret in full (``murmur.server.config.redacted``).
"""

from __future__ import annotations

from typing import Any

import typer

from murmur.console import emit_json
from murmur.server.cli.admin import DataOption, JsonOption
from murmur.server.config import DataDir, redacted, toml_value
from murmur.terminal import say

config_app = typer.Typer(help="A home server's settings (its config.toml).", no_args_is_help=True)


@config_app.command("path")
def path(data: DataOption, as_json: JsonOption = False) -> None:
    """Print the path of the server's config.toml (written at its first start)."""
    data_dir = DataDir(data)
    where = data_dir.config_path.absolute()
    if as_json:
        emit_json({"path": str(where), "exists": where.exists()})
        return
    say(str(where))
    if not where.exists():
        say(f"(not written yet: `murmur serve --data {data_dir.root}` writes it at the first start)", err=True)


@config_app.command("show")
def show(data: DataOption, as_json: JsonOption = False) -> None:
    """Print the settings in effect, each with where it comes from (config.toml or the default)."""
    data_dir = DataDir(data)
    config = data_dir.config()
    sources = data_dir.sources()
    shown = redacted(config)
    if as_json:
        settings: dict[str, Any] = {name: {"value": value, "source": sources[name]} for name, value in shown.items()}
        emit_json({"path": str(data_dir.config_path.absolute()), "settings": settings})
        return
    say(f"# {data_dir.config_path.absolute()}")
    lines = [(f"{name} = {toml_value(value)}", sources[name]) for name, value in shown.items()]
    width = max(len(line) for line, _ in lines)
    for line, source in lines:
        say(f"{line:{width}}  # {source}")
