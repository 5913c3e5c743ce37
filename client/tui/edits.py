"""Keeping edited posts on screen true: when an edit arrives (live, or just sent from here), every row showing
its post shows it, if it is the post author's and newer than the version shown (by created_at, then id)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from murmur.client.tui.present import tag_value
from murmur.client.tui.widgets.postlist import PostList
from murmur.client.versions import applies, shown_edit


def _newer(edit: dict[str, Any], than: dict[str, Any] | None) -> bool:
    return than is None or (edit["created_at"], edit["id"]) > (than.get("created_at"), than.get("id"))


def show_newest(lists: Iterable[PostList], edit: dict[str, Any]) -> int:
    """Show ``edit`` in place of its post wherever the post is on screen; how many rows changed."""
    target = tag_value(edit, "target")
    changed = 0
    for posts in lists:
        for entry in posts.entries:
            item, message = entry.item, entry.message
            if message is None or message.get("id") != target or not applies(edit, message):
                continue
            if _newer(edit, shown_edit(item)):
                item["edit"], item["edited_at"] = edit, edit["created_at"]
                entry.refresh(layout=True)
                changed += 1
    return changed
