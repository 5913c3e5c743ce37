"""Members write: join with an invite, publish signed messages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.kinds import kind
from murmur.server.auth import authenticate, authenticate_settling, settles_with, state_of
from murmur.server.responses import JSONBytes, error
from murmur.store import Store
from murmur.store.audience import held_back, signed_by
from murmur.store.ingest import Item
from murmur.store.members import add_member, redeem_invite
from murmur.validate import check, parse_json


async def join(request: Request) -> Response:
    """Register the signing key as a member, with an invite code unless registration is open."""
    state = state_of(request)
    caller = await authenticate(request, member=False)
    if caller.role is not None:
        return JSONBytes({"key": caller.key, "role": caller.role, "already_member": True})
    payload = parse_json(caller.body or b"{}")
    if not isinstance(payload, dict):
        raise Refused("bad_request", 'The body must be a JSON object such as {"invite": "CODE"}.')
    code = payload.get("invite")
    if isinstance(code, str) and code:
        await redeem_invite(state.store, code, caller.key)
    elif state.config.open_registration:
        await add_member(state.store, caller.key)
    else:
        raise Refused("registration_closed", "This server is members-only; ask an admin for an invite code.")
    return JSONBytes({"key": caller.key, "role": "member", "already_member": False}, status_code=201)


async def publish(request: Request) -> Response:
    """Store one message signed by the requesting member, through the one validation path."""
    state = state_of(request)
    caller = await authenticate_settling(request)
    item = await _checked(state.store, caller.body)
    settles_with(caller, item)
    # Grouped: posts published at the same moment share one commit (and its fsync) instead of queueing for it.
    [result] = await state.store.ingest_grouped([item], origin="local", policy=signed_by(caller.key))
    if result.status == "refused":
        return error(result.code or "refused", result.reason or "Refused.")
    if result.status == "stored" and result.seq is not None:
        state.hub.stored(result.seq)
    answer = result.as_dict()
    if result.status in ("stored", "duplicate") and result.message is not None:
        held = await held_back(state.store, result.message)
        if held is not None:
            answer["held_back"] = {"code": held[0], "reason": held[1]}
    return JSONBytes(answer, status_code=201 if result.status == "stored" else 200)


async def _checked(store: Store, body: bytes) -> Item:
    """The message checked once, signature included, for ingest to take as it is; the body itself when it fails a
    check, for the validation path to refuse and count as it refuses any message.

    Refuses a member's edit of a message this server does not hold: from peers such a message waits for its
    target; from a member it would leave for the peers at once, and the post it edits may be a local one held on
    another server, whose new text would then travel.
    """
    try:
        message = check(body)
    except Refused:
        return body
    what, target = kind(message.kind), message.tag("target")
    if what is not None and what.target_kinds and target and await store.get_raw(target) is None:
        raise Refused(
            "unknown_target",
            f"This server does not hold the message this {message.kind} is about; send it from the server that does.",
        )
    return message
