"""Every answer names the server that gave it: the ``Murmur-Server-Key`` response header."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SERVER_KEY_HEADER = "murmur-server-key"


class ServerKeyHeader:
    """Adds the server's key to the headers of every HTTP answer, errors included.

    A client compares it with the key it stored when it joined, so a different server behind the same URL (another
    server took the port, the data directory was replaced) is told apart from "you are not a member" at once.
    """

    def __init__(self, app: ASGIApp, server_key: str) -> None:
        self.app = app
        self.header = (SERVER_KEY_HEADER.encode("ascii"), server_key.encode("ascii"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, stamped)
