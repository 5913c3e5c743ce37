"""JSON responses and the mapping from refusal codes to HTTP statuses.

Every error a client or peer sees has the same shape: ``{"error": {"code": "...", "reason": "..."}}``.
The code is stable and machine-readable; the reason is a sentence for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response

from murmur import receipts
from murmur.keys import Identity
from murmur.store.ingest import IngestResult

# Codes that are not a 422 validation refusal. Everything else a Refused can carry is 422.
STATUS_BY_CODE: dict[str, int] = {
    "invalid_json": 400,
    "invalid_utf8": 400,
    "duplicate_key": 400,
    "too_deep": 400,
    "not_object": 400,
    "bad_request": 400,
    "bad_cursor": 400,
    "bad_group": 400,
    "bad_limit": 400,
    "unsupported_encoding": 415,
    "id_too_short": 400,
    "bad_number": 400,
    "missing_signature": 401,
    "malformed_signature": 401,
    "unsupported_algorithm": 401,
    "missing_component": 401,
    "missing_digest": 401,
    "digest_mismatch": 401,
    "expired": 401,
    "replayed": 401,
    "bad_signature_request": 401,
    "not_member": 403,
    "no_identity": 403,
    "unknown_peer": 403,
    "not_admin": 403,
    "wrong_author": 403,
    "registration_closed": 403,
    "invite_unknown": 403,
    "invite_used": 403,
    "invite_expired": 403,
    "already_member": 409,
    "ambiguous_id": 409,
    "cursor_moved": 409,
    "not_found": 404,
    "too_large": 413,
    "rate_limited": 429,
    "storage_unavailable": 503,
}


class JSONBytes(Response):
    """A JSON response serialised by orjson; raw signed messages can be embedded with ``orjson.Fragment``."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(code: str, reason: str, status: int | None = None, headers: dict[str, str] | None = None) -> JSONBytes:
    return JSONBytes(
        {"error": {"code": code, "reason": reason}},
        status_code=status or STATUS_BY_CODE.get(code, 422),
        headers=headers,
    )


def raw_message(raw: bytes) -> orjson.Fragment:
    """A stored message, embedded as-is: its bytes are the canonical JSON the author signed."""
    return orjson.Fragment(raw)


def batch_answer(results: Sequence[IngestResult], signer: Identity | None = None) -> JSONBytes:
    """The answer to a batch of messages (a peer's push, a member's import): a result per line, and counts. To a
    peer, each line is signed by ``signer``, the server key (``murmur.receipts``): receipts and withheld notices."""
    counts = {status: sum(r.status == status for r in results) for status in ("stored", "duplicate", "deleted")}
    counts["refused"] = sum(r.status == "refused" for r in results)
    lines = [r.as_dict() for r in results]
    if signer is not None:
        lines = [receipts.signed(signer, line) if "id" in line else line for line in lines]
    return JSONBytes({"results": lines, **counts})
