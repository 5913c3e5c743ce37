"""Keeping what peers withheld on screen true: when the live stream says a peer withheld a post (``event:
withheld``, its signed notices), every row showing the post says so at once, as a fresh load of it would."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from murmur.client.tui.widgets.postlist import PostList


def show_withheld(lists: Iterable[PostList], data: dict[str, Any]) -> int:
    """Give every row showing the post ``data["id"]`` the notices ``data["withheld"]``; how many rows changed.
    What the notices say is drawn by the entry as any other notice is (``murmur.receipts.withheld_notes``)."""
    msg_id, notices = data.get("id"), data.get("withheld")
    if not isinstance(msg_id, str) or not isinstance(notices, list):
        return 0
    kept = [n for n in notices if isinstance(n, dict)]
    changed = 0
    for posts in lists:
        for entry in posts.entries:
            message = entry.message
            if message is not None and message.get("id") == msg_id and entry.item.get("withheld") != kept:
                entry.item["withheld"] = kept
                entry.refresh(layout=True)
                changed += 1
    return changed
