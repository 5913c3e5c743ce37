"""What a cache between a client and this server may keep: no answer of the member API or of federation.

A member's answer is that member's (their notifications, their home timeline, their own messages), and a peer's is
what the audience rule lets that peer see; both are asked for with RFC 9421 ``Signature`` headers, which a shared
cache does not key on (it holds back only answers to requests with ``Authorization``, RFC 9111 section 3.5). So
every answer under ``/api/`` and ``/fed/`` says ``Cache-Control: no-store`` itself, whatever its route set: errors,
streams and exports alike. The web view's answers (public content, the same for every reader) state their own rule
(``murmur.server.web.answer``), and any other answer that states none (``/health``, ``/metrics``, a path that is
nowhere, an unexpected error) is not kept either: a cache may otherwise keep a 404 or a 200 by its own guess.
"""

from __future__ import annotations

from starlette.types import Message, Scope, Send

PRIVATE_PATHS = ("/api/", "/fed/")
_CACHE_CONTROL = b"cache-control"
_NO_STORE = (_CACHE_CONTROL, b"no-store")


def kept_from_caches(scope: Scope, send: Send) -> Send:
    """``send``, with ``Cache-Control: no-store`` put on the answer's start where the rule above asks for it."""
    private = str(scope.get("path", "")).startswith(PRIVATE_PATHS)

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            stated = any(name.lower() == _CACHE_CONTROL for name, _ in headers)
            if private or not stated:
                kept = [(name, value) for name, value in headers if name.lower() != _CACHE_CONTROL]
                message = {**message, "headers": [*kept, _NO_STORE]}
        await send(message)

    return sending
