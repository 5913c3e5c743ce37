"""The start-up cache: the last page of the home timeline, so the TUI has something to show at once.

Only what the server sent is kept (signed messages and counts). On loading, every message is verified
again: the file sits in the home directory, and a changed file must not turn into a genuine-looking post.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from murmur.client.api import mark_verified
from murmur.errors import MurmurError, Refused
from murmur.keys import write_private_file
from murmur.validate import parse_json

log = logging.getLogger("murmur.client.tui")
VERSION = 1


def _strip_verdicts(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_verdicts(v) for k, v in value.items() if k != "verified"}
    if isinstance(value, list):
        return [_strip_verdicts(v) for v in value]
    return value


def load(path: Path | None, timeline: str) -> dict[str, Any] | None:
    """The cached page for ``timeline``, every message re-verified; None if absent or unusable."""
    if path is None or not path.exists():
        return None
    try:
        data = parse_json(path.read_bytes(), limit=None, strict=False)
    except (OSError, Refused) as exc:
        log.warning("ignoring unreadable TUI cache %s: %s", path, exc)
        return None
    if not isinstance(data, dict) or data.get("v") != VERSION or data.get("timeline") != timeline:
        return None
    page = data.get("page")
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        return None
    # Verdicts in the file mean nothing: drop them and check every signature again.
    return mark_verified(_strip_verdicts(page))  # type: ignore[no-any-return]


def save(path: Path | None, timeline: str, page: dict[str, Any]) -> None:
    if path is None:
        return
    data = {"v": VERSION, "timeline": timeline, "page": _strip_verdicts(page)}
    try:
        write_private_file(path, json.dumps(data, ensure_ascii=False).encode("utf-8"), force=True)
    except (OSError, MurmurError) as exc:
        log.warning("could not write TUI cache %s: %s", path, exc)
