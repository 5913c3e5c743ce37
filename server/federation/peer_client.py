"""A signed HTTP client for one peer server, through its proxy if it has one (HTTP(S) or SOCKS5).

This is the boundary where a peer's answers enter the server, so nothing a peer sends is trusted in shape or
size: every answer is read incrementally up to a cap that follows from what was asked (never whole into
memory past it), and its shape is checked here (a push answer is an object with one result per line sent, a
pull answer has no more lines than asked and a cursor in the one number grammar, ...). Nor in time: httpx's
timeout bounds each read, not the answer, so a peer trickling a byte per read would hold its caller (a repair,
``murmur sync``, a removal told to every peer) for as long as it liked; each answer, sent and read whole, has a
deadline of its own, a floor on its throughput (``murmur.deadlines``). Anything else, and every httpx error, becomes a
``PeerError`` whose sentence ``murmur peer list`` shows as the last error.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from murmur.deadlines import ANSWER_TIMES, Deadline, answer_deadline, too_slow
from murmur.errors import PeerError, Refused
from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.lines import ACCEPT_IDENTITY, compressed
from murmur.numbers import MAX_NUMBER, parse_number
from murmur.receipts import STATUSES
from murmur.server.federation.offers import ID_BYTES, packed, unpacked
from murmur.store.peers import Peer
from murmur.validate import MAX_MESSAGE_BYTES

__all__ = ["PeerClient", "PeerError", "PullPage"]

FED = "/fed/v1"
# Caps on what one answer may hold. A message line is at most MAX_MESSAGE_BYTES plus its newline, so a page of
# N messages is bounded by N of those; the other answers are small by construction.
LINE_BYTES = MAX_MESSAGE_BYTES + 1
MAX_PUSH_ANSWER_BYTES = 1024 * 1024  # one result per line sent (at most 1000), each well under 1 KiB
MAX_RECONCILE_ANSWER_BYTES = 8 * 1024 * 1024  # what a server accepts as a reconcile body (max_batch_bytes)
MAX_ERROR_BYTES = 64 * 1024
# An older murmur answers an unknown route 404 (405 where the path exists for another method): it takes bodies.
UNKNOWN_ROUTE = (404, 405)

# One translation table for httpx's exceptions, in the spirit of httpx's own ``map_exceptions``: the first
# entry that matches gives the sentence shown for it. InvalidURL is not an HTTPError, hence its own line.
HTTPX_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (httpx.TimeoutException, "timed out talking to {url}"),
    (httpx.DecodingError, "{url} sent an answer that could not be decoded ({name})"),
    (httpx.TransportError, "cannot reach {url}: {name}"),
    (httpx.HTTPError, "talking to {url} failed: {name}"),
    (httpx.InvalidURL, "cannot dial {url}: {name}"),
)
_HTTPX_TYPES = tuple(cls for cls, _ in HTTPX_ERRORS)
# What escapes httpx untranslated while it opens a connection that closes under it (seen with uvloop:
# "'NoneType' object has no attribute 'getpeername'" from anyio, or a raw OSError). Caught around the send
# alone, so that the same error types raised by our own code still show as the bugs they are.
UNMAPPED_TRANSPORT_FAULTS = (OSError, AttributeError)


@contextmanager
def translated(url: str) -> Iterator[None]:
    """Turn httpx's exceptions into ``PeerError`` (the detail stays in ``__cause__`` for the log)."""
    try:
        yield
    except _HTTPX_TYPES as exc:
        sentence = next(text for cls, text in HTTPX_ERRORS if isinstance(exc, cls))
        raise PeerError(sentence.format(url=url, name=type(exc).__name__)) from exc


@asynccontextmanager
async def in_time(url: str, what: str, seconds: float, *, sending: int = 0) -> AsyncIterator[Deadline]:
    """Give up on an answer past its deadline (``murmur.deadlines``), as a ``PeerError`` like any other failure."""
    try:
        async with answer_deadline(seconds, sending=sending) as deadline:
            yield deadline
    except TimeoutError as exc:
        raise PeerError(
            f"{url} was too slow: its answer to {what} {too_slow(seconds)}, so it was given up on (it is tried"
            " again later; if it stays slow, check its network or proxy)"
        ) from exc


@dataclass(frozen=True)
class PullPage:
    lines: list[bytes]
    cursor: int
    more: bool
    size: int  # bytes received, for the catch-up figures
    ids: list[bytes] | None = None  # asked with ids=1 of a peer that knows it: the ids, and no lines


@dataclass(frozen=True)
class _Answer:
    headers: httpx.Headers
    content: bytes


def shape_of(value: object) -> str:
    """What a JSON value is, in words, for a sentence about an answer of the wrong shape."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def lines_of(content: bytes) -> list[bytes]:
    return [line for line in content.split(b"\n") if line.strip()]


async def _held(content: bytes) -> AsyncIterator[bytes]:
    yield content


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(parse_number(value.strip(), name="Retry-After", low=0, high=MAX_NUMBER, code="bad_answer"))
    except Refused:
        pass
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
        self.timeout = timeout
        proxy = peer.proxy or None
        self.http = httpx.AsyncClient(
            base_url=peer.url,
            transport=transport,
            proxy=None if transport else proxy,
            timeout=timeout,
            headers=ACCEPT_IDENTITY,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _read(self, response: httpx.Response, cap: int, what: str, deadline: Deadline) -> bytes:
        """The answer's body, refused as soon as it passes ``cap`` bytes (whatever Content-Length claims); each
        chunk moves the answer's ``deadline`` later."""
        # We ask for identity (murmur.lines): a compressed answer could expand far past the cap inside one chunk.
        if reason := compressed(response.headers.get("content-encoding"), f"The answer of {self.peer.url} to {what}"):
            raise PeerError(reason)
        try:
            declared: int | None = parse_number(
                response.headers.get("content-length"), name="Content-Length", low=0, high=MAX_NUMBER, code="bad_answer"
            )
        except Refused:
            declared = None  # absent or odd: the count below holds the cap all the same
        if declared is not None and declared > cap:
            raise PeerError(f"{self.peer.url} answered {what} with more than {cap} bytes ({declared} declared)")
        chunks: list[bytes] = []
        size = 0
        # A response made in memory (a test's transport) holds its body already; a real one streams it.
        stream = _held(response.content) if response.is_stream_consumed else response.aiter_raw()
        async for chunk in stream:
            size += len(chunk)
            if size > cap:
                raise PeerError(f"{self.peer.url} answered {what} with more than {cap} bytes")
            chunks.append(chunk)
            deadline.came(len(chunk))
        return b"".join(chunks)

    async def _send(
        self, method: str, path: str, params: dict[str, Any], body: bytes, *, cap: int, what: str, wait: int = 0
    ) -> _Answer:
        """Send a signed request and read its answer whole; ``wait``: the seconds a long poll may stay quiet, on
        top of the timeout of each read and of the answer's deadline."""
        timeout = (wait + self.timeout) if wait else httpx.USE_CLIENT_DEFAULT
        request = self.http.build_request(method, path, params=params, content=body, timeout=timeout)
        query = request.url.query.decode("ascii")
        request.headers.update(
            sign_request(self.identity, method, request.url.path, query, body, recipient=self.peer.key).as_dict()
        )
        async with in_time(self.peer.url, what, wait + ANSWER_TIMES * self.timeout, sending=len(body)) as deadline:
            return await self._answer(request, cap, what, deadline)

    async def _answer(self, request: httpx.Request, cap: int, what: str, deadline: Deadline) -> _Answer:
        with translated(self.peer.url):
            try:
                response = await self.http.send(request, stream=True)
            except UNMAPPED_TRANSPORT_FAULTS as exc:
                raise PeerError(f"cannot reach {self.peer.url}: {type(exc).__name__}") from exc
            try:
                if response.is_success:
                    return _Answer(response.headers, await self._read(response, cap, what, deadline))
                try:
                    content = await self._read(response, MAX_ERROR_BYTES, what, deadline)
                except PeerError:
                    content = b""
            finally:
                await response.aclose()
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = _retry_after(response.headers.get("retry-after"))
            raise PeerError(f"{self.peer.url} answered HTTP {status}", retry_after=retry_after, status=status)
        try:
            err = orjson.loads(content)["error"]
            detail = f"{err['code']}: {err['reason']}"
        except (orjson.JSONDecodeError, KeyError, TypeError):
            detail = f"HTTP {status}"
        raise PeerError(f"{self.peer.url} refused {what} ({detail})", status=status)

    async def clock(self) -> tuple[str | None, float, float]:
        """Ask the peer's unauthenticated ``/health``: its ``Date`` header, and when we asked and heard (for
        ``murmur doctor``'s clock and reachability findings)."""
        sent = time.time()
        async with in_time(self.peer.url, "a look at its /health", ANSWER_TIMES * self.timeout):
            with translated(self.peer.url):
                response = await self.http.get("/health")
        received = time.time()
        if response.status_code != 200:
            raise PeerError(f"{self.peer.url}/health answered {response.status_code}", status=response.status_code)
        return response.headers.get("date"), sent, received

    async def push(self, raws: list[bytes]) -> list[dict[str, Any]]:
        """Send a batch; returns the peer's result for each line, in order (checked for shape)."""
        body = b"".join(raw + b"\n" for raw in raws)
        answer = await self._send("POST", f"{FED}/messages", {}, body, cap=MAX_PUSH_ANSWER_BYTES, what="a push")
        try:
            payload = orjson.loads(answer.content)
        except orjson.JSONDecodeError as exc:
            raise PeerError(f"{self.peer.url} answered a push with something other than JSON") from exc
        if not isinstance(payload, dict):
            raise PeerError(f"{self.peer.url} answered a push with {shape_of(payload)}, not an object")
        results = payload.get("results")
        if not isinstance(results, list) or len(results) != len(raws):
            count = f"{len(results)} results" if isinstance(results, list) else shape_of(results)
            raise PeerError(f"{self.peer.url} answered a push of {len(raws)} messages with {count} as its results")
        for result in results:
            if not isinstance(result, dict) or result.get("status") not in STATUSES:
                raise PeerError(f"{self.peer.url} answered a push with a result that has no known status")
        return results

    async def offer(self, ids: list[bytes]) -> list[bytes] | None:
        """Offer the peer these ids (``POST /fed/v1/offers``); the ones it asks us to push, or None when it does
        not know offers (an older murmur), which takes every body instead."""
        try:
            answer = await self._send(
                "POST", f"{FED}/offers", {}, packed(ids), cap=len(ids) * ID_BYTES, what="an offer"
            )
        except PeerError as error:
            if error.status in UNKNOWN_ROUTE:
                return None
            raise
        try:
            wanted = unpacked(answer.content, f"The answer of {self.peer.url} to an offer")
        except Refused as refusal:
            raise PeerError(refusal.message) from refusal
        if not set(wanted) <= set(ids):
            raise PeerError(f"{self.peer.url} answered an offer asking for ids it was not offered")
        return wanted

    async def pull(self, after: int, *, limit: int = 500, wait: int = 0, ids: bool = False) -> PullPage:
        """A page of the peer's log after ``after``; with ``ids``, its ids alone if the peer knows how (an older
        murmur ignores the parameter and sends the messages, which are taken as ever)."""
        params = {"after": after, "limit": limit, "wait": wait, **({"ids": 1} if ids else {})}
        answer = await self._send(
            "GET",
            f"{FED}/log",
            params,
            b"",
            cap=limit * LINE_BYTES,
            what="a pull",
            wait=wait,
        )
        try:
            cursor = parse_number(
                answer.headers.get("murmur-cursor"), name="Murmur-Cursor", low=0, high=MAX_NUMBER, code="bad_answer"
            )
        except Refused as refusal:
            raise PeerError(f"{self.peer.url} answered a pull without a valid cursor: {refusal.message}") from refusal
        more = answer.headers.get("murmur-more")
        if more not in ("0", "1"):
            raise PeerError(f"{self.peer.url} answered a pull without Murmur-More: 0 or 1")
        if ids and answer.headers.get("murmur-ids") == "1":
            try:
                held = unpacked(answer.content, f"The answer of {self.peer.url} to a pull of ids")
            except Refused as refusal:
                raise PeerError(refusal.message) from refusal
            if len(held) > limit:
                raise PeerError(f"{self.peer.url} answered a pull with {len(held)} ids; {limit} were asked for")
            return PullPage([], cursor, more == "1", len(answer.content), held)
        lines = lines_of(answer.content)
        if len(lines) > limit:
            raise PeerError(f"{self.peer.url} answered a pull with {len(lines)} messages; {limit} were asked for")
        return PullPage(lines, cursor, more == "1", len(answer.content))

    async def answers(self, lines: list[dict[str, Any]]) -> int:
        """Our signed answers about messages the peer's log or fetch gave us (``POST /fed/v1/answers``); how
        many it kept."""
        answer = await self._send(
            "POST", f"{FED}/answers", {}, orjson.dumps({"answers": lines}), cap=MAX_ERROR_BYTES, what="our answers",
        )  # fmt: skip
        try:
            kept = orjson.loads(answer.content).get("kept")
        except (orjson.JSONDecodeError, AttributeError) as exc:
            raise PeerError(f"{self.peer.url} answered our answers with something other than a JSON object") from exc
        if type(kept) is not int:
            raise PeerError(f"{self.peer.url} answered our answers without a count kept")
        return kept

    async def reconcile(self, message: bytes) -> bytes:
        """One round of set reconciliation: our message out, the peer's answer back (murmur.sync.wire)."""
        answer = await self._send(
            "POST", f"{FED}/reconcile", {}, message, cap=MAX_RECONCILE_ANSWER_BYTES, what="a reconcile"
        )
        return answer.content

    async def fetch(self, ids: list[str], counted: list[dict[str, Any]] | None = None) -> tuple[list[bytes], int]:
        """The messages among ``ids``, and of the device counters ``counted`` names (``{"device", "from",
        "to"}``, docs/protocol.md §13.8), that the peer holds and lets us see, and the bytes received."""
        asked = len(ids) + sum(int(r["to"]) - int(r["from"]) + 1 for r in counted or [])
        body = orjson.dumps({"ids": ids, "counted": counted} if counted else {"ids": ids})
        answer = await self._send("POST", f"{FED}/fetch", {}, body, cap=max(1, asked) * LINE_BYTES, what="a fetch")
        lines = lines_of(answer.content)
        if len(lines) > asked:
            raise PeerError(f"{self.peer.url} answered a fetch asking for {asked} with {len(lines)} messages")
        return lines, len(answer.content)
