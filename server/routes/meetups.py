"""Members read meetups: the newest ones, one with who is coming, and iCalendar exports.

Meetups, their updates and RSVPs are written with signed messages through ``POST /api/v1/messages`` like
everything else; these routes only read what the store holds (murmur/kinds/meetup.py). Who answered what is
open, as every RSVP is signed.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.kinds import meetup, meetup_ics
from murmur.server.auth import authenticate, state_of
from murmur.server.responses import JSONBytes
from murmur.store.lookup import resolve_key, resolve_message_id

NOT_HELD = "No such meetup here (it may never have arrived, was deleted, or is not a meetup)."


def meetup_json(found: meetup.Held) -> dict[str, Any]:
    spec, answers = found.spec, found.answers
    return {
        "id": spec.id,
        "author": spec.author,
        "version": spec.version,
        "versions": spec.versions,
        "updated_at": spec.updated_at,
        "title": spec.title,
        "description": spec.description,
        "start": spec.start,
        "end": spec.end,
        "tz": spec.tz,
        "place": spec.place,
        "capacity": spec.capacity,
        "group": spec.group,
        "cancelled": spec.cancelled,
        **answers.counts(),
        "answers": {
            "going": list(answers.going),
            "waiting": list(answers.waiting),
            "maybe": list(answers.maybe),
            "no": list(answers.no),
        },
    }


async def _held(request: Request) -> meetup.Held:
    """The meetup the path names (its id or a unique prefix); not_found when it is none."""
    state = state_of(request)
    await authenticate(request)
    found = await meetup.held(state.store, await resolve_message_id(state.store, request.path_params["id"]))
    if found is None:
        raise Refused("not_found", NOT_HELD)
    return found


def _calendar(body: bytes) -> Response:
    return Response(body, media_type=meetup_ics.MEDIA_TYPE)


async def listed(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    return JSONBytes({"meetups": [meetup_json(found) for found in await meetup.listed(state.store)]})


async def one(request: Request) -> Response:
    return JSONBytes(meetup_json(await _held(request)))


async def ics(request: Request) -> Response:
    found = await _held(request)
    return _calendar(meetup_ics.calendar([found.spec], found.spec.title))


async def answered(request: Request) -> Response:
    """The calendar of the meetups a person answered going or maybe."""
    state = state_of(request)
    await authenticate(request)
    key = await resolve_key(state.store, request.path_params["key"])
    found = await meetup.answered(state.store, key)
    return _calendar(meetup_ics.calendar([h.spec for h in found], f"Meetups of {key[:12]}"))
