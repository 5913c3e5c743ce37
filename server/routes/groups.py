"""Members read groups: the directory, one group with its pinned announcements, its people and its timeline.

Groups are written with signed messages through ``POST /api/v1/messages`` like everything else; these routes
only read the state the store folds from them (murmur/kinds/group.py).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.kinds import group_reads, kind
from murmur.kinds.key_log import INCEPTION
from murmur.kinds.key_store import identity_names
from murmur.server.auth import authenticate, state_of
from murmur.server.params import query_text
from murmur.server.responses import JSONBytes
from murmur.server.routes.reading import held_back, named, page_ids, page_keys
from murmur.server.routes.render import item_json, limit_param, page_json, timeline_params
from murmur.server.state import ServerState
from murmur.store.items import TimelineItem
from murmur.store.lookup import resolve_message_id

MAX_QUERY = 200


def group_json(row: group_reads.GroupRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "rules": row.rules,
        "join": row.join,
        "owner": row.owner,
        "created_at": row.created_at,
        "members": row.members,
    }


def person_json(p: group_reads.GroupPerson) -> dict[str, Any]:
    shown: dict[str, Any] = {"key": p.key, "role": p.role} if p.status == "member" else {"key": p.key}
    return {**shown, "since": p.since}


async def _group(state: ServerState, typed: str) -> group_reads.GroupRow:
    found = await group_reads.group(state.store, await resolve_message_id(state.store, typed))
    if found is None:
        raise Refused("not_found", "No such group here (its creation message has not arrived, or it never existed).")
    return found


async def _items(state: ServerState, group_id: str, items: list[TimelineItem]) -> list[dict[str, Any]]:
    """Timeline items, each saying whether a moderator hid it in the group, by whom and why (never dropped)."""
    marks = await group_reads.hidden(state.store, group_id, [item.id for item in items])
    out = []
    for item in items:
        mark = marks.get(item.id)
        out.append(
            {
                **item_json(item),
                "hidden": mark is not None,
                "hidden_by": mark.by if mark else None,
                "reason": mark.reason if mark else None,
                "hidden_at": mark.at if mark else None,
            }
        )
    return out


async def directory(request: Request) -> Response:
    """``?q=`` searches names and descriptions; ``?mine=1`` lists the caller's groups (joined or asked)."""
    state = state_of(request)
    caller = await authenticate(request)
    limit = limit_param(request)
    query = (query_text(request, "q", code="bad_request") or "").strip()
    mine = query_text(request, "mine", code="bad_request")
    if len(query) > MAX_QUERY:
        raise Refused("bad_request", f"Give a search of at most {MAX_QUERY} characters as ?q=...")
    if mine not in (None, "0", "1"):
        raise Refused("bad_request", "mine must be 1 (the groups you are in) or 0.")
    if mine == "1":
        # A person is in few groups: the words are looked for in each one's name and description here.
        found = await group_reads.groups_of(state.store, caller.key, limit=limit)
        wanted = query.lower()
        listed = [
            {**group_json(row), "you": {"status": status, "role": role}}
            for row, status, role in found
            if wanted in f"{row.name}\n{row.description}".lower()
        ]
    else:
        listed = [group_json(r) for r in await group_reads.directory(state.store, query=query, limit=limit)]
    body = {"groups": listed}
    return JSONBytes(await named(state, body, [g["owner"] for g in listed]))


async def info(request: Request) -> Response:
    """The group, the caller's place in it, its moderators and its pinned announcements."""
    state = state_of(request)
    caller = await authenticate(request)
    row = await _group(state, request.path_params["id"])
    you = await group_reads.person(state.store, row.id, caller.key)
    moderators = await group_reads.moderators(state.store, row.id)
    pins = await group_reads.pinned(state.store, row.id)
    body = {
        **group_json(row),
        "moderators": moderators,
        "you": {"status": you.status if you else "none", "role": you.role if you else ""},
        "pinned": await _items(state, row.id, pins),
    }
    keys = [row.owner, *moderators, *(i.author for i in pins)]
    return JSONBytes(await _named(state, body, keys))


async def members(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    row = await _group(state, request.path_params["id"])
    everyone = await group_reads.people(state.store, row.id)
    body = {
        "group": row.id,
        **{
            listing: [person_json(p) for p in everyone if p.status == status]
            for listing, status in (("members", "member"), ("pending", "pending"), ("removed", "removed"))
        },
        "spans": [{"key": k, "start": a, "end": b} for k, a, b in await group_reads.spans(state.store, row.id)],
    }
    return JSONBytes(await _named(state, body, [p.key for p in everyone]))


async def _named(state: ServerState, body: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """``named``, and for a key that is an identity (a place in a group is its person's: protocol.md §11) the name
    its devices last set."""
    body = await named(state, body, keys)
    if kind(INCEPTION):
        body["names"].update(await identity_names(state.store, [k for k in keys if k not in body["names"]]))
    return body


async def log(request: Request) -> Response:
    """The group's signed creation, membership and moderation messages, byte for byte: a device folds them itself
    (``murmur.kinds.group_fold``) to judge an act by the role its author held at its time."""
    state = state_of(request)
    await authenticate(request)
    row = await _group(state, request.path_params["id"])
    raws = await group_reads.log(state.store, row.id)
    return JSONBytes({"group": row.id, "messages": [orjson.Fragment(r) for r in raws]})


async def timeline(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    limit, before = timeline_params(request)
    row = await _group(state, request.path_params["id"])
    page = await group_reads.timeline(state.store, row.id, limit=limit, before=before)
    body = page_json(page)
    body["items"] = await _items(state, row.id, page.items)
    body["group"] = row.id
    keys = page_keys(page) + [i["hidden_by"] for i in body["items"]]
    return JSONBytes(await held_back(state, await named(state, body, keys), page_ids(page)))
