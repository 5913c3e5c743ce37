"""A post's versions: the post as first written, then each edit by its author, oldest first."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.kinds import edit
from murmur.kinds.base import Version
from murmur.server.auth import authenticate, state_of
from murmur.server.responses import JSONBytes, raw_message
from murmur.store.lookup import resolve_message_id


def version_json(version: Version) -> dict[str, Any]:
    """What one version says, and the version as signed so that a client can check it said that."""
    body = orjson.loads(version.raw)["body"]
    out: dict[str, Any] = {"id": version.id, "text": body["text"]}
    if body.get("cw"):
        out["cw"] = body["cw"]
    out["created_at"] = version.created_at
    out["message"] = raw_message(version.raw)
    return out


async def history(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    msg_id = await resolve_message_id(state.store, request.path_params["id"])
    versions = await edit.history(state.store, bytes.fromhex(msg_id))
    if not versions:
        raise Refused("not_found", "No such post here (it may never have arrived, was deleted, or is not a post).")
    return JSONBytes({"versions": [version_json(v) for v in versions]})
