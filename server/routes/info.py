"""Unauthenticated endpoints: health (a member's signed request learns the log's end too) and server info."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from murmur import __version__ as VERSION
from murmur.server.auth import authenticate, state_of
from murmur.server.responses import JSONBytes
from murmur.store.members import count_members
from murmur.validate import MAX_MESSAGE_BYTES

SIGNATURE_HEADERS = ("signature", "signature-input")  # either one present: the request means to be signed


async def health(request: Request) -> Response:
    """``{"status": "ok", "version": V}`` once the database answers, for anyone (a monitor, a peer reading the
    ``Date`` header). A request signed by a member gets ``seq`` too: the log's end now, which a live client reads
    before its first pages and resumes its stream from, so nothing stored in between is missed. ``seq`` moves with
    every stored message, a sealed or local one included, so an outsider polling it would learn when members write
    what the open web never shows: it is for members only. A server run with ``workers = N`` adds ``worker``:
    which of its processes answered (1..N)."""
    state = state_of(request)
    answer: dict[str, object] = {"status": "ok", "version": VERSION}
    if any(name in request.headers for name in SIGNATURE_HEADERS):
        await authenticate(request)  # signed, it must be signed right: a member is told why not, never left guessing
        answer["seq"] = await state.store.last_seq()
    else:
        await state.store.last_seq()  # the database answers (the figure itself is not for outsiders)
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
