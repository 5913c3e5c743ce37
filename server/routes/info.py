"""Unauthenticated endpoints: health and server info."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from murmur import __version__ as VERSION
from murmur.server.auth import state_of
from murmur.server.responses import JSONBytes
from murmur.store.members import count_members
from murmur.validate import MAX_MESSAGE_BYTES


async def health(request: Request) -> Response:
    """``{"status": "ok", "seq": N}`` once the database answers; ``seq`` is the log's end now, which a live
    client reads before its first pages and resumes its stream from, so nothing stored in between is missed.
    A server run with ``workers = N`` adds ``worker``: which of its processes answered (1..N)."""
    state = state_of(request)
    answer: dict[str, object] = {"status": "ok", "seq": await state.store.last_seq()}
    if state.worker:
        answer["worker"] = state.worker
    return JSONBytes(answer)


async def info(request: Request) -> Response:
    state = state_of(request)
    return JSONBytes(
        {
            "name": state.config.name,
            "version": VERSION,
            "protocol": 1,
            "server_key": state.identity.public_key,
            "url": state.config.url,
            "open_registration": state.config.open_registration,
            "members": await count_members(state.store),
            "limits": {
                "max_message_bytes": MAX_MESSAGE_BYTES,
                "max_text_chars": 5000,
                "max_body_bytes": state.config.max_body_bytes,
            },
        }
    )
