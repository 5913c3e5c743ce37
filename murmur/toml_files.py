"""murmur's own TOML files, read one way: a server's config.toml, the client's config.toml, a trust manifest.

``tomllib`` raises ``TOMLDecodeError`` for what is malformed and, as it recurses, ``RecursionError`` for arrays
or inline tables nested a few thousand deep; a file that cannot be read, or is not UTF-8, raises others again.
Each would reach a person as a traceback. Read here, each is one line naming the file, what is wrong with it and
what to do (``NotToml``, a ``ConfigError``: exit 3, a local file unusable, docs/cli.md). A text that came from
elsewhere (a manifest a server answered) is read with ``table`` too, and its caller words the refusal.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from murmur.errors import NotToml


def table(text: str, source: str | Path, fix: str) -> dict[str, Any]:
    """``text`` as TOML; ``NotToml`` saying that ``source`` is not, why, and ``fix`` (what to do) otherwise."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        why = f"not valid TOML: {exc}"
        raise NotToml(f"{source} is {why}. {fix}", why) from exc
    except RecursionError as exc:
        why = "not valid TOML: it is nested too deeply"
        raise NotToml(f"{source} is {why}. {fix}", why) from exc


def read(path: Path, fix: str) -> dict[str, Any]:
    """The TOML file at ``path``; ``NotToml`` (one line: the file, what is wrong, ``fix``) when it cannot be read,
    is not UTF-8 text, or is not TOML."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        why = f"cannot be read: {exc.strerror or type(exc).__name__}"
        raise NotToml(f"{path} {why}. {fix}", why) from exc
    except UnicodeDecodeError as exc:
        why = "not UTF-8 text, so no TOML file"
        raise NotToml(f"{path} is {why}. {fix}", why) from exc
    return table(text, path, fix)
