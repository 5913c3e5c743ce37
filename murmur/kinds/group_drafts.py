"""Drafts of the group kinds, as the CLI, the TUI and the tests write them (sign with ``murmur.message``)."""

from __future__ import annotations

from typing import Any

Draft = dict[str, Any]


def create_draft(
    name: str, *, description: str = "", rules: str = "", approval: bool = False, join: str | None = None
) -> Draft:
    """A group's creation; ``join`` (``open``, ``approval``, ``invite``: a private group) overrides ``approval``."""
    body = {"name": name, "join": join or ("approval" if approval else "open")}
    if description:
        body["description"] = description
    if rules:
        body["rules"] = rules
    return {"kind": "group", "body": body, "tags": []}


def membership_draft(kind: str, group: str) -> Draft:
    """``group_join`` (join an open group, or ask to join one that needs approval) or ``group_leave``."""
    return {"kind": kind, "body": {}, "tags": [["group", group]]}


def about_person_draft(kind: str, group: str, subject: str) -> Draft:
    """``group_approve``, ``group_remove``, ``group_mod`` or ``group_unmod`` of the person ``subject``."""
    return {"kind": kind, "body": {}, "tags": [["group", group], ["subject", subject]]}


def about_post_draft(kind: str, group: str, post: str, *, reason: str = "") -> Draft:
    """``group_hide`` (with its reason), ``group_unhide``, ``group_pin`` or ``group_unpin`` of a post."""
    body = {"reason": reason} if kind == "group_hide" else {}
    return {"kind": kind, "body": body, "tags": [["group", group], ["target", post]]}
