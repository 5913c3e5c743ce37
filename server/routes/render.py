"""Turning store rows into JSON, and parsing the query parameters every listing shares."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from murmur.errors import Refused
from murmur.keys import KEY_HEX, fingerprint
from murmur.numbers import MAX_NUMBER
from murmur.server.params import optional_query_number, query_number, query_text
from murmur.server.responses import raw_message
from murmur.store.timelines import NotificationItem, Page, ThreadNode, TimelineItem

MAX_LIMIT = 100
MAX_THREAD_DEPTH = 48


def limit_param(request: Request) -> int:
    """``limit`` (1-100, default 20) from the query string."""
    return query_number(request, "limit", default=20, low=1, high=MAX_LIMIT, code="bad_limit")


def timeline_params(request: Request) -> tuple[int, str | None]:
    """``limit``, and ``before`` as the text a previous page handed out: the store parses timeline cursors
    (``murmur.store.items.Cursor``) and refuses one it did not make as ``bad_cursor``."""
    return limit_param(request), query_text(request, "before", code="bad_cursor")


def page_params(request: Request) -> tuple[int, int | None]:
    """``limit`` and ``before`` (a seq from a previous page of notifications) from the query string."""
    limit = limit_param(request)
    before = optional_query_number(request, "before", low=1, high=MAX_NUMBER, code="bad_cursor")
    return limit, before


def hex_param(value: str, what: str) -> str:
    if not KEY_HEX.fullmatch(value):
        raise Refused("bad_request", f"The {what} must be 64 lowercase hex digits.")
    return value


def edited(body: dict[str, Any], edit_raw: bytes | None, edited_at: int | None) -> dict[str, Any]:
    """Add ``edit`` (the newest edit as signed) and ``edited_at`` to what shows a post that was edited."""
    if edit_raw is not None:
        body["edit"] = raw_message(edit_raw)
        body["edited_at"] = edited_at
    return body


def speaker(raw: bytes, author: str) -> dict[str, str]:
    """Whom a message speaks for, as readers group it: the identity its device named (docs/protocol.md §13.5:
    a message the identity's log refuses is not held), or, for a bare key, the key; with its fingerprint."""
    identity = author
    if b'"identity"' in raw:
        identity = next((v for n, v in orjson.loads(raw)["tags"] if n == "identity"), author)
    return {"identity": identity, "identity_fingerprint": fingerprint(identity)}


def item_json(item: TimelineItem) -> dict[str, Any]:
    body = {
        "seq": item.seq,
        **speaker(item.raw, item.author),
        "message": raw_message(item.raw),
        "boosted_by": item.boosted_by,
        "boost": raw_message(item.boost_raw) if item.boost_raw else None,
        "counts": {"replies": item.replies, "reactions": item.reactions, "boosts": item.boosts},
        "origin": item.origin,
        "boost_origin": item.boost_origin,
    }
    return edited(body, item.edit_raw, item.edited_at)


def notification_json(item: NotificationItem) -> dict[str, Any]:
    body = {
        "seq": item.seq,
        "kind": item.kind,
        "actor": item.actor,
        **speaker(item.raw, item.actor),
        "target_id": item.target_id,
        "message": raw_message(item.raw),
    }
    return edited(body, item.edit_raw, item.edited_at)


def page_json(page: Page, render: Any = item_json) -> dict[str, Any]:
    return {"items": [render(item) for item in page.items], "next_cursor": page.next_cursor}


def node_json(root: ThreadNode) -> dict[str, Any]:
    """A thread as nested JSON, built without recursion.

    Nesting stops at MAX_THREAD_DEPTH: replies deeper than that are listed, in order, among the children of
    the deepest shown level, each still naming its ``parent``. Long reply chains happen (two people going back
    and forth), and neither Python's recursion nor a JSON encoder's nesting limit should decide their fate.
    """

    def shell(node: ThreadNode, parent: str | None) -> dict[str, Any]:
        return {"id": node.id, "parent": parent, "item": item_json(node.item) if node.item else None, "children": []}

    top = shell(root, None)
    stack: list[tuple[ThreadNode, list[dict[str, Any]], int]] = [(root, top["children"], 0)]
    while stack:
        node, container, depth = stack.pop()
        for child in node.children:
            child_json = shell(child, node.id)
            container.append(child_json)
            deeper = child_json["children"] if depth + 1 < MAX_THREAD_DEPTH else container
            stack.append((child, deeper, depth + 1))
    return top
