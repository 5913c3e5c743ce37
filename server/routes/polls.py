"""Members read polls: the server's figures, and the poll with its ballots as signed, for a recount.

Polls and ballots are written with signed messages through ``POST /api/v1/messages`` like everything else; these
routes only read what the store holds (murmur/kinds/poll.py). The figures are open: who chose what is part of
them, as every ballot is signed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.kinds import poll
from murmur.kinds.poll_tally import is_closed
from murmur.message import now_ms
from murmur.server.auth import authenticate, state_of
from murmur.server.responses import JSONBytes, raw_message
from murmur.store import Store
from murmur.store.lookup import resolve_message_id

T = TypeVar("T")

NOT_HELD = "No such poll here (it may never have arrived, was deleted, or is not a poll)."


def results_json(found: poll.Results, now: int) -> dict[str, Any]:
    spec, tally = found.spec, found.tally
    return {
        "id": spec.id,
        "author": spec.author,
        "question": spec.question,
        **tally.as_dict(closed=is_closed(spec, now)),
        "multiple": spec.multiple,
        "closes_at": spec.closes_at,
        "group": spec.group,
        "ballots": [{"key": key, "choices": list(chosen)} for key, chosen in tally.choices],
    }


async def _held(request: Request, read: Callable[[Store, str], Awaitable[T | None]]) -> T:
    """What ``read`` finds of the poll the path names (its id or a unique prefix); not_found when it is none."""
    state = state_of(request)
    await authenticate(request)
    found = await read(state.store, await resolve_message_id(state.store, request.path_params["id"]))
    if found is None:
        raise Refused("not_found", NOT_HELD)
    return found


async def results(request: Request) -> Response:
    return JSONBytes(results_json(await _held(request, poll.results), now_ms()))


async def signed(request: Request) -> Response:
    held = await _held(request, poll.signed)
    return JSONBytes(
        {
            "poll": raw_message(held.poll),
            "ballots": [raw_message(raw) for raw in held.ballots],
            "group": [raw_message(raw) for raw in held.group],
        }
    )
