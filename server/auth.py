"""Who is asking: request signatures (RFC 9421), membership, rate limits and body caps.

A route calls ``authenticate(request)`` and gets the signer's key and the body it signed. Nothing else in the
server reads a request body, so the cap and the digest check apply everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from murmur.errors import Refused
from murmur.httpsig import verify_request
from murmur.lines import compressed
from murmur.numbers import MAX_NUMBER
from murmur.server.params import header_number
from murmur.server.state import SIGNATURE_WINDOW_S, ServerState
from murmur.store.members import member_role
from murmur.store.peers import Peer, get_peer


class SignatureRefused(Refused):
    """The request's signature was refused (401), whatever the code: the body was never looked at."""


class RateLimited(Refused):
    def __init__(self, retry_after: float) -> None:
        super().__init__("rate_limited", f"Too many requests; try again in {int(retry_after)} s.")
        self.retry_after = int(retry_after)


@dataclass(frozen=True)
class Caller:
    key: str
    body: bytes
    role: str | None


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.murmur
    return state


async def read_body(request: Request, cap: int) -> bytes:
    """The request body, refused as soon as it passes ``cap`` bytes (whatever Content-Length claims), and refused
    unread when it is compressed: nothing from elsewhere is inflated (murmur.lines)."""
    if reason := compressed(request.headers.get("content-encoding"), "The request body"):
        raise Refused("unsupported_encoding", reason)
    declared = header_number(request, "content-length", low=0, high=MAX_NUMBER, code="bad_number")
    if declared is not None and declared > cap:
        raise Refused("too_large", f"The request body is {declared} bytes; the limit is {cap}.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise Refused("too_large", f"The request body is over the {cap}-byte limit.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _verified(request: Request, cap: int) -> tuple[str, bytes]:
    state = state_of(request)
    body = await read_body(request, cap)
    try:
        verified = verify_request(
            request.method,
            request.url.path,
            request.url.query,
            request.headers,
            body,
            recipient=state.identity.public_key,
            window_s=SIGNATURE_WINDOW_S,
            replay=state.replay,
        )
    except Refused as refusal:
        raise SignatureRefused(refusal.code, refusal.message) from refusal
    return verified.key, body


async def authenticate_peer(request: Request) -> tuple[Peer, bytes]:
    """Verify a server-to-server request: signed by the key of a peer in the allowlist."""
    state = state_of(request)
    key, body = await _verified(request, state.config.max_batch_bytes)
    peer = await get_peer(state.store, key)
    if peer is None:
        raise Refused("unknown_peer", "This server does not federate with that key; ask its admin to add the peer.")
    assert state.peer_limiter is not None
    wait = state.peer_limiter.check(key)
    if wait:
        raise RateLimited(wait)
    return peer, body


async def authenticate(request: Request, *, member: bool = True) -> Caller:
    """Verify the request signature; with ``member``, also require a member key. Applies the rate limit."""
    state = state_of(request)
    key, body = await _verified(request, state.config.max_body_bytes)
    assert state.limiter is not None
    wait = state.limiter.check(key)
    if wait:
        raise RateLimited(wait)
    role = await member_role(state.store, key)
    if member and role is None:
        raise Refused("not_member", "This key is not a member of this server; join with an invite first.")
    return Caller(key, body, role)
