"""A group's pinned announcements in the TUI head read as the post reads now, and keep a content warning shut."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.client.tui.screens.group import head_content
from murmur.message import sign_draft
from tests.hostile import acting_characters
from tests.tui.conftest import ALICE, NOW

GROUP = "ab" * 32


def pinned_group(body: dict[str, str], edit_body: dict[str, str] | None) -> dict[str, Any]:
    post = sign_draft(ALICE, {"kind": "post", "body": body, "tags": [["group", GROUP]]}, created_at=NOW - 5000)
    item: dict[str, Any] = {"seq": 1, "message": post, "verified": True, "hidden": False}
    if edit_body is not None:
        edit = sign_draft(ALICE, {"kind": "edit", "body": edit_body, "tags": [["target", post["id"]]]}, created_at=NOW)
        item |= {"edit": edit, "edited_at": NOW}
    return {"id": GROUP, "name": "G", "owner": ALICE.public_key, "join": "open", "members": 1, "pinned": [item]}


def test_a_pinned_post_reads_as_its_newest_edit() -> None:
    head = str(head_content(pinned_group({"text": "meet at noon"}, {"text": "meet at three"}), {}))
    assert "meet at three" in head and "meet at noon" not in head


@pytest.mark.parametrize(
    ("body", "edit_body"),
    [({"text": "spoiler: the butler", "cw": "film"}, None), ({"text": "harmless"}, {"text": "spoiler", "cw": "film"})],
    ids=["post-cw", "edit-adds-cw"],
)
def test_a_pinned_post_under_a_content_warning_shows_only_the_warning(
    body: dict[str, str], edit_body: dict[str, str] | None
) -> None:
    head = str(head_content(pinned_group(body, edit_body), {}))
    assert "CW: film" in head and "spoiler" not in head and "harmless" not in head


def test_a_pinned_warning_is_inert() -> None:
    head = str(head_content(pinned_group({"text": "x", "cw": "\x1b]0;owned\x07\u202eevil"}, None), {}))
    assert acting_characters(head) == []
