"""Signed answers to a push: what a peer did with each message it was sent, signed by its server key.

Every line of a push answer carries ``sig``, the server's Ed25519 signature over the RFC 8785 form of
``{"v": 1, "by": <its key>, "id": <message id>, "status": ..., "code": ..., "reason": ...}`` (code and reason
empty unless refused). The pushing server keeps the ones that verify against the peer's pinned key
(``murmur.store.receipts``): a stored or held delete is that peer's receipt for the delete; a refusal is its
notice that it withheld the message, with its reason, which readers are shown ("withheld by X: reason"). An
answer without a signature (an older peer) proves nothing and is not kept.

Every reader checks a notice again before it says "withheld by X" (``notice_verifies``): what a server serves
(its own readers' pages, the live stream) is the server's word, and a notice is the signing peer's word only if
its signature holds for the message it is shown under, the key it names, and the reason it gives.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from murmur.jcs import canonicalize
from murmur.keys import KEY_HEX, Identity, verify_signature
from murmur.terminal import one_line

RECEIPT_VERSION = 1

# What a peer may answer about a message it was pushed (murmur.store.ingest.IngestResult.status).
STATUSES = frozenset({"stored", "duplicate", "deleted", "refused"})
# The answers that confirm a delete: the peer holds the delete, whatever became of the message it names there.
CONFIRMING = frozenset({"stored", "duplicate", "deleted"})

# The longest reason and code an answer is kept with: kept whole or not at all, as words cut short no longer
# verify. Room for a moderator's reason (murmur.store.removals.MAX_REASON) with the words around it.
MAX_NOTICE_REASON = 1000
MAX_NOTICE_CODE = 100


def keepable(answer: dict[str, Any]) -> bool:
    """Whether an answer's code and reason are within the bounds a server keeps and a reader checks."""
    code, reason = str(answer.get("code") or ""), str(answer.get("reason") or "")
    return len(code) <= MAX_NOTICE_CODE and len(reason) <= MAX_NOTICE_REASON


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


def answer_verifies(msg_id: str, answer: Any, status: str) -> bool:
    """Whether ``answer`` (as a server serves a peer's answer: ``key``, ``code``, ``reason``, ``sig``) is the
    answer ``status`` about the message ``msg_id`` that the key it names signed. ``status`` is what the reader is
    about to say the peer did, never taken from the answer alone: a peer's signed receipt that it stored a
    message, served as its notice that it withheld it, must not verify."""
    if not isinstance(answer, dict):
        return False
    key, sig = answer.get("key"), answer.get("sig")
    code, reason = answer.get("code") or "", answer.get("reason") or ""
    if not (isinstance(key, str) and isinstance(code, str) and isinstance(reason, str) and isinstance(sig, str)):
        return False
    if not keepable(answer):  # no server keeps it (murmur.store.receipts.note), and it is not worth a cache entry
        return False
    return _signed(msg_id, status, key, code, reason, sig)


def notice_verifies(msg_id: str, notice: Any) -> bool:
    """Whether ``notice`` (a ``withheld`` entry) is a refusal of the message ``msg_id`` that the key it names
    signed: the check every reader makes before it says "withheld by X"."""
    return answer_verifies(msg_id, notice, "refused")


@lru_cache(maxsize=4096)  # a screen draws the same notices again at every refresh
def _signed(msg_id: str, status: str, key: str, code: str, reason: str, sig: str) -> bool:
    if not KEY_HEX.fullmatch(key):
        return False
    return verifies(key, {"id": msg_id, "status": status, "code": code, "reason": reason, "sig": sig})


def withheld_notes(msg_id: str, notices: Any) -> list[str]:
    """``withheld by NAME (key): reason`` for each peer that refused the message ``msg_id`` and said so, signed
    (``notices``: the ``withheld`` list a server answers for it). The one wording the CLI, the TUI and the web
    view show, after the one check (``notice_verifies``). A notice that does not verify says so, with the key it
    names and nothing of its reason: its words are nobody's but the serving server's, and the reader is told
    that server served a notice no peer signed rather than left with silence. Name and reason come from a peer:
    flattened here to one inert line each, and escaped wherever markup is drawn."""
    lines = []
    for w in notices if isinstance(notices, list) else []:
        if not isinstance(w, dict):
            continue
        key = one_line(str(w.get("key", ""))[:16], 16)
        if not notice_verifies(msg_id, w):
            lines.append(f"unverified withheld notice ({key}): its signature does not hold, so it is not shown")
            continue
        lines.append(
            f"withheld by {one_line(str(w.get('name') or '-'), 40)} ({key}): {one_line(str(w.get('reason', '')), 200)}"
        )
    return lines
