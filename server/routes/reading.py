"""Members read: single messages, timelines, threads, notifications, search, members and profiles."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.jcs import MAX_SAFE_INTEGER
from murmur.keys import fingerprint
from murmur.kinds import kind, meetup
from murmur.kinds.key_log import INCEPTION
from murmur.kinds.key_store import identity_of, profile_author, spoken_for
from murmur.kinds.sealed import readable_by
from murmur.mentions import MAX_HANDLE
from murmur.message import now_ms
from murmur.server.auth import authenticate, state_of
from murmur.server.responses import JSONBytes, raw_message
from murmur.server.routes.gaps import devices_of, missing, participants
from murmur.server.routes.meetups import meetup_json
from murmur.server.routes.render import (
    edited,
    hex_param,
    item_json,
    node_json,
    notification_json,
    page_json,
    page_params,
    timeline_params,
)
from murmur.server.state import ServerState
from murmur.store import receipts, tallies, timelines
from murmur.store.items import MAX_COUNT_IDS, post_counts, shown_version
from murmur.store.lookup import people_named, people_starting, resolve_key, resolve_message_id
from murmur.store.members import list_members, member_role
from murmur.store.peers import home_trust
from murmur.store.search import ProfileHit, search_posts, search_profiles
from murmur.store.together import reads_together
from murmur.validate import HASHTAG_CHARS, parse_json

NAMED_TIMELINES = ("home", "local", "federated", "mentions")


async def named(state: ServerState, body: dict[str, Any], keys: Iterable[str | None]) -> dict[str, Any]:
    """Add ``names``: the display name of every author in the answer, so no client needs a lookup per post,
    and ``shared_names``: those of them whose name another key here also uses (``Store.shared_names``).

    Names are unverified hints for display; clients show them beside the key's fingerprint, and flag a
    shared one."""
    wanted = [k for k in keys if k]
    with reads_together():
        names, shared = await asyncio.gather(state.store.display_names(wanted), state.store.shared_names(wanted))
    body["names"] = names
    body["shared_names"] = sorted(shared)
    return body


# A mention tag in a stored (canonical) message. Inside a JSON string every '"' is escaped, so this sequence
# only ever matches a real tag, and finding it costs no JSON parse per item.
MENTION_TAG = re.compile(rb'\["mention","([0-9a-f]{64})"\]')


def mentioned(raw: bytes | None) -> list[str]:
    """The keys a stored message mentions, so readers can show them as names."""
    return [key.decode("ascii") for key in MENTION_TAG.findall(raw)] if raw else []


async def held_back(state: ServerState, body: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """Add ``withheld``: per id among ``ids``, the peers that refused the message, as their signed notices (kept
    only when they verified against the peer's key: ``murmur.store.receipts.note``), so a reader sees "withheld
    by X: reason" wherever the message is shown rather than silence."""
    found = await receipts.withheld_among(state.store, ids)
    body["withheld"] = {k: [r.as_dict() for r in v] for k, v in found.items()}
    return body


def page_ids(page: timelines.Page) -> list[str]:
    return [item.id for item in page.items if isinstance(getattr(item, "id", None), str)]


async def page_answer(state: ServerState, page: timelines.Page) -> dict[str, Any]:
    """A timeline page as JSON, with the names of those in it and what peers withheld of it: read together, in
    one round trip on PostgreSQL (``murmur.store.together``)."""
    body = page_json(page)
    with reads_together():
        await asyncio.gather(named(state, body, page_keys(page)), held_back(state, body, page_ids(page)))
    return body


def page_keys(page: timelines.Page) -> list[str | None]:
    keys: list[str | None] = []
    for item in page.items:
        keys.extend((getattr(item, "author", None), getattr(item, "boosted_by", None), getattr(item, "actor", None)))
        keys.extend(mentioned(getattr(item, "raw", None)))
    return keys


async def message(request: Request) -> Response:
    """One message as signed; an edited post also carries its newest edit (``edit``) and when (``edited_at``)."""
    state = state_of(request)
    caller = await authenticate(request)
    msg_id = await resolve_message_id(state.store, request.path_params["id"])
    raw = await state.store.get_raw(msg_id)
    if raw is None or not await readable_by(state.store, caller.key, msg_id):  # not theirs: as if not here
        raise Refused("not_found", "No such message here (it may never have arrived, or was deleted).")
    newest = await shown_version(state.store, bytes.fromhex(msg_id))
    if newest is None:
        return JSONBytes(raw_message(raw))
    return JSONBytes(edited(orjson.loads(raw), newest.raw, newest.created_at))


async def own_responses(request: Request) -> Response:
    """The caller's own reactions to and boosts of a message, as signed: the client checks each before it signs
    a delete for it, so a server cannot make anyone delete something else."""
    state = state_of(request)
    caller = await authenticate(request)
    target = await resolve_message_id(state.store, request.path_params["id"])
    raws = await tallies.own_responses(state.store, caller.key, target)
    return JSONBytes({"target": target, "messages": [raw_message(raw) for raw in raws]})


async def timeline(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    limit, before = timeline_params(request)
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
    return JSONBytes(await page_answer(state, page))


async def tag_timeline(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    limit, before = timeline_params(request)
    tag = request.path_params["tag"].lower().lstrip("#")
    if not tag or not set(tag) <= HASHTAG_CHARS or len(tag) > 64:
        raise Refused("bad_request", "A hashtag is 1 to 64 ASCII letters, digits or underscores.")
    page = await timelines.hashtag(state.store, tag, limit=limit, before=before)
    return JSONBytes(await page_answer(state, page))


async def author_timeline(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    limit, before = timeline_params(request)
    key = await resolve_key(state.store, request.path_params["key"])
    page = await timelines.author(state.store, key, limit=limit, before=before)
    return JSONBytes(await page_answer(state, page))


async def thread(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    found = await timelines.thread(state.store, await resolve_message_id(state.store, request.path_params["id"]))
    if found is None:
        raise Refused("not_found", "No thread with that message here.")
    keys: list[str | None] = []
    ids: list[str] = []
    authors: list[str] = []
    stack = [found.root]
    while stack:
        node = stack.pop()
        if node.item is not None:
            authors.append(node.item.author)
            keys.append(node.item.author)
            keys.extend(mentioned(node.item.raw))
            ids.append(node.id)
        stack.extend(node.children)
    body: dict[str, Any] = {"root": node_json(found.root), "size": found.size, "truncated": found.truncated}

    async def gaps() -> None:
        devices = await participants(state.store, authors)
        body["missing"] = await missing(state.store, devices, devices)

    with reads_together():  # one round trip at each step on PostgreSQL
        await asyncio.gather(held_back(state, body, ids), gaps(), named(state, body, keys))
    return JSONBytes(body)



async def counts(request: Request) -> Response:
    """Replies, reactions and boosts of the posts named in ``ids``: what a client asks again when they change."""
    state = state_of(request)
    await authenticate(request)
    text = request.query_params.get("ids", "")
    if not text:
        raise Refused("bad_request", f"Name the posts as ?ids=ID,ID,... (64 hex digits each, at most {MAX_COUNT_IDS}).")
    found = await post_counts(state.store, [hex_param(i, "message id") for i in text.split(",")])
    return JSONBytes(
        {"counts": {k: {"replies": c.replies, "reactions": c.reactions, "boosts": c.boosts} for k, c in found.items()}}
    )


async def notifications(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    limit, before = page_params(request)
    page = await timelines.notifications(state.store, caller.key, limit=limit, before=before)
    body = page_json(page, notification_json)
    body["unread"] = await timelines.unread_count(state.store, caller.key)
    # what peers withheld of the message each notification carries (a reply, a mention, a reaction), as timelines say
    await held_back(state, body, [str(orjson.loads(item.raw)["id"]) for item in page.items])
    if before is None:  # reminders are of now, not of a place in the log: the first page carries them
        soon = await meetup.reminders(state.store, caller.key, now_ms())
        body["reminders"] = [meetup_json(h) for h in soon.due]
        body["next_reminder_at"] = soon.next_at
    return JSONBytes(await named(state, body, page_keys(page)))


async def mark_notifications_read(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    payload = parse_json(caller.body or b"{}")
    seq = payload.get("seq") if isinstance(payload, dict) else None
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SAFE_INTEGER:
        raise Refused("bad_request", 'The body must be {"seq": N}: the newest notification cursor you have read.')
    # Never past the end of the log: the marker only moves forward, so a marker ahead of the log would mark
    # every notification still to come as read.
    await timelines.mark_read(state.store, caller.key, min(seq, await state.store.last_seq()))
    return JSONBytes({"unread": await timelines.unread_count(state.store, caller.key)})


async def search(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    query = request.query_params.get("q", "").strip()
    if not query or len(query) > 200:
        raise Refused("bad_request", "Give a search query of 1 to 200 characters as ?q=...")
    limit, before = page_params(request)
    kind = request.query_params.get("type", "all")
    if kind not in ("all", "posts", "people"):
        raise Refused("bad_request", "type must be posts, people or all.")
    result: dict[str, object] = {}
    keys: list[str | None] = []
    if kind in ("all", "posts"):
        page = await search_posts(state.store, query, limit=limit, before=before)
        keys.extend(page_keys(page))
        result["posts"] = [item_json(item) for item in page.items]
        result["next_cursor"] = page.next_cursor
        await held_back(state, result, page_ids(page))
    if kind in ("all", "people"):
        hits = await search_profiles(state.store, query, limit=limit)
        keys.extend(h.author for h in hits)
        result["people"] = await _people_found(state, hits)
    return JSONBytes(await named(state, result, keys))


async def _people_found(state: ServerState, hits: list[ProfileHit]) -> list[dict[str, Any]]:
    """People a search found, one entry a person: devices of one identity are grouped under it (the first found
    stands for it), each entry with the identity and its fingerprint, as messages are (``speaker``)."""
    whom = await spoken_for(state.store, [h.author for h in hits]) if kind(INCEPTION) else {}
    people: dict[str, dict[str, Any]] = {}
    for h in hits:
        who = whom.get(h.author, h.author)
        people.setdefault(who, {"key": h.author, "name": h.name, "bio": h.bio, "identity": who,
                                "identity_fingerprint": fingerprint(who)})  # fmt: skip
    return list(people.values())


async def people(request: Request) -> Response:
    """People this server knows by handle (``?name=``, exact) or handle prefix (``?prefix=``, for completion)."""
    state = state_of(request)
    await authenticate(request)
    params = request.query_params
    name, prefix = params.get("name"), params.get("prefix")
    if (name is None) == (prefix is None) or not 1 <= len(name or prefix or "") <= MAX_HANDLE:
        raise Refused("bad_request", f"Give ?name=HANDLE or ?prefix=TEXT, 1 to {MAX_HANDLE} characters.")
    found = (
        await people_named(state.store, name) if name is not None else await people_starting(state.store, prefix or "")
    )
    return JSONBytes({"people": [{"key": p.key, "name": p.name} for p in found]})


async def members(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    rows = await list_members(state.store)
    shared = await state.store.shared_names([m.key for m in rows])
    return JSONBytes(
        {
            "members": [
                {"key": m.key, "role": m.role, "joined_at": m.joined_at, "name": m.name, "name_shared": m.key in shared}
                for m in rows
            ]
        }
    )


async def profile(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    store = state.store
    key = await resolve_key(store, request.path_params["key"])
    identity = await identity_of(store, key) if kind(INCEPTION) else None
    if identity is not None and identity["home"]:
        identity["home_trust"] = await home_trust(store, identity["home"], state.config.url)
    # an identity's name and bio: its devices' newest profile
    found = await store.profile((await profile_author(store, key) if identity is not None else None) or key)
    devices = await devices_of(store, key, identity)
    return JSONBytes(
        {
            "key": key,
            "name": found.name if found else "",
            "name_shared": bool(await store.shared_names([key])),
            "bio": found.bio if found else "",
            "member": await member_role(store, key) is not None,
            "following": await store.is_following(caller.key, key),
            "follows_you": await store.is_following(key, caller.key),
            "followers": len(await store.followers(key)),
            "following_count": len(await store.following(key)),
            "identity": identity,
            "missing": await missing(store, devices, devices),
        }
    )
