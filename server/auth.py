"""Who is asking: request signatures (RFC 9421), membership, rate limits and body caps.

A route calls ``authenticate(request)`` and gets the signer's key and the body it signed. Nothing else in the
server reads a request body, so the cap and the digest check apply everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from starlette.requests import Request

from murmur.errors import Refused
from murmur.httpsig import verify_request
from murmur.kinds import kind
from murmur.kinds.key_log import BY_ROTATION_KEY, INCEPTION
from murmur.kinds.key_store import disputed_member, identities_of_device
from murmur.lines import compressed
from murmur.message import Message
from murmur.numbers import MAX_NUMBER
from murmur.server.gate import MEMBER, PEER
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
    # a device no member since a fork disputes it: the identities it may settle the fork of (``authenticate_settling``)
    disputed: frozenset[str] = field(default_factory=frozenset)


NOT_MEMBER = "This key is not a member of this server; join with an invite first."


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


async def _verified(request: Request, cap: int, limiter: str | None) -> tuple[str, bytes, float]:
    """The signer's key and the body it signed, once the gate admitted the request (it was no replay), and the
    seconds ``limiter`` would have it wait (0: go on)."""
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
        )
        assert state.gate is not None
        wait = await state.gate.admit(verified.key, verified.nonce, verified.created, limiter)
    except Refused as refusal:
        if refusal.code == "storage_unavailable":
            raise
        raise SignatureRefused(refusal.code, refusal.message) from refusal
    return verified.key, body, wait


async def authenticate_peer(request: Request) -> tuple[Peer, bytes]:
    """Verify a server-to-server request: signed by the key of a peer in the allowlist."""
    state = state_of(request)
    key, body, _ = await _verified(request, state.config.max_batch_bytes, None)
    peer = await get_peer(state.store, key)
    if peer is None:
        raise Refused("unknown_peer", "This server does not federate with that key; ask its admin to add the peer.")
    assert state.gate is not None
    wait = await state.gate.take(PEER, key)
    if wait:
        raise RateLimited(wait)
    return peer, body


async def authenticate(request: Request, *, member: bool = True) -> Caller:
    """Verify the request signature; with ``member``, also require a member key. Applies the rate limit."""
    state = state_of(request)
    key, body, wait = await _verified(request, state.config.max_body_bytes, MEMBER)
    if wait:
        raise RateLimited(wait)
    role = await member_role(state.store, key)
    if member and role is None:
        raise Refused("not_member", await _not_member(state, key))
    return Caller(key, body, role)


async def _not_member(state: ServerState, key: str) -> str:
    """Why ``key`` is no member, and what to do: a device its identity's log removed, or a fork disputes, is told
    so (it may have joined), not sent to ask for an invite."""
    if kind(INCEPTION) is None:
        return NOT_MEMBER
    if await disputed_member(state.store, key):
        return _DISPUTED
    if any(removed is not None for _, removed in await identities_of_device(state.store, key)):
        return _REMOVED
    return NOT_MEMBER


async def authenticate_settling(request: Request) -> Caller:
    """``authenticate``, letting in a device a fork disputes too (docs/protocol.md §13.4). Such a device is no
    member, so that nothing it signs is taken from it while the fork stands; but the owner may hold the rotation key
    on it, and the fork is settled by what that key signs, whoever hands it in. It comes back with ``role`` None and
    ``disputed`` naming its identities: a route lets it read those identities (``settles_identity``) and hand in a
    rotation or a recovery for them (``settles_with``), and nothing else."""
    caller = await authenticate(request, member=False)
    if caller.role is not None:
        return caller
    state = state_of(request)
    # a server that knows no identities (an older version, as the tests stand it in) has no forks to settle
    known = kind(INCEPTION) is not None
    disputed = await disputed_member(state.store, caller.key) if known else frozenset()
    if not disputed:
        raise Refused("not_member", await _not_member(state, caller.key))
    return replace(caller, disputed=disputed)


_DISPUTED = (
    "This device is disputed by a fork in its identity's log: this server takes nothing it signs until the fork is"
    " settled. Settle it with the rotation key: `murmur key rotate` on this device (with --recovery FILE if the key"
    " was exported) keeps the devices current before the fork; `murmur recover FILE` on a new device keeps only that"
    " one; `murmur device list` shows the fork."
)
_REMOVED = (
    "This device was removed from its identity: it speaks for it nowhere. To take the identity back, run"
    " `murmur recover FILE` on a new device that joined this server."
)


def settles_identity(caller: Caller, identity: str) -> None:
    """Refuses a disputed device (``authenticate_settling``) reading anything but an identity it is disputed in."""
    if caller.role is None and identity not in caller.disputed:
        raise Refused("not_member", _DISPUTED)


def settles_with(caller: Caller, message: Message | bytes) -> None:
    """Refuses a disputed device (``authenticate_settling``) handing in anything but a rotation or a recovery of an
    identity it is disputed in: signed by the rotation key, which the log alone judges (§13.3)."""
    if caller.role is None and not (
        isinstance(message, Message)
        and message.kind in BY_ROTATION_KEY
        and message.tag("identity") in caller.disputed
    ):
        raise Refused("not_member", _DISPUTED)
