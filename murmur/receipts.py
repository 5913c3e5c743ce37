"""Signed answers to a push: what a peer did with each message it was sent, signed by its server key.

Every line of a push answer carries ``sig``, the server's Ed25519 signature over the RFC 8785 form of
``{"v": 1, "by": <its key>, "id": <message id>, "status": ..., "code": ..., "reason": ...}`` (code and reason
empty unless refused). The pushing server keeps the ones that verify against the peer's pinned key
(``murmur.store.receipts``): a stored or held delete is that peer's receipt for the delete; a refusal is its
notice that it withheld the message, with its reason, which readers are shown ("withheld by X: reason"). An
answer without a signature (an older peer) proves nothing and is not kept.

Every reader checks a notice again before it says "withheld by X" (``notice_verifies``): what a server serves
(its own readers' pages, the live stream) is the server's word, and a notice is the signing peer's word only if
its signature holds for the message it is shown under, the key it names, and the reason it gives. A signature
binds a notice to a key, not to a peer: the reader also marks who that key is to it (``mark_signer``, from
``Signers``: its home server, or a peer its home server's signed trust manifest lists), and a key that is
neither is shown as unknown, never under the name the serving server gave it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from murmur.errors import Refused
from murmur.jcs import canonicalize
from murmur.keys import KEY_HEX, Identity, verify_signature
from murmur.manifest import check_signatures, parse
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


HOME = "home"  # the reader's home server signed it
PEER = "peer"  # a peer its home server's signed trust manifest lists
UNKNOWN = "unknown"  # any other key: the serving server's name for it is not repeated
HOME_NAME = "this server"


@dataclass(frozen=True, slots=True)
class Signers:
    """The keys a reader knows a signed answer's signer by: its home server's, and those of the peers its home
    server lists (key -> name); any other key is unknown. Empty: nothing is known, every key is unknown."""

    home: str = ""
    peers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of_manifest(cls, home: str, text: str | None) -> Signers:
        """The peers of ``text``, the home server's newest trust manifest, if its key ``home`` signed it; none
        otherwise (no manifest yet, or not one this server signed: its list is nobody's word)."""
        if text is None:
            return cls(home)
        try:
            manifest = parse(text)
            check_signatures(manifest, home, None)
        except Refused:
            return cls(home)
        return cls(home, {key: entry.name for key, entry in manifest.peers.items()})

    def role(self, key: str) -> str:
        if self.home and key == self.home:
            return HOME
        return PEER if key in self.peers else UNKNOWN

    def name(self, key: str) -> str:
        """What the reader calls the signer: its own server, a listed peer's manifest name ('-' for none)."""
        role = self.role(key)
        return HOME_NAME if role == HOME else (self.peers[key] or "-") if role == PEER else ""


def mark_signer(answer: dict[str, Any], signers: Signers) -> None:
    """Mark a served answer (a withheld notice, a peer's answer about a delete) with who its key is to the reader:
    ``signer`` (``home``, ``peer`` or ``unknown``) and ``name`` its name for it, replacing whatever the server
    served in either ('' for an unknown key). Readers show ``name`` only under a known ``signer``."""
    key = answer.get("key")
    key = key if isinstance(key, str) else ""
    answer["signer"], answer["name"] = signers.role(key), signers.name(key)


def known_signer(answer: dict[str, Any]) -> bool:
    """Whether ``mark_signer`` found the answer's key to be the reader's home server or a peer it lists (an
    unmarked answer is not)."""
    return answer.get("signer") in (HOME, PEER)


UNNAMED = "withheld by a peer: which one, and why, is told only to this server's members"


def withheld_notes(msg_id: str, notices: Any, *, unnamed: Collection[str] = ()) -> list[str]:
    """``withheld by NAME (key): reason`` for each peer that refused the message ``msg_id`` and said so, signed
    (``notices``: the ``withheld`` list a server answers for it, marked by the reader: ``mark_signer``). The one
    wording the CLI, the TUI and the web view show, after the one check (``notice_verifies``). A notice that does
    not verify says so, with the key it names and nothing of its reason: its words are nobody's but the serving
    server's, and the reader is told that server served a notice no peer signed rather than left with silence.
    One signed by a key that is neither the home server nor a peer it lists says so alike (a server can sign with
    a key of its own under a peer's name). Name and reason come from a peer: flattened here to one inert line
    each, and escaped wherever markup is drawn. A verified notice of a peer in ``unnamed`` (its key) says only
    that a peer withheld it (``UNNAMED``): on a page anyone may read, the name, key and words of a server this one
    trusts with a scope would map who is inside."""
    lines = []
    for w in notices if isinstance(notices, list) else []:
        if not isinstance(w, dict):
            continue
        key = one_line(str(w.get("key", ""))[:16], 16)
        if not notice_verifies(msg_id, w):
            lines.append(f"unverified withheld notice ({key}): its signature does not hold, so it is not shown")
        elif not known_signer(w):
            lines.append(
                f"withheld notice signed by an unknown key ({key}): not this server nor a peer it lists, so it is"
                " not shown"
            )
        elif str(w.get("key", "")) in unnamed:
            lines.append(UNNAMED)
        else:
            name, reason = one_line(str(w.get("name") or "-"), 40), one_line(str(w.get("reason", "")), 200)
            lines.append(f"withheld by {name} ({key}): {reason}")
    return lines
