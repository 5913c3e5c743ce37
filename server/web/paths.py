"""What a web path names, read from the request, and how a refusal becomes a page.

Nothing in a path is looked up by prefix: an id or a key is the whole 64 lowercase hex digits, or it names
nothing. A local post, something that names one, an id of a group or letter nobody may see, a short prefix and an
id never held all answer the very same 404 page, so a reader cannot tell which of them they asked for.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused, StoreError
from murmur.keys import KEY_HEX
from murmur.server.auth import state_of
from murmur.server.params import query_text
from murmur.server.responses import STATUS_BY_CODE
from murmur.server.web.answer import refusal
from murmur.server.web.render import render
from murmur.store import Store
from murmur.validate import HASHTAG_CHARS

log = logging.getLogger("murmur.server.web")

NOT_FOUND = "Nothing public is held here under that address."
STORE_RETRY_AFTER = "5"  # seconds, as the API says it
MAX_TAG = 64


def not_found() -> Refused:
    return Refused("not_found", NOT_FOUND)


async def identity_of(store: Store, text: str) -> str:
    """The person an ``/@IDENTITY`` path names: all 64 lowercase hex digits of an identity (the digest of its
    first key event) or of a bare key (an identity with one device); never a prefix. The one place a path becomes a
    person; the store groups an identity's devices (``timelines.author``, ``public.profile``)."""
    if not KEY_HEX.fullmatch(text):
        raise not_found()
    return text


def full_id(text: str) -> str:
    """A message id as a path gives it: all 64 lowercase hex digits, never a prefix."""
    if not KEY_HEX.fullmatch(text):
        raise not_found()
    return text


def tag_of(text: str) -> str:
    """A hashtag as a path gives it (any case, without its ``#``), as the store keeps it."""
    tag = text.lower()
    if not 0 < len(tag) <= MAX_TAG or not set(tag) <= HASHTAG_CHARS:
        raise not_found()
    return tag


def before_of(request: Request) -> str | None:
    """``?before=``: the cursor of an older page, as a previous page handed it out (the store checks it)."""
    return query_text(request, "before", code="bad_cursor")


def base_of(request: Request) -> str:
    """This server's address for the absolute links a feed needs: config ``public_url`` when set (so a forged
    ``Host`` header cannot put another site's address into an answer a cache keeps), else the URL the request
    reached."""
    configured = state_of(request).config.public_url
    return configured.rstrip("/") if configured else str(request.base_url).rstrip("/")


def store_of(request: Request) -> Store:
    return state_of(request).store


Handler = Callable[[Request], Awaitable[Response]]


def shown(handler: Handler) -> Handler:
    """A web route: a refusal (nothing to show, a bad cursor) answers an HTML page with its status, never JSON."""

    @functools.wraps(handler)
    async def route(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as exc:
            status = STATUS_BY_CODE.get(exc.code, 400)
            title = "Not found" if status == 404 else "Cannot show this"
            reason = NOT_FOUND if status == 404 else exc.message
            body = render("refused.html", title=title, reason=reason, feeds=[])
            return refusal(body, status)
        except StoreError as exc:
            # As the API answers it (server/app.py): the request was sound, the database failed; try again later.
            log.error("storage error on %s %s: %s", request.method, request.url.path, exc)
            body = render("refused.html", title="Try again later", reason=f"{exc} Try again later.", feeds=[])
            return refusal(body, 503, retry_after=STORE_RETRY_AFTER)

    return route
