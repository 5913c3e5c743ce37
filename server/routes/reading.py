"""Members read: single messages, timelines, threads, notifications, search, members and profiles."""

from __future__ import annotations

from murmur.server.auth import authenticate, state_of
from murmur.server.responses import JSONBytes, raw_message
from murmur.server.routes.render import hex_param, item_json, node_json, notification_json, page_json, page_params
from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.store import timelines
from murmur.store.members import list_members, member_role
from murmur.store.search import search_posts, search_profiles
from murmur.validate import HASHTAG_CHARS

NAMED_TIMELINES = ("home", "local", "federated", "mentions")


async def message(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    raw = await state.store.get_raw(hex_param(request.path_params["id"], "message id"))
    if raw is None:
        raise Refused("not_found", "No such message here (it may never have arrived, or was deleted).")
    return JSONBytes(raw_message(raw))


async def timeline(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    limit, before = page_params(request)
    name = request.path_params["name"]
    store = state.store
    if name == "home":
        page = await timelines.home(store, caller.key, limit=limit, before=before)
    elif name == "local":
        page = await timelines.local(store, limit=limit, before=before)
    elif name == "federated":
        page = await timelines.federated(store, limit=limit, before=before)
    elif name == "mentions":
        page = await timelines.mentions(store, caller.key, limit=limit, before=before)
    else:
        raise Refused("not_found", f"No timeline {name[:40]!r}; try one of {', '.join(NAMED_TIMELINES)}.")
    return JSONBytes(page_json(page))


async def tag_timeline(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    limit, before = page_params(request)
    tag = request.path_params["tag"].lower().lstrip("#")
    if not tag or not set(tag) <= HASHTAG_CHARS or len(tag) > 64:
        raise Refused("bad_request", "A hashtag is 1 to 64 ASCII letters, digits or underscores.")
    return JSONBytes(page_json(await timelines.hashtag(state.store, tag, limit=limit, before=before)))


async def author_timeline(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    limit, before = page_params(request)
    key = hex_param(request.path_params["key"], "key")
    return JSONBytes(page_json(await timelines.author(state.store, key, limit=limit, before=before)))


async def thread(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    found = await timelines.thread(state.store, hex_param(request.path_params["id"], "message id"))
    if found is None:
        raise Refused("not_found", "No thread with that message here.")
    return JSONBytes({"root": node_json(found.root)})


async def notifications(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    limit, before = page_params(request)
    page = await timelines.notifications(state.store, caller.key, limit=limit, before=before)
    body = page_json(page, notification_json)
    body["unread"] = await timelines.unread_count(state.store, caller.key)
    return JSONBytes(body)


async def mark_notifications_read(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    from murmur.validate import parse_json

    payload = parse_json(caller.body or b"{}")
    seq = payload.get("seq") if isinstance(payload, dict) else None
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise Refused("bad_request", 'The body must be {"seq": N}: the newest notification cursor you have read.')
    await timelines.mark_read(state.store, caller.key, seq)
    return JSONBytes({"unread": await timelines.unread_count(state.store, caller.key)})


async def search(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    query = request.query_params.get("q", "").strip()
    if not query or len(query) > 200:
        raise Refused("bad_request", "Give a search query of 1 to 200 characters as ?q=...")
    limit, _ = page_params(request)
    kind = request.query_params.get("type", "all")
    if kind not in ("all", "posts", "people"):
        raise Refused("bad_request", "type must be posts, people or all.")
    result: dict[str, object] = {}
    if kind in ("all", "posts"):
        result["posts"] = [item_json(item) for item in await search_posts(state.store, query, limit=limit)]
    if kind in ("all", "people"):
        hits = await search_profiles(state.store, query, limit=limit)
        result["people"] = [{"key": h.author, "name": h.name, "bio": h.bio} for h in hits]
    return JSONBytes(result)


async def members(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    rows = await list_members(state.store)
    return JSONBytes(
        {"members": [{"key": m.key, "role": m.role, "joined_at": m.joined_at, "name": m.name} for m in rows]}
    )


async def profile(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    key = hex_param(request.path_params["key"], "key")
    store = state.store
    found = await store.profile(key)
    return JSONBytes(
        {
            "key": key,
            "name": found.name if found else "",
            "bio": found.bio if found else "",
            "member": await member_role(store, key) is not None,
            "following": await store.is_following(caller.key, key),
            "follows_you": await store.is_following(key, caller.key),
            "followers": len(await store.followers(key)),
            "following_count": len(await store.following(key)),
        }
    )
