"""Signed answers to a push: what a peer did with each message it was sent, signed by its server key.

Every line of a push answer carries ``sig``, the server's Ed25519 signature over the RFC 8785 form of
``{"v": 1, "by": <its key>, "id": <message id>, "status": ..., "code": ..., "reason": ...}`` (code and reason
empty unless refused). The pushing server keeps the ones that verify against the peer's pinned key
(``murmur.store.receipts``): a stored or held delete is that peer's receipt for the delete; a refusal is its
notice that it withheld the message, with its reason, which readers are shown ("withheld by X: reason"). An
answer without a signature (an older peer) proves nothing and is not kept.
"""

from __future__ import annotations

from typing import Any

from murmur.jcs import canonicalize
from murmur.keys import Identity, verify_signature
from murmur.terminal import one_line

RECEIPT_VERSION = 1

# What a peer may answer about a message it was pushed (murmur.store.ingest.IngestResult.status).
STATUSES = frozenset({"stored", "duplicate", "deleted", "refused"})


def receipt_bytes(by: str, result: dict[str, Any]) -> bytes:
    return canonicalize(
        {
            "v": RECEIPT_VERSION,
            "by": by,
            "id": str(result.get("id", "")),
            "status": str(result.get("status", "")),
            "code": str(result.get("code") or ""),
            "reason": str(result.get("reason") or ""),
        }
    )


def signed(identity: Identity, result: dict[str, Any]) -> dict[str, Any]:
    """One line of a push answer with the server's signature added."""
    return {**result, "sig": identity.sign(receipt_bytes(identity.public_key, result))}


def verifies(by: str, result: dict[str, Any]) -> bool:
    sig = result.get("sig")
    return isinstance(sig, str) and verify_signature(by, sig, receipt_bytes(by, result))


def withheld_notes(notices: Any) -> list[str]:
    """``withheld by NAME (key): reason`` for each peer that refused a message and said so, signed (``notices``:
    the ``withheld`` list a server answers for it, kept only once verified: ``murmur.store.receipts.note``).
    The one wording the CLI, the TUI and the web view show. Name and reason come from a peer: flattened here to
    one inert line each, and escaped wherever markup is drawn."""
    return [
        f"withheld by {one_line(str(w.get('name') or '-'), 40)} ({one_line(str(w.get('key', ''))[:16], 16)}):"
        f" {one_line(str(w.get('reason', '')), 200)}"
        for w in (notices if isinstance(notices, list) else [])
        if isinstance(w, dict)
    ]
