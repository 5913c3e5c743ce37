"""A signed HTTP client for one peer server, through its proxy if it has one (HTTP(S) or SOCKS5)."""

from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.lines import ACCEPT_IDENTITY, compressed
from murmur.store.peers import Peer

FED = "/fed/v1"
# A log position as the log endpoint accepts it (0 to 2^53-1, ASCII digits). str.isdigit would also let through
# "²" (int() raises) and 40-digit numbers (SQLite cannot store them): either ended the pull loop for good.
CURSOR = re.compile(r"[0-9]{1,16}")
MAX_CURSOR = 2**53 - 1


class PeerError(Exception):
    """A peer could not be reached, or answered with an error. ``retry_after`` honours the peer's wish."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.status = status


@dataclass(frozen=True)
class PullPage:
    lines: list[bytes]
    cursor: int
    more: bool
    size: int  # bytes received, for the catch-up figures


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class PeerClient:
    def __init__(
        self,
        identity: Identity,
        peer: Peer,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.identity = identity
        self.peer = peer
        proxy = peer.proxy or None
        self.http = httpx.AsyncClient(
            base_url=peer.url,
            transport=transport,
            proxy=None if transport else proxy,
            timeout=timeout,
            headers=ACCEPT_IDENTITY,
            event_hooks={"response": [self._refuse_compressed]},
        )

    async def _refuse_compressed(self, response: httpx.Response) -> None:
        """Before the body is read: httpx would inflate a compressed answer whole (a gzip bomb)."""
        reason = compressed(response.headers.get("content-encoding"), f"The answer of {self.peer.url}")
        if reason:
            raise PeerError(reason)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _send(
        self, method: str, path: str, params: dict[str, Any], body: bytes, timeout: float | None
    ) -> httpx.Response:
        request = self.http.build_request(
            method, path, params=params, content=body, timeout=timeout or httpx.USE_CLIENT_DEFAULT
        )
        request.headers.update(
            sign_request(self.identity, method, request.url.path, request.url.query.decode("ascii"), body).as_dict()
        )
        try:
            response = await self.http.send(request)
        except httpx.TimeoutException as exc:
            raise PeerError(f"timed out talking to {self.peer.url}") from exc
        except httpx.TransportError as exc:
            raise PeerError(f"cannot reach {self.peer.url}: {exc.__class__.__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise PeerError(
                f"{self.peer.url} answered HTTP {response.status_code}",
                retry_after=_retry_after(response.headers.get("retry-after")),
                status=response.status_code,
            )
        if not response.is_success:
            try:
                err = response.json()["error"]
                detail = f"{err['code']}: {err['reason']}"
            except (ValueError, KeyError, TypeError):
                detail = f"HTTP {response.status_code}"
            raise PeerError(f"{self.peer.url} refused the request ({detail})", status=response.status_code)
        return response

    async def push(self, raws: list[bytes]) -> dict[str, Any]:
        body = b"".join(raw + b"\n" for raw in raws)
        response = await self._send("POST", f"{FED}/messages", {}, body, None)
        try:
            result: dict[str, Any] = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise PeerError(f"{self.peer.url} answered a push with something other than JSON") from exc
        return result

    async def pull(self, after: int, *, limit: int = 500, wait: int = 0) -> PullPage:
        params = {"after": after, "limit": limit, "wait": wait}
        response = await self._send("GET", f"{FED}/log", params, b"", (wait + 20.0) if wait else None)
        cursor_text = response.headers.get("murmur-cursor", "")
        if not CURSOR.fullmatch(cursor_text) or int(cursor_text) > MAX_CURSOR:
            raise PeerError(f"{self.peer.url} answered a pull without a valid Murmur-Cursor header")
        lines = [line for line in response.content.split(b"\n") if line.strip()]
        return PullPage(lines, int(cursor_text), response.headers.get("murmur-more") == "1", len(response.content))

    async def reconcile(self, message: bytes) -> bytes:
        """One round of set reconciliation: our message out, the peer's answer back (murmur.sync.wire)."""
        response = await self._send("POST", f"{FED}/reconcile", {}, message, None)
        return response.content

    async def fetch(self, ids: list[str]) -> tuple[list[bytes], int]:
        """The messages among ``ids`` the peer holds and lets us see, and the bytes received."""
        body = orjson.dumps({"ids": ids})
        response = await self._send("POST", f"{FED}/fetch", {}, body, None)
        return [line for line in response.content.split(b"\n") if line.strip()], len(response.content)
