"""Edited posts on the person's side: which version an item shows, and the history of a post, checked here.

A server shows an edited post as the post as signed (its id stays its address) plus ``edit``, the newest edit
as signed, and ``edited_at``. Neither is taken on trust: an edit is shown only if it verifies, is by the post's
author and names the post; a server that pairs a post with anything else gets the item marked unverified (see
``murmur.client.api.mark_verified``). By the post's author: signed by the same key, or by another device of the
same identity, which the client proves from the identity's signed key events before it counts it
(``MurmurClient.prove_edits``: ``proven``), never on the server's word. The text a reader sees is the edit's;
the post's visibility, reply and tags stay the original's, since an edit changes only what was said.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from murmur.client.verify import verified

EDIT_FIELDS = ("edit", "edited_at")
"""What a server adds to a signed post it shows edited; taken off before the post itself is checked."""


def applies(edit: Any, post: Any, proven: Collection[str] = ()) -> bool:
    """Whether ``edit`` is a genuine edit of ``post``: it verifies, is an edit, by the post's author (its key, or
    another device of theirs: an id among ``proven``), naming it."""
    if not (isinstance(edit, dict) and isinstance(post, dict) and verified(edit)):
        return False
    named = ["target", post.get("id")] in edit["tags"]
    by_author = edit["author"] == post.get("author") or edit["id"] in proven
    return edit["kind"] == "edit" and by_author and named


def shown_edit(item: dict[str, Any]) -> dict[str, Any] | None:
    """The newest edit an item shows, when the server sent one (the item's ``verified`` covers it)."""
    edit = item.get("edit")
    return edit if isinstance(edit, dict) else None


def shown_body(item: dict[str, Any]) -> dict[str, Any]:
    """What an item's post says now: the newest edit's text and content warning, else the post's own."""
    message = item.get("message") or {}
    body = message.get("body") if isinstance(message.get("body"), dict) else {}
    edit = shown_edit(item)
    if edit is None:
        return body
    new = edit.get("body") if isinstance(edit.get("body"), dict) else {}
    return {"visibility": body.get("visibility", "public"), **new}


def edited_at(item: dict[str, Any]) -> int | None:
    """When the shown version was written, for an edited post; None for one never edited."""
    edit = shown_edit(item)
    when = edit.get("created_at") if edit is not None else None
    return when if isinstance(when, int) and not isinstance(when, bool) else None


def split_message(answer: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A single-message answer as (the message as signed, the newest edit if the server sent one)."""
    message = {name: value for name, value in answer.items() if name not in EDIT_FIELDS}
    edit = answer.get("edit")
    return message, edit if isinstance(edit, dict) else None


def version_rows(answer: Any, typed: str, proven: Collection[str] = ()) -> list[dict[str, Any]]:
    """A history answer as ``[{"id", "text", "cw"?, "created_at"}]``, oldest first, each version read from its
    signed message and checked here: the first must be the post ``typed`` names (its id or a prefix of it), every
    other an edit of it by its author. Anything else the server put in the list is left out; none at all when the
    first is not the post."""
    versions = answer.get("versions") if isinstance(answer, dict) else None
    rows: list[dict[str, Any]] = []
    post: dict[str, Any] | None = None
    for version in versions if isinstance(versions, list) else []:
        message = version.get("message") if isinstance(version, dict) else None
        if post is None:
            if not (verified(message) and message["kind"] == "post" and message["id"].startswith(typed.lower())):
                return []
            post = message
        elif not applies(message, post, proven):
            continue
        assert isinstance(message, dict)
        row: dict[str, Any] = {"id": message["id"], "text": message["body"]["text"]}
        if message["body"].get("cw"):
            row["cw"] = message["body"]["cw"]
        row["created_at"] = message["created_at"]
        rows.append(row)
    return rows
