"""The HTTP client both the CLI and the TUI use: every request signed with the person's key (RFC 9421).

Responses that carry messages are verified here, on the person's machine, before anything shows them:
a message whose id or signature does not check out is marked ``verified: False`` and never shown as genuine.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from murmur.client.audience import peer_said
from murmur.client.verify import verified
from murmur.client.versions import applies, split_message
from murmur.deadlines import ANSWER_TIMES, REPAIR_S, Deadline, answer_deadline, too_slow
from murmur.errors import MurmurError, Refused
from murmur.httpsig import sign_request
from murmur.jcs import canonicalize
from murmur.keys import KEY_HEX, Identity, fingerprint
from murmur.kinds.key_log import device_verdict
from murmur.lines import ACCEPT_IDENTITY, Lines, compressed
from murmur.numbers import MAX_NUMBER, parse_number
from murmur.receipts import UNKNOWN, Signers, mark_signer, notice_verifies
from murmur.validate import parse_json

_CALENDAR_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")
API = "/api/v1"
MAX_STREAM_LINE = 1024 * 1024  # an event carries one message and what shows it: far below this

# Idempotent methods (RFC 9110 §9.2.2): safe to send again when a kept-alive connection dies under them.
RESENT_METHODS = frozenset({"GET", "HEAD"})
# What a kept-alive connection that the server closed as the request went out raises: the server's idle timeout
# fired in the same instant, so the request was never read (or never fully written).
STALE_CONNECTION = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
SIGNERS_AGAIN_S = 60.0  # a key no manifest read lists: the manifest is read again at most this often

PageCursor = str | int
"""A page's ``next_cursor``, passed back as ``before`` exactly as the server handed it out (a timeline's is text,
the notifications' a seq)."""


class ApiError(MurmurError):
    """The server answered with an error: ``code`` and ``message`` are its reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        # 400 is the server finding a value we sent malformed (an id, a key, a cursor, a search type): a usage
        # error like one the CLI catches itself (docs/cli.md), not a refusal of a well-formed request.
        self.exit_code = 4 if status >= 500 else 2 if status == 400 else 1


class GarbledEvent(ApiError):
    """An event on the live stream that is no JSON (garbled, nested too deep): the stream is no longer to be
    trusted, and a follower drops it and connects again."""


class ServerUnreachable(MurmurError):
    exit_code = 4


SERVER_KEY_HEADER = "murmur-server-key"  # every answer of a murmur server names the server that gave it


class WrongServer(MurmurError):
    """The server at the profile's URL is not the one this profile joined (its key differs, or it has none)."""

    exit_code = 4


def check_server_key(response: httpx.Response, base_url: str, expected: str | None) -> None:
    """Refuse an answer from a server other than the one joined, before anything reads it.

    Without this, a different server on the same address (another one took the port; the data directory was
    replaced) answers every request with "not a member", which sends people to the wrong fix.
    """
    if expected is None:
        return
    stated = response.headers.get(SERVER_KEY_HEADER)
    if stated == expected:
        return
    if stated is None:
        if not response.is_success:
            return  # e.g. a proxy's 502 while the server is down: the ordinary error says more
        raise WrongServer(
            f"{base_url} does not answer as a murmur server (no server key); start your home server, or point"
            " this profile at it with `murmur join URL`."
        )
    raise WrongServer(
        f"{base_url} is a different server from the one this profile joined (its key is {fingerprint(stated)},"
        f" not {fingerprint(expected)}): if another server took its address, start yours again (`murmur up`"
        " picks a free port); if your server really changed, run `murmur join URL` again."
    )


@dataclass(frozen=True)
class StreamEvent:
    event: str
    id: str | None
    data: dict[str, Any]


NOBODY = Signers()  # no signer known: every peer's answer is marked unknown until the reader learns its peers


def mark_verified(payload: Any, signers: Signers = NOBODY, proven: Collection[str] = ()) -> Any:
    """Annotate every item holding a ``message`` (and a boost's ``boost``, an edited post's ``edit``) with
    ``verified``, and every notice that a peer withheld a message (a page's ``withheld`` map, a stream's or
    ``GET /messages/{id}/withheld``'s ``{"id", "withheld"}``) with the verdict of ``murmur.receipts.notice_verifies``,
    the check every view makes again before it shows one; and each peer's signed answer about a delete likewise
    (``murmur.client.audience.peer_said``). Each such answer is marked with who its key is to the reader
    (``murmur.receipts.mark_signer``, from ``signers``: by default nobody is known). ``proven``: the edits this
    device proved are by another device of their post's author (``MurmurClient.prove_edits``)."""
    if isinstance(payload, dict):
        held = payload.get("withheld")
        if isinstance(held, dict):
            _mark_notices(held.items(), signers)
        elif isinstance(held, list) and isinstance(payload.get("id"), str):
            _mark_notices([(payload["id"], held)], signers)
        if _delete_peers(payload):
            for peer in payload["peers"]:
                if isinstance(peer, dict):
                    mark_signer(peer, signers)
                    if "sig" in peer:
                        peer["verified"] = peer_said(payload["delete"], peer) != "unverified"
        if "message" in payload and isinstance(payload["message"], dict):
            ok = verified(payload["message"])
            if payload.get("boost") is not None:
                ok = ok and verified(payload["boost"])
            if payload.get("edit") is not None:  # the newest edit shown in the post's place: genuinely of it
                ok = ok and applies(payload["edit"], payload["message"], proven)
            payload["verified"] = ok
        for value in payload.values():
            mark_verified(value, signers, proven)
    elif isinstance(payload, list):
        for value in payload:
            mark_verified(value, signers, proven)
    return payload


def edits_of_other_devices(payload: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """``(edit, post)`` for each edit ``payload`` shows of a post (an item's ``edit``, a history's versions) that
    another key signed, both naming one identity: what ``MurmurClient.prove_edits`` checks."""
    if isinstance(payload, dict):
        message, edit = payload.get("message"), payload.get("edit")
        pairs = [(edit, message)] if isinstance(edit, dict) else []
        versions = payload.get("versions")
        if isinstance(versions, list) and versions and isinstance(versions[0], dict):
            pairs += [(v.get("message"), versions[0].get("message")) for v in versions[1:] if isinstance(v, dict)]
        for e, m in pairs:
            if isinstance(e, dict) and isinstance(m, dict) and e.get("author") != m.get("author"):
                person = _tag(e, "identity")
                if person is not None and person == _tag(m, "identity"):
                    yield e, m
        for value in payload.values():
            yield from edits_of_other_devices(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from edits_of_other_devices(value)


def _tag(message: dict[str, Any], name: str) -> str | None:
    tags = message.get("tags") if isinstance(message.get("tags"), list) else []
    found = [t[1] for t in tags if isinstance(t, list) and len(t) == 2 and t[0] == name]
    return str(found[0]) if found else None


def spoke_for(view: dict[str, Any], message: dict[str, Any]) -> bool:
    """Whether ``message``'s key was a device of the identity ``view`` resolves to (from its signed key events) at
    the message's time, as every server judges it (``murmur.kinds.key_log.device_verdict``)."""
    devices = view.get("devices") if isinstance(view.get("devices"), list) else []
    found = next((d for d in devices if isinstance(d, dict) and d.get("key") == message.get("author")), None)
    if found is None or type(found.get("added_at")) is not int or type(message.get("created_at")) is not int:
        return False
    span = (int(found["added_at"]), found.get("removed_at"), found.get("disputed_at"))
    return device_verdict(span, str(message["author"]), int(message["created_at"])).status == "valid"


def _delete_peers(payload: dict[str, Any]) -> bool:
    """Whether ``payload`` is a delete's receipts (``GET /deletes/{id}``)."""
    return isinstance(payload.get("delete"), str) and isinstance(payload.get("peers"), list)


def answer_keys(payload: Any) -> set[str]:
    """The keys that sign the peers' answers (withheld notices, a delete's receipts) ``payload`` holds anywhere:
    only for those does the reader need to know who its server's peers are (``MurmurClient.signers``)."""
    found: set[str] = set()
    if isinstance(payload, dict):
        held = payload.get("withheld")
        lists = held.values() if isinstance(held, dict) else [held] if isinstance(held, list) else []
        if _delete_peers(payload):
            lists = [*lists, payload["peers"]]
        for answers in lists:
            for answer in answers if isinstance(answers, list) else []:
                if isinstance(answer, dict):
                    found.add(str(answer.get("key")))
        for value in payload.values():
            found |= answer_keys(value)
    elif isinstance(payload, list):
        for value in payload:
            found |= answer_keys(value)
    return found


def _mark_notices(held: Iterable[tuple[Any, Any]], signers: Signers) -> None:
    for msg_id, notices in held:
        for notice in notices if isinstance(notices, list) else []:
            if isinstance(notice, dict):
                notice["verified"] = notice_verifies(str(msg_id), notice)
                mark_signer(notice, signers)


@dataclass(frozen=True)
class Rows:
    """Shape of an answer's field: a list of objects, each with a string at ``keys``; absent only if optional."""

    keys: tuple[str, ...] = ()
    optional: bool = False

    def fits(self, value: Any) -> bool:
        if value is None:
            return self.optional
        return isinstance(value, list) and all(Row(self.keys).fits(row) for row in value)


@dataclass(frozen=True)
class Row:
    """Shape of an answer's field: an object with a string at ``keys``."""

    keys: tuple[str, ...] = ()

    def fits(self, value: Any) -> bool:
        return isinstance(value, dict) and all(isinstance(value.get(key), str) for key in self.keys)


@dataclass(frozen=True)
class Spans:
    """Shape of a group's membership spans: a list of ``{"key": str, "start": int, "end": int | null}``."""

    optional: bool = True

    def fits(self, value: Any) -> bool:
        if value is None:
            return self.optional
        return isinstance(value, list) and all(
            Row(("key",)).fits(s) and type(s.get("start")) is int and (s.get("end") is None or type(s["end"]) is int)
            for s in value
        )


@dataclass(frozen=True)
class Tree(Row):
    """Shape of a thread: an object with a string at ``keys``, whose ``children`` (if any) are trees too."""

    def fits(self, value: Any) -> bool:
        stack = [value]
        while stack:  # a loop, not recursion: a hostile server may nest a thread deeper than the stack allows
            node = stack.pop()
            if not super().fits(node) or not isinstance(node.get("children", []), list):
                return False
            stack.extend(node.get("children", []))
        return True


def shaped(result: Any, what: str, **fields: type | Rows | Row | Spans) -> dict[str, Any]:
    """``result`` if it is an object holding ``fields`` of these shapes; a home server answering anything else
    (an array, a string, an object without them, a list of something other than objects) is refused here, as a
    bad answer, rather than deep in a printer as a traceback."""
    if not isinstance(result, dict):
        raise ApiError(200, "bad_answer", f"The server answered {what} with {type(result).__name__}, not an object.")
    for name, shape in fields.items():
        value = result.get(name)
        if not (shape.fits(value) if isinstance(shape, Rows | Row | Spans) else isinstance(value, shape)):
            raise ApiError(200, "bad_answer", f"The server's answer to {what} lacks a proper {name!r}.")
    return result


class _Counted(httpx.AsyncByteStream):
    """An answer's body as it comes, each chunk moving the answer's deadline later."""

    def __init__(self, body: httpx.SyncByteStream | httpx.AsyncByteStream, deadline: Deadline) -> None:
        if not isinstance(body, httpx.AsyncByteStream):
            raise TypeError("an asynchronous client reads an asynchronous body")
        self.body = body
        self.deadline = deadline

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.body:
            self.deadline.came(len(chunk))
            yield chunk

    async def aclose(self) -> None:
        await self.body.aclose()


class MurmurClient:
    """Signed access to one home server. Use ``async with MurmurClient(url, identity) as api``.

    ``server_key`` is the key of the server the profile joined: every answer from any other server is refused
    with ``WrongServer``, and every request is signed for that key (docs/signatures.md), so that no other server
    it could be replayed to accepts it. None (e.g. while joining) accepts the server that answers, and signs for
    the key its ``/api/v1/info`` gives, read once before the first signed request.
    """

    def __init__(
        self,
        base_url: str,
        identity: Identity,
        *,
        server_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.timeout = timeout  # of each read
        self.deadline = ANSWER_TIMES * timeout  # of one answer, sent and read whole, before its bytes move it (_send)
        self.server_key = server_key
        self.speaks_for: str | None = None  # the identity this device's messages name (docs/protocol.md §13)
        self.counter_file: Path | None = None  # where this device counts its public messages (§13.8)
        self._learned_key: str | None = None  # signed for when server_key is None (see _recipient)
        self._signers: Signers | None = None  # who the server's peers are (see signers)
        self._signers_at = 0.0
        self._learning_signers = asyncio.Lock()
        self._learning = asyncio.Lock()
        self.proven_edits: set[str] = set()  # edits proven by another device of their post's author (prove_edits)
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers=ACCEPT_IDENTITY,
            event_hooks={"response": [self._refuse_other_server, self._refuse_compressed]},
        )

    async def _refuse_other_server(self, response: httpx.Response) -> None:
        """Before anything reads the answer, on every request (the stream and exports too)."""
        check_server_key(response, self.base_url, self.server_key)

    async def _refuse_compressed(self, response: httpx.Response) -> None:
        """Before the body is read: httpx would inflate a compressed answer whole (a gzip bomb)."""
        reason = compressed(response.headers.get("content-encoding"), f"The answer of {self.base_url}")
        if reason:
            raise ApiError(response.status_code, "bad_answer", reason)

    async def __aenter__(self) -> MurmurClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _recipient(self) -> str:
        """The key of the server this client signs for: the one joined, or else the one its info gives (once)."""
        if self.server_key is not None:
            return self.server_key
        # One look-up for all: the requests a screen sends at once would otherwise each ask /api/v1/info first.
        async with self._learning:
            if self._learned_key is None:
                info = await self.info()
                key = info.get("server_key") if isinstance(info, dict) else None
                if not isinstance(key, str) or not KEY_HEX.fullmatch(key):
                    raise ApiError(200, "bad_answer", f"{self.base_url} did not say its server key in /api/v1/info.")
                self._learned_key = key
        return self._learned_key

    async def _signed(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: bytes,
        *,
        streaming: bool = False,
        wait: float = 0,
    ) -> httpx.Request:
        """``wait``: the seconds the server may work before it answers, on top of the timeout of each read."""
        recipient = await self._recipient()
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        # A stream is quiet between events; the server sends a keepalive every 15 s, so 60 s of silence is a fault.
        timeout = (
            httpx.Timeout(15.0, read=60.0) if streaming
            else httpx.Timeout(self.timeout, read=wait + self.timeout) if wait
            else httpx.USE_CLIENT_DEFAULT
        )  # fmt: skip
        request = self.http.build_request(method, path, params=clean, content=body, timeout=timeout)
        signed = sign_request(
            self.identity, method, request.url.path, request.url.query.decode("ascii"), body, recipient=recipient
        ).as_dict()
        request.headers.update(signed)
        if body:
            request.headers["Content-Type"] = "application/json"
        return request

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        raw: bytes = b"",
        idempotent: bool = False,
        wait: float = 0,
    ) -> Any:
        """A signed request's decoded answer; ``idempotent``: a write that may be sent twice (see ``_send``);
        ``wait``: the seconds the server may work before it answers, past the timeout of each read."""
        content = raw or (json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else b"")
        answer = await self._send(
            lambda: self._signed(method, path, params, content, wait=wait), idempotent=idempotent, wait=wait
        )
        payload = self._payload(answer)
        keys = answer_keys(payload)
        await self.prove_edits(payload)
        return mark_verified(payload, await self.signers(keys) if keys else NOBODY, self.proven_edits)

    async def prove_edits(self, payload: Any) -> None:
        """Add to ``proven_edits`` each edit ``payload`` shows that another device of its post's author signed, as
        this device reads the identity's signed key events: both keys were its devices at their messages' times
        (``murmur.kinds.acting``; ``murmur.client.identity_check`` resolves the log). The server's word that they
        were is not taken; an identity whose events do not resolve here proves nothing."""
        pairs = [(e, m) for e, m in edits_of_other_devices(payload) if e.get("id") not in self.proven_edits]
        if not pairs:
            return
        from murmur.client.identity_check import resolved_view  # it reads identities through this client

        views: dict[str, dict[str, Any] | None] = {}
        for edit, post in pairs:
            person = str(_tag(edit, "identity"))
            if person not in views:
                try:
                    views[person] = resolved_view(person, await self.identity_events(person))
                except (ApiError, Refused):
                    views[person] = None
            view = views[person]
            if view is not None and view.get("identity") == person and spoke_for(view, edit) and spoke_for(view, post):
                self.proven_edits.add(str(edit["id"]))

    async def signers(self, keys: set[str] | None = None) -> Signers:
        """Who a peer's signed answer may come from, as this reader knows it: the home server (the key it joined,
        or learned) and the peers listed in that server's newest trust manifest, if that key signed it
        (``murmur.receipts.Signers``). Read once, and again (at most every ``SIGNERS_AGAIN_S``) when one of
        ``keys`` is not known, so a long-lived client (the TUI) learns of a peer added since; a server that serves
        no manifest (an older one) lists no peers, so every answer's key is shown as unknown."""
        async with self._learning_signers:
            known = self._signers
            stale = known is None or (
                any(known.role(k) == UNKNOWN for k in keys or ())
                and time.monotonic() - self._signers_at >= SIGNERS_AGAIN_S
            )
            if stale:
                self._signers = await self._read_signers()
                self._signers_at = time.monotonic()
        assert self._signers is not None
        return self._signers

    async def _read_signers(self) -> Signers:
        home = await self._recipient()
        try:  # read as it comes, not through ``request``: an answer holding notices would ask for signers again
            answer = self._payload(await self._send(lambda: self._signed("GET", f"{API}/manifest", None, b"")))
        except ApiError as exc:
            if exc.status != 404:
                raise
            answer = {}
        text = answer.get("manifest") if isinstance(answer, dict) else None
        return Signers.of_manifest(home, text if isinstance(text, str) else None)

    async def _unsigned(self, path: str) -> httpx.Request:
        return self.http.build_request("GET", path)

    async def _send(
        self, build: Callable[[], Awaitable[httpx.Request]], *, idempotent: bool = False, wait: float = 0
    ) -> httpx.Response:
        """Send the request ``build`` makes; a server that cannot be reached is one clear error, not a transport
        trace.

        A read (``RESENT_METHODS``), or a write the caller says is ``idempotent``, that fails on a stale kept-alive
        connection is sent once more, built afresh: the pool has dropped that connection by then, and a
        signature's nonce is good for one request only. Any other write is not sent twice: one the server may have
        taken (a single-use invite) is the person's to retry.

        An answer that comes slower than the floor of ``murmur.deadlines`` after its first ``deadline`` seconds
        (``wait`` more for a request the server works on) is given up on (``ServerUnreachable``), however steadily
        its bytes trickle in; a large one that keeps coming is read to its end.
        """
        seconds = wait + self.deadline
        try:
            async with answer_deadline(seconds) as deadline:
                request = await build()
                deadline.came(len(request.content))
                try:
                    response = await self.http.send(request, stream=True)
                except STALE_CONNECTION:
                    if request.method not in RESENT_METHODS and not idempotent:
                        raise
                    response = await self.http.send(await build(), stream=True)
                response.stream = _Counted(response.stream, deadline)
                try:
                    await response.aread()
                finally:
                    await response.aclose()
                return response
        except TimeoutError as exc:
            raise ServerUnreachable(
                f"{self.base_url} was too slow: its answer {too_slow(seconds)}, so it was given up on. Is the server"
                " overloaded, or the network slow? Try again; if it keeps happening, check the server."
            ) from exc
        except httpx.TimeoutException as exc:
            raise ServerUnreachable(f"{self.base_url} did not answer in time; is the server up?") from exc
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"Cannot reach {self.base_url} ({exc.__class__.__name__}); is it running?") from exc

    @classmethod
    def _decode(cls, response: httpx.Response) -> Any:
        return mark_verified(cls._payload(response))

    @staticmethod
    def _payload(response: httpx.Response) -> Any:
        """The answer's JSON, or the server's refusal raised as ``ApiError``; an answer that is no JSON (garbled,
        nested too deep, not UTF-8) is ``bad_answer``, whatever its status."""
        try:
            payload = parse_json(response.content, limit=None, strict=False)
        except Refused as refusal:
            if response.is_success:
                raise ApiError(
                    response.status_code, "bad_answer", f"The server's answer is not JSON: {refusal.message}"
                ) from refusal
            payload = None
        if response.is_success:
            return payload
        err = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(err, dict):
            raise ApiError(response.status_code, str(err.get("code")), str(err.get("reason")))
        raise ApiError(response.status_code, "http_error", f"The server answered HTTP {response.status_code}.")

    # -- endpoints ---------------------------------------------------------------------------------------------
    async def info(self) -> dict[str, Any]:
        """The server's public info; unsigned, since it is how the client learns which key to sign for."""
        answer = self._decode(await self._send(lambda: self._unsigned(f"{API}/info")))
        return shaped(answer, "info", server_key=str)

    async def health(self) -> dict[str, Any]:
        """``/health``, signed: a member learns ``seq`` too, where the log ends now (outsiders do not)."""
        result: dict[str, Any] = self._decode(await self._send(lambda: self._signed("GET", "/health", None, b"")))
        return result

    async def join(self, invite: str | None) -> dict[str, Any]:
        answer = await self.request("POST", f"{API}/join", body={"invite": invite} if invite else {})
        return shaped(answer, "join", key=str)

    async def publish(self, message: dict[str, Any]) -> dict[str, Any]:
        # Canonical bytes take the server's fast path (murmur.validate.check); anything that has no canonical
        # form is sent as it is, for the server to refuse with its reason.
        try:
            raw = canonicalize(message)
        except Refused:
            raw = json.dumps(message, ensure_ascii=False).encode("utf-8")
        return shaped(await self.request("POST", f"{API}/messages", raw=raw), "a message", status=str, id=str)

    async def message(self, msg_id: str) -> dict[str, Any]:
        """The message as signed (for an edited post, the original: its id is its address)."""
        return (await self.shown(msg_id))[0]

    async def shown(self, msg_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The message as signed and, for an edited post, its newest edit as the server holds it (unchecked)."""
        answer = await self.request("GET", f"{API}/messages/{msg_id}")
        return split_message(shaped(answer, "the message asked for", id=str, author=str))

    async def history(self, msg_id: str) -> dict[str, Any]:
        """``{"versions": [...]}``: every version of a post, oldest first, the post itself first
        (``murmur.client.versions.version_rows`` checks them)."""
        return shaped(await self.request("GET", f"{API}/messages/{msg_id}/history"), "a history", versions=list)

    async def poll(self, poll_id: str) -> dict[str, Any]:
        """A poll's figures as the server counts them: ``options`` (``text``, ``votes``), ``voters``, ``closed``,
        and who chose what (``ballots``)."""
        answer = await self.request("GET", f"{API}/polls/{poll_id}")
        return shaped(answer, "a poll", id=str, question=str, options=Rows(("text",)), ballots=Rows(("key",)))

    async def poll_signed(self, poll_id: str) -> dict[str, Any]:
        """The poll, its ballots and its group's messages as signed, for a recount (``murmur.client.recount``)."""
        answer = await self.request("GET", f"{API}/polls/{poll_id}/signed")
        return shaped(answer, "a poll as signed", poll=dict, ballots=list, group=list)

    async def meetups(self) -> list[dict[str, Any]]:
        """The newest meetups the server holds, each with who is coming (``going``, ``maybe``, ``waiting``)."""
        answer = shaped(await self.request("GET", f"{API}/meetups"), "meetups", meetups=Rows(("id", "title")))
        return list(answer["meetups"])

    async def meetup(self, meetup_id: str) -> dict[str, Any]:
        """A meetup's current version and who answered what, as the server counts them."""
        answer = await self.request("GET", f"{API}/meetups/{meetup_id}")
        return shaped(answer, "a meetup", id=str, author=str, title=str, answers=dict)

    async def meetup_ics(self, meetup_id: str) -> str:
        """One meetup as an iCalendar document (``text/calendar``)."""
        return await self.calendar_text(f"{API}/meetups/{meetup_id}/ics")

    async def calendar_text(self, path: str) -> str:
        """A ``text/calendar`` answer as text; an error answer raises as any other does."""
        response = await self._send(lambda: self._signed("GET", path, None, b""))
        if not response.is_success or not response.headers.get("content-type", "").startswith("text/calendar"):
            self._decode(response)  # raises the server's error, or says what came instead
            raise ApiError(response.status_code, "http_error", "The server did not answer with a calendar.")
        text = response.text
        # RFC 5545 text holds no control characters but line ends and tabs; one would reach the terminal as is.
        if _CALENDAR_CONTROLS.search(text):
            raise ApiError(response.status_code, "bad_answer", "The server's calendar holds control characters.")
        return text

    async def letter(self, letter_id: str) -> dict[str, Any]:
        """A letter version as the server counts it: ``count``, ``signers`` (``key``, ``name``, ``fingerprint``,
        ``note``), and its ``previous`` and ``newer`` versions."""
        answer = await self.request("GET", f"{API}/letters/{letter_id}")
        return shaped(answer, "a letter", id=str, title=str, to=str, text=str, count=int, signers=Rows(("key",)))

    async def letter_signed(self, letter_id: str) -> dict[str, Any]:
        """The letter, its signatures and their withdrawals as signed, for a check (``murmur.client.recount``)."""
        answer = await self.request("GET", f"{API}/letters/{letter_id}/signed")
        return shaped(answer, "a letter as signed", letter=dict, signatures=list, withdrawals=list)

    async def own_responses(self, msg_id: str) -> dict[str, Any]:
        """``{"target": id, "messages": [...]}``: my reactions to and boosts of a message, as the server holds them."""
        result: dict[str, Any] = await self.request("GET", f"{API}/messages/{msg_id}/mine")
        return result

    async def timeline(self, which: str, *, limit: int = 20, before: PageCursor | None = None) -> dict[str, Any]:
        """``which``: home, local, federated, mentions, ``tag:NAME``, ``@KEY`` or ``group:GROUP_ID``."""
        if which.startswith("group:"):
            path = f"{API}/groups/{which.split(':', 1)[1]}/timeline"
        elif which.startswith("tag:") or which.startswith("#"):
            path = f"{API}/timelines/tag/{which.split(':', 1)[-1].lstrip('#').lower()}"
        elif which.startswith("@"):
            path = f"{API}/timelines/author/{which[1:]}"
        else:
            path = f"{API}/timelines/{which}"
        answer = await self.request("GET", path, params={"limit": limit, "before": before})
        return shaped(answer, "a timeline", items=Rows())

    async def thread(self, msg_id: str) -> dict[str, Any]:
        return shaped(await self.request("GET", f"{API}/threads/{msg_id}"), "a thread", root=Tree(("id",)))

    async def counts(self, ids: list[str]) -> dict[str, dict[str, int]]:
        """Replies, reactions and boosts of each post among ``ids`` that the server holds (at most 100)."""
        result: dict[str, Any] = await self.request("GET", f"{API}/counts", params={"ids": ",".join(ids)})
        found = result.get("counts") if isinstance(result, dict) else None
        return found if isinstance(found, dict) else {}

    async def notifications(self, *, limit: int = 20, before: PageCursor | None = None) -> dict[str, Any]:
        answer = await self.request("GET", f"{API}/notifications", params={"limit": limit, "before": before})
        return shaped(answer, "notifications", items=Rows())

    async def mark_read(self, seq: int) -> dict[str, Any]:
        # Marking read up to a seq twice marks it once: sent again if a stale connection lost it (the TUI's tab).
        answer = await self.request("POST", f"{API}/notifications/read", body={"seq": seq}, idempotent=True)
        return shaped(answer, "read", unread=int)

    async def search(
        self, query: str, *, kind: str = "all", limit: int = 20, before: int | None = None
    ) -> dict[str, Any]:
        answer = await self.request(
            "GET", f"{API}/search", params={"q": query, "type": kind, "limit": limit, "before": before}
        )
        return shaped(answer, "a search", posts=Rows(optional=True), people=Rows(("key",), optional=True))

    async def people(self, *, name: str | None = None, prefix: str | None = None) -> list[dict[str, Any]]:
        """People the server knows by handle (``name``, exact) or handle prefix: ``[{"key", "name"}]``."""
        result = await self.request("GET", f"{API}/people", params={"name": name, "prefix": prefix})
        people = result.get("people") if isinstance(result, dict) else None
        return [p for p in people or [] if isinstance(p, dict) and isinstance(p.get("key"), str)]

    async def audience(self, audience: str, names: list[str]) -> dict[str, Any]:
        """Who a message addressed to ``audience`` naming ``names`` (its parent and root, or its target) would
        reach: ``{"audience", "visibility", "servers": [{"name", "key", "labels", "outside"}]}``."""
        params = {"audience": audience, "names": ",".join(names) or None}
        answer = await self.request("GET", f"{API}/audience", params=params)
        return shaped(answer, "an audience", audience=str, visibility=str, servers=Rows(("key", "name")))

    async def delete_status(self, msg_id: str) -> dict[str, Any]:
        """Which peers confirmed my delete of ``msg_id`` (signed receipts), refused it, or have not answered."""
        answer = await self.request("GET", f"{API}/deletes/{msg_id}")
        return shaped(answer, "a delete's receipts", delete=str, peers=Rows(("key", "status")))

    async def withheld(self, msg_id: str) -> dict[str, Any]:
        """The peers that refused ``msg_id``, signed, and why."""
        answer = await self.request("GET", f"{API}/messages/{msg_id}/withheld")
        return shaped(answer, "what peers withheld", id=str, withheld=Rows(("key", "reason")))

    async def repair(self, key: str | None = None, ids: Sequence[str] = ()) -> dict[str, Any]:
        """Ask the server to fetch from its peers the public messages of ``key`` (a person or a device) that it
        knows it lacks, and the messages ``ids`` it does not hold (a thread's, known by id): ``{"key", "peers":
        [{"key", "name", "fetched", "stored", "refused", "error"}], "missing", "absent"}`` (``absent``: the ids
        still not held)."""
        body: dict[str, Any] = {"key": key} if key is not None else {}
        if ids:
            body["ids"] = list(ids)
        # The server asks its peers before it answers, for up to REPAIR_S: what each did is the answer.
        answer = await self.request("POST", f"{API}/repairs", body=body, wait=REPAIR_S)
        return shaped(
            answer, "a repair", **({"key": str} if key is not None else {}), peers=Rows(("key",)),
            missing=Rows(("device",)), **({"absent": list} if ids else {}),
        )  # fmt: skip

    async def members(self) -> dict[str, Any]:
        return shaped(await self.request("GET", f"{API}/members"), "members", members=Rows(("key",)))

    async def identity_of(self, name: str) -> dict[str, Any]:
        """An identity as the server's copy of its log resolves it (an identity id, a device key or a bare key)."""
        answer = await self.request("GET", f"{API}/identities/{name}")
        return shaped(answer, "an identity", identity=str, devices=list)

    async def identity_events(self, name: str) -> dict[str, Any]:
        """The signed key events the server holds for the identity ``name`` names: ``{"identity", "bare",
        "events", "backdated"}``, each event still to be checked (murmur.client.identity_check resolves them here)."""
        answer = await self.request("GET", f"{API}/identities/{name}/events")
        return shaped(answer, "an identity's key events", identity=str, bare=bool, events=list)

    async def sealed(
        self, after: int = 0, *, at: str | None = None, limit: int = 100, group: str | None = None
    ) -> dict[str, Any]:
        """A page of the sealed messages addressed to a device of my identity (or, with ``group``, written to that
        private group), after log position ``after``: ``{"sealed": [{"seq", "message"}], "next_cursor", "more"}``
        (each message still to be checked and opened). ``at``: the id of the message at ``after``, which the
        server checks (``ApiError`` ``cursor_moved`` when it is not there: murmur.client.sealed_feed)."""
        params = {"after": after, "at": at, "limit": limit, "group": group}
        answer = shaped(await self.request("GET", f"{API}/sealed", params=params),
                        "the sealed messages", sealed=list, next_cursor=int, more=bool)  # fmt: skip
        if not all(isinstance(i, dict) and type(i.get("seq")) is int for i in answer["sealed"]):
            raise ApiError(200, "bad_answer", f"{self.base_url} answered the sealed messages without a seq for each.")
        if answer["next_cursor"] < after:
            raise ApiError(200, "bad_answer", f"{self.base_url} answered the sealed messages with a cursor going back.")
        return answer

    async def profile(self, key: str) -> dict[str, Any]:
        return shaped(await self.request("GET", f"{API}/profiles/{key}"), "a profile", key=str)

    async def groups(self, *, query: str | None = None, mine: bool = False, limit: int = 20) -> dict[str, Any]:
        """The directory of groups (``query`` searches names and descriptions), or the groups I am in."""
        params = {"q": query, "mine": 1 if mine else None, "limit": limit}
        answer = await self.request("GET", f"{API}/groups", params=params)
        return shaped(answer, "the groups", groups=Rows(("id", "name")))

    async def group(self, group_id: str) -> dict[str, Any]:
        """One group, my place in it (``you``), its moderators and pinned announcements."""
        answer = await self.request("GET", f"{API}/groups/{group_id}")
        return shaped(answer, "a group", id=str, name=str, owner=str, you=Row(("status",)), pinned=Rows())

    async def group_members(self, group_id: str) -> dict[str, Any]:
        answer = await self.request("GET", f"{API}/groups/{group_id}/members")
        return shaped(
            answer, "the group's members", members=Rows(("key", "role")), pending=Rows(("key",)),
            removed=Rows(("key",)), spans=Spans(),
        )  # fmt: skip

    async def group_log(self, group_id: str) -> dict[str, Any]:
        """The group's signed creation, membership and moderation messages (``{"group", "messages"}``), each still
        to be checked: a device folds them itself to know who held which role when."""
        answer = await self.request("GET", f"{API}/groups/{group_id}/log")
        return shaped(answer, "the group's log", group=str, messages=list)

    async def stream(self, cursor: int | None = None) -> AsyncIterator[StreamEvent]:
        """Server-Sent Events from the server, each message verified; ends when the connection does."""
        request = await self._signed("GET", f"{API}/stream", {"cursor": cursor}, b"", streaming=True)
        try:
            response = await self.http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"Cannot reach {self.base_url} ({exc.__class__.__name__}).") from exc
        try:
            if not response.is_success:
                await response.aread()
                self._decode(response)
            event, event_id, data = "message", None, []
            async for line in self._stream_lines(response):
                if line == "":
                    if data:
                        try:
                            payload = parse_json("\n".join(data), limit=None, strict=False)
                        except Refused as refusal:
                            reason = f"{self.base_url} sent a stream event that is not JSON: {refusal.message}"
                            raise GarbledEvent(response.status_code, "bad_answer", reason) from refusal
                        keys = answer_keys(payload)
                        signers = await self.signers(keys) if keys else NOBODY
                        await self.prove_edits(payload)
                        yield StreamEvent(event, event_id, mark_verified(payload, signers, self.proven_edits))
                    event, event_id, data = "message", None, []
                elif line.startswith(":"):
                    continue
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        event = value
                    elif name == "id":
                        event_id = value
                    elif name == "data":
                        data.append(value)
        finally:
            await response.aclose()

    async def import_own(self, lines: list[bytes]) -> list[dict[str, Any]]:
        """Store a batch of this person's own signed messages on their home server (``murmur import --mine``);
        one result per message, in order."""
        answer = await self.request("POST", f"{API}/import", raw=b"".join(line + b"\n" for line in lines))
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(lines) or not all(isinstance(r, dict) for r in results):
            raise ApiError(200, "bad_answer", f"{self.base_url} did not answer the import with a result per message.")
        return results

    async def _stream_lines(self, response: httpx.Response) -> AsyncIterator[str]:
        """The event stream's lines, none held past MAX_STREAM_LINE bytes (a server that never ends a line)."""
        lines = Lines(MAX_STREAM_LINE)
        too_long = f"{self.base_url} sent a stream line over {MAX_STREAM_LINE} bytes."
        async for chunk in response.aiter_raw():
            for line in lines.feed(chunk):
                if line is None:
                    raise ApiError(response.status_code, "bad_answer", too_long)
                yield line.rstrip(b"\r").decode("utf-8", "replace")
            if lines.overflowing:  # refused as soon as it passes the cap, not when (if ever) it ends
                raise ApiError(response.status_code, "bad_answer", too_long)

    async def own_messages(
        self, after: int = 0, *, limit: int = 500, local: bool = False
    ) -> tuple[list[bytes], int, bool]:
        """A page of this person's own signed messages (every kind), for moving to another server.

        Returns ``(lines, cursor, more)``: the raw lines as the server holds them (the caller verifies each one
        before trusting it), the cursor to ask after next, and whether more are waiting.
        """
        params = {"after": after, "limit": limit, "local": int(local)}
        response = await self._send(lambda: self._signed("GET", f"{API}/export", params, b""))
        if not response.is_success:
            self._decode(response)
        try:
            cursor = parse_number(
                response.headers.get("murmur-cursor"), name="Murmur-Cursor", low=0, high=MAX_NUMBER, code="bad_answer"
            )
        except Refused as refusal:
            raise ApiError(
                response.status_code, refusal.code, f"{self.base_url} answered an export: {refusal}"
            ) from refusal
        lines = [line for line in response.content.split(b"\n") if line.strip()]
        return lines, cursor, response.headers.get("murmur-more") == "1"
