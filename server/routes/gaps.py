"""What this server knows it lacks of an author's public messages, and asking peers for it (murmur.store.gaps).

- ``missing`` on a profile (``GET /api/v1/profiles/{key}``) and a thread (``GET /api/v1/threads/{id}``): per
  device, ``{"device", "device_name", "count", "ranges"}``, the counters missing below the highest one held.
- ``POST /api/v1/repairs`` with ``{"key": KEY}`` (an identity, a device key or a bare key, or 8+ of its hex
  digits), ``{"ids": [ID, ...]}`` (messages known by id: a thread's parent or root never received), or both:
  asks every peer this server dials for them (``murmur.server.federation.refill``); the answer says what each
  peer sent and what is still missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.keys import KEY_HEX
from murmur.kinds import kind
from murmur.kinds.key_log import INCEPTION
from murmur.kinds.key_store import device_names, identities_of_device, identity_of
from murmur.server.auth import authenticate, state_of
from murmur.server.federation.refill import MAX_IDS, refill
from murmur.server.responses import JSONBytes
from murmur.store import Store
from murmur.store.gaps import MAX_DEVICES, gaps
from murmur.store.lookup import resolve_key
from murmur.store.together import reads_together
from murmur.validate import parse_json


async def devices_of(store: Store, key: str, identity: dict[str, Any] | None = None) -> dict[str, str]:
    """The devices whose counters make up ``key``'s public stream, each with its name in the identity's log:
    every device the log ever added (what a removed device wrote before still counts), or the key itself.
    ``identity``: ``key``'s identity when the caller has it already."""
    if identity is None and kind(INCEPTION):
        identity = await identity_of(store, key)
    if identity is None:
        return {key: ""}
    return {str(d["key"]): str(d.get("name") or "") for d in identity["devices"]}


async def participants(store: Store, authors: list[str]) -> dict[str, str]:
    """Every device of the people who wrote in a thread (each author's identity, all the devices its log ever
    added), named, up to ``MAX_DEVICES``: a reply of Ada's phone that never came counts where her laptop wrote."""
    devices: dict[str, str] = {}
    people = list(dict.fromkeys(authors))
    found: list[list[tuple[str, int | None]]] = []
    if kind(INCEPTION):  # asked together (one round trip on PostgreSQL), though the walk may stop before the last
        with reads_together():
            found = list(await asyncio.gather(*(identities_of_device(store, a) for a in people)))
    for author, identities in zip(people, found or [[] for _ in people], strict=True):
        if len(devices) >= MAX_DEVICES:
            break
        devices.setdefault(author, "")
        for identity, _ in identities:
            devices.update(await devices_of(store, identity))
    return devices


async def missing(store: Store, devices: Iterable[str], names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The ``missing`` of an answer: the gaps of ``devices``, each named (from ``names``, else the logs)."""
    found = await gaps(store, list(devices))
    if names is None:
        names = await device_names(store, [g.device for g in found]) if found and kind(INCEPTION) else {}
    return [g.as_dict(names.get(g.device, "")) for g in found]


def _ids(payload: dict[str, Any]) -> list[str]:
    ids = payload.get("ids", [])
    if (
        not isinstance(ids, list)
        or len(ids) > MAX_IDS
        or not all(isinstance(i, str) and KEY_HEX.fullmatch(i) for i in ids)
    ):
        raise Refused("bad_request", f'"ids" must be a list of at most {MAX_IDS} message ids, 64 hex digits each.')
    return list(dict.fromkeys(ids))


async def repair(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    payload = parse_json(caller.body or b"{}")
    payload = payload if isinstance(payload, dict) else {}
    typed = payload.get("key")
    ids = _ids(payload)
    if (typed is not None and not (isinstance(typed, str) and typed)) or (typed is None and not ids):
        raise Refused(
            "bad_request",
            'The body must be {"key": KEY} (whose public messages to ask peers for), {"ids": [ID, ...]}, or both.',
        )
    key = await resolve_key(state.store, typed) if typed is not None else None
    devices = await devices_of(state.store, key) if key is not None else {}
    asked = await refill(state, list(devices), ids)
    absent = [i for i in ids if await state.store.get_raw(i) is None]
    return JSONBytes({
        "key": key, "peers": [a.as_dict() for a in asked], "missing": await missing(state.store, devices, devices),
        "absent": absent,
    })  # fmt: skip
