"""The messages the TUI writes, as plain functions: build a draft, sign it here, check it, publish it.

The same shapes as the CLI's commands (``murmur post --reply-to``, ``edit``, ``react``, ``boost``, ``delete``,
``follow``), so a message written in the TUI is indistinguishable from one written on the command line.
"""

from __future__ import annotations

from typing import Any

from murmur.client.api import MurmurClient
from murmur.client.devices import publish_as_device
from murmur.keys import Identity
from murmur.message import tags_from_text


def post_draft(
    text: str,
    *,
    cw: str = "",
    local: bool = False,
    visibility: str | None = None,
    parent: dict[str, Any] | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """A post; ``visibility`` (public, local, scope:LABEL) or ``local``; ``parent`` is the signed message it replies
    to (its root and author get tagged, and its group: a reply in a group stays in it); ``group`` addresses a new
    post to a group."""
    body: dict[str, Any] = {"text": text, "visibility": visibility or ("local" if local else "public")}
    if cw.strip():
        body["cw"] = cw.strip()
    tags = tags_from_text(text)
    if parent is not None:
        root = next((v for n, v in parent.get("tags", []) if n == "root"), None) or parent["id"]
        tags = [["reply", parent["id"]], ["root", root], *tags]
        if ["mention", parent["author"]] not in tags:
            tags.append(["mention", parent["author"]])
        group = group or next((v for n, v in parent.get("tags", []) if n == "group"), None)
    if group is not None:
        tags.append(["group", group])
    return {"kind": "post", "body": body, "tags": tags}


def edit_draft(post: dict[str, Any], text: str, *, cw: str = "") -> dict[str, Any]:
    """A new version of ``post`` (the signed post): its text and content warning, tagged like a post's."""
    body: dict[str, Any] = {"text": text}
    if cw.strip():
        body["cw"] = cw.strip()
    return {"kind": "edit", "body": body, "tags": [["target", post["id"]], *tags_from_text(text)]}


def reaction_draft(target: dict[str, Any], emoji: str) -> dict[str, Any]:
    return {
        "kind": "reaction",
        "body": {"emoji": emoji},
        "tags": [["target", target["id"]], ["mention", target["author"]]],
    }


def boost_draft(target: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "boost", "body": {}, "tags": [["target", target["id"]], ["mention", target["author"]]]}


def delete_draft(target: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "delete", "body": {}, "tags": [["target", target["id"]]]}


def follow_draft(key: str, *, follow: bool) -> dict[str, Any]:
    return {"kind": "follow" if follow else "unfollow", "body": {}, "tags": [["subject", key]]}


async def publish(api: MurmurClient, identity: Identity, draft: dict[str, Any]) -> dict[str, Any]:
    """Sign with the person's key on this machine, refuse locally what a server would refuse, then send."""
    return await publish_as_device(api, identity, draft)
