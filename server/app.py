"""The application factory: routes, error handling and lifespan, wired from a ``ServerState``.

Starlette, because it is a small, well-kept ASGI toolkit with nothing between a route and the request: the
server needs raw body bytes (signatures cover them), streaming responses and exact control of errors, and
no ORM, templating or validation layer of its own (the core validates). Run by uvicorn (uvloop + httptools).
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from murmur.errors import MurmurError, Refused, StoreError
from murmur.kinds import kind
from murmur.server.auth import RateLimited, SignatureRefused, state_of
from murmur.server.caching import kept_from_caches
from murmur.server.eventstream import SERVER_SEND
from murmur.server.identify import ServerKeyHeader
from murmur.server.metrics import RequestTimer
from murmur.server.responses import error
from murmur.server.routes import (
    audience,
    export,
    federation,
    gaps,
    groups,
    history,
    identities,
    info,
    polls,
    reading,
    receipts,
    reconcile,
    sealed,
    stream,
    writing,
)
from murmur.server.routes import letters as letter_reads
from murmur.server.routes import meetups as meetup_reads
from murmur.server.routes import metrics as metrics_route
from murmur.server.state import ServerState
from murmur.server.web import routes as web_routes

log = logging.getLogger("murmur.server")

API = "/api/v1"
FED = "/fed/v1"
STORE_RETRY_AFTER = "5"  # seconds: a lock held too long or a disk that came back


def routes() -> list[Route]:
    return [
        Route("/health", info.health),
        Route(f"{API}/info", info.info),
        Route(f"{API}/join", writing.join, methods=["POST"]),
        Route(f"{API}/messages", writing.publish, methods=["POST"]),
        Route(f"{API}/messages/{{id}}", reading.message),
        Route(f"{API}/messages/{{id}}/mine", reading.own_responses),
        Route(f"{API}/timelines/tag/{{tag}}", reading.tag_timeline),
        Route(f"{API}/timelines/author/{{key}}", reading.author_timeline),
        Route(f"{API}/timelines/{{name}}", reading.timeline),
        Route(f"{API}/threads/{{id}}", reading.thread),
        Route(f"{API}/counts", reading.counts),
        Route(f"{API}/notifications", reading.notifications),
        Route(f"{API}/notifications/read", reading.mark_notifications_read, methods=["POST"]),
        Route(f"{API}/search", reading.search),
        Route(f"{API}/members", reading.members),
        Route(f"{API}/people", reading.people),
        Route(f"{API}/profiles/{{key}}", reading.profile),
        Route(f"{API}/repairs", gaps.repair, methods=["POST"]),
        Route(f"{API}/stream", stream.stream),
        Route(f"{API}/export", export.own_messages),
        Route(f"{API}/audience", audience.preview),
        Route(f"{API}/manifest", audience.manifest),
        Route(f"{API}/deletes/{{id}}", receipts.delete_status),
        Route(f"{API}/messages/{{id}}/withheld", receipts.withheld),
        Route(f"{API}/import", export.import_own, methods=["POST"]),
        Route(f"{FED}/messages", federation.push, methods=["POST"]),
        Route(f"{FED}/offers", federation.offers, methods=["POST"]),
        Route(f"{FED}/log", federation.log),
        Route(f"{FED}/answers", federation.answers, methods=["POST"]),
        Route(f"{FED}/reconcile", reconcile.reconcile, methods=["POST"]),
        Route(f"{FED}/fetch", reconcile.fetch, methods=["POST"]),
        *_reads_of_kinds(),
        *web_routes(),
    ]


def _reads_of_kinds() -> list[Route]:
    """The routes reading a kind's own state, for the kinds this program knows (murmur.kinds): without the kind,
    the state is not kept, and its routes are absent, as in a version before it."""
    edits = [Route(f"{API}/messages/{{id}}/history", history.history)] if kind("edit") else []
    poll_routes = [Route(f"{API}/polls/{{id}}", polls.results), Route(f"{API}/polls/{{id}}/signed", polls.signed)]
    poll_routes = poll_routes if kind("poll") else []
    meetup_routes = [
        Route(f"{API}/meetups", meetup_reads.listed),
        Route(f"{API}/meetups/{{id}}", meetup_reads.one),
        Route(f"{API}/meetups/{{id}}/ics", meetup_reads.ics),
        Route(f"{API}/calendars/{{key}}", meetup_reads.answered),
    ]
    meetup_routes = meetup_routes if kind("meetup") else []
    letter_routes = [
        Route(f"{API}/letters/{{id}}", letter_reads.standing),
        Route(f"{API}/letters/{{id}}/signed", letter_reads.signed),
    ]
    letter_routes = letter_routes if kind("letter") else []
    identity_routes = [
        Route(f"{API}/identities/{{id}}", identities.identity),
        Route(f"{API}/identities/{{id}}/events", identities.identity_events),
    ] if kind("key_inception") else []  # fmt: skip
    sealed_routes = [Route(f"{API}/sealed", sealed.sealed)] if kind("sealed") else []
    return edits + poll_routes + meetup_routes + letter_routes + identity_routes + sealed_routes + (
        [
            Route(f"{API}/groups", groups.directory),
            Route(f"{API}/groups/{{id}}", groups.info),
            Route(f"{API}/groups/{{id}}/members", groups.members),
            Route(f"{API}/groups/{{id}}/log", groups.log),
            Route(f"{API}/groups/{{id}}/timeline", groups.timeline),
        ]
        if kind("group")
        else []
    )


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    # Every refused request comes through here (a refused message inside a batch is counted by ingest).
    if (metrics := state_of(request).metrics) is not None:
        metrics.request_refused(exc.code)
    if isinstance(exc, SignatureRefused) and exc.code == "busy":
        return error(exc.code, exc.message, 503, headers={"Retry-After": "5"})
    if isinstance(exc, SignatureRefused):
        return error(exc.code, exc.message, 401, headers={"WWW-Authenticate": 'Signature realm="murmur"'})
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error(exc.code, exc.message, headers=headers)


async def _store_error(request: Request, exc: Exception) -> Response:
    # A read or a write the database refused (murmur.store.db): the request was sound, so the client may retry.
    log.error("storage error on %s %s: %s", request.method, request.url.path, exc)
    return error("storage_unavailable", f"{exc} Try again later.", 503, headers={"Retry-After": STORE_RETRY_AFTER})


async def _murmur_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MurmurError)
    return error("bad_request", exc.message, 400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    return error(code, str(exc.detail), exc.status_code)


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client reset its connection before its request was whole: nothing was read, nothing stored, and
    # nobody is listening for an answer. Not a server fault, so no traceback and no 500 in the log.
    log.info("client left during %s %s before sending its whole request", request.method, request.url.path)
    return Response(status_code=400)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error("internal", "The server hit an unexpected error; it has been logged.", 500)


class _App(Starlette):
    """Starlette, keeping the server's own ``send`` in the scope, where live streams find the socket they may write
    onto (``murmur.server.eventstream``). No middleware here rewrites an answer's body; one that did (compression)
    would have to be told apart there.

    The cache rule (``murmur.server.caching``) wraps ``send`` here, outside Starlette's own error middleware: an
    unexpected error's 500 is answered there, past every middleware given to Starlette."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope[SERVER_SEND] = send
        await super().__call__(scope, receive, kept_from_caches(scope, send))


def create_app(state: ServerState) -> Starlette:
    """Build the ASGI app around already-open resources (the caller owns their lifetime)."""
    timer = [Middleware(RequestTimer, metrics=state.metrics)] if state.metrics is not None else []
    metrics = [Route("/metrics", metrics_route.metrics)] if state.metrics is not None else []
    app = _App(
        routes=routes() + metrics,
        middleware=[*timer, Middleware(ServerKeyHeader, server_key=state.identity.public_key)],
        exception_handlers={
            Refused: _refused,
            StoreError: _store_error,
            MurmurError: _murmur_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _unexpected,
        },
    )
    app.state.murmur = state
    return app
