"""Members read open letters: the server's count and signers, and the letter with its signatures and their
withdrawals as signed, for a check anyone can make.

Letters, signatures and withdrawals are written with signed messages through ``POST /api/v1/messages`` like
everything else; these routes only read what the store holds (murmur/kinds/letter.py). Signers are public: every
signature is signed, so who signed, and with what note, is part of the count.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.keys import fingerprint
from murmur.kinds import letter
from murmur.message import now_ms
from murmur.server.auth import authenticate, state_of
from murmur.server.responses import JSONBytes, raw_message
from murmur.store import Store
from murmur.store.lookup import resolve_message_id

NOT_HELD = "No such letter here (it may never have arrived, was deleted, or is not a letter)."


async def _letter_id(request: Request) -> tuple[Store, str]:
    state = state_of(request)
    await authenticate(request)
    return state.store, await resolve_message_id(state.store, request.path_params["id"])


def standing_json(found: letter.Standing, names: dict[str, str], now: int) -> dict[str, Any]:
    spec = found.spec
    return {
        "id": spec.id,
        "author": spec.author,
        "title": spec.title,
        "to": spec.to,
        "text": spec.text,
        "deadline": spec.deadline,
        "closed": not spec.open_at(now),
        "previous": spec.previous,
        "newer": list(found.newer),
        "count": found.count.count,
        "signers": [
            {
                "key": s.key,
                "name": names.get(s.key, ""),
                "fingerprint": fingerprint(s.key),
                "note": s.note,
                "signed_at": s.signed_at,
                "signature": s.signature,
            }
            for s in found.count.signers
        ],
    }


async def standing(request: Request) -> Response:
    store, letter_id = await _letter_id(request)
    found = await letter.standing(store, letter_id)
    if found is None:
        raise Refused("not_found", NOT_HELD)
    names = await store.display_names([found.spec.author, *(s.key for s in found.count.signers)])
    return JSONBytes(standing_json(found, names, now_ms()))


async def signed(request: Request) -> Response:
    store, letter_id = await _letter_id(request)
    held = await letter.signed(store, letter_id)
    if held is None:
        raise Refused("not_found", NOT_HELD)
    return JSONBytes(signed_json(held))


def signed_json(held: letter.Signed) -> dict[str, Any]:
    """The letter, its signatures and their withdrawals, each embedded as signed (also the web view's)."""
    return {
        "letter": raw_message(held.letter),
        "signatures": [raw_message(raw) for raw in held.signatures],
        "withdrawals": [raw_message(raw) for raw in held.withdrawals],
    }
