"""Signed HTTP requests: RFC 9421 message signatures with Ed25519, over an RFC 9530 content digest.

One mechanism authenticates people (client API) and servers (federation). A request carries three fields:

    Content-Digest:  sha-256=:<base64 of SHA-256(body)>:
    Signature-Input: murmur=("@method" "@path" "@query" "content-digest")
                     ;created=<unix s>;keyid="<64 hex>";alg="ed25519";nonce="<random>"
                     ;recipient="<64 hex: the server key of the server the request is for>"   (one line)
    Signature:       murmur=:<base64 of the 64-byte Ed25519 signature>:

The signature covers ``@path`` and ``@query`` rather than ``@target-uri`` or ``@authority``: a TLS-terminating
reverse proxy changes the scheme and often the Host the application sees, tunnels and proxies make one server
reachable under many names, while the path and query reach it byte for byte. What binds a request to one
server is the ``recipient`` parameter: the server key of the server it is meant for, which every server checks
is its own. A request signed for server A and replayed to server B is refused by B (``wrong_server``).
docs/signatures.md is the wire specification.

The three fields are RFC 8941 structured fields, parsed strictly by ``murmur.sfv``; whatever it does not accept
is refused with ``Refused("malformed_signature", ...)``, never another exception. Anything that is signed or
binds the body appears once: a label or digest named twice, or a covered field sent on two lines, is refused
(``duplicate_field``) rather than resolved by "last wins".
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature

from murmur.errors import Refused
from murmur.keys import KEY_HEX, SMALL_ORDER_KEYS, Identity, verifying_key
from murmur.sfv import BareItem, DuplicateKey, Member, Params, parse_dictionary, serialize_item

LABEL = "murmur"
ALG = "ed25519"
COVERED = ("@method", "@path", "@query", "content-digest")
PARAMS = ("created", "keyid", "alg", "nonce", "recipient")
DEFAULT_WINDOW_S = 60
# 16 random bytes in base64url (22 chars) by default; other signers may use hex. The upper bound caps the
# memory one replay-cache entry can take.
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")

# A derived component or a lower-case field name; anything else could break the line format of the base.
_COMPONENT = re.compile(r"@?[a-z0-9!#$%&'*+.^_`|~-]+")
# Printable ASCII is kept as is; spaces, controls and non-ASCII become UTF-8 percent-escapes.
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))
_PRINTABLE = re.compile(r"[\x21-\x7e]*")


def serialize_signature_params(components: Sequence[str], params: Mapping[str, BareItem]) -> str:
    """The inner list that is both the Signature-Input member value and the ``@signature-params`` line."""
    inner = " ".join(serialize_item(name) for name in components)
    return f"({inner})" + "".join(f";{key}={serialize_item(value)}" for key, value in params.items())


# -- RFC 9421 signature base and RFC 9530 content digest ------------------------------------------------------


def build_signature_base(components: Sequence[tuple[str, str]], signature_params: str) -> bytes:
    """RFC 9421 section 2.5: one ``"name": value`` line per covered component, then ``@signature-params``.

    Raises ValueError for a repeated name or a value that cannot appear in a base (non-ASCII, line breaks).
    """
    lines: list[str] = []
    seen: set[str] = set()
    for name, value in components:
        if name in seen or name == "@signature-params" or not _COMPONENT.fullmatch(name):
            raise ValueError(f"bad or repeated component {name!r}")
        if not value.isascii() or "\n" in value or "\r" in value:
            raise ValueError(f"component {name!r} has a value that cannot be signed")
        seen.add(name)
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {signature_params}')
    return "\n".join(lines).encode("ascii")


def resolve_components(
    names: Sequence[str], method: str, path: str, query: str, headers: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Component values for a request (RFC 9421 sections 2.1 and 2.2). ``headers`` keys must be lower-case.

    Raises ValueError for a derived component murmur does not support or a field the request lacks.
    """
    # A raw (wire) path or query is already printable ASCII and passes through unchanged, as RFC 9421 wants;
    # a decoded one (httpx's and Starlette's url.path) gets the escapes a client would have sent, so either
    # form verifies. Only a decoded "%" or "?" still differs from its wire form, hence: prefer the raw form.
    derived = {"@method": method, "@path": _escaped(path or "/"), "@query": "?" + _escaped(query)}
    if "host" in headers:
        derived["@authority"] = headers["host"].strip().lower()
    values: list[tuple[str, str]] = []
    for name in names:
        if name in derived:
            values.append((name, derived[name]))
        elif not name.startswith("@") and name in headers:
            values.append((name, headers[name].strip(" \t")))
        else:
            raise ValueError(f"the request has no {name!r} to sign")
    return values


def _escaped(text: str) -> str:
    """``text`` with the escapes a client would have sent: printable ASCII (every wire form) is kept as it is,
    without the cost of ``quote`` walking it, which runs on every signed request."""
    return text if _PRINTABLE.fullmatch(text) else urllib.parse.quote(text, safe=_URL_SAFE)


def content_digest(body: bytes) -> str:
    """RFC 9530 Content-Digest value with SHA-256: ``sha-256=:<base64>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def check_content_digest(value: str | None, body: bytes) -> None:
    """Check every SHA-2 digest in a Content-Digest value against ``body``; sha-256 must be among them."""
    try:
        digests = parse_dictionary(value) if value is not None else {}
    except DuplicateKey as exc:
        raise Refused("duplicate_field", f"The Content-Digest header gives {exc.key!r} twice; give each once.") from exc
    except ValueError:
        digests = {}
    if not isinstance(digests.get("sha-256", (None,))[0], bytes):
        raise Refused("missing_digest", "The request has no valid sha-256 Content-Digest header.")
    for alg, hasher in (("sha-256", hashlib.sha256), ("sha-512", hashlib.sha512)):
        if alg in digests:
            got = digests[alg][0]
            if not isinstance(got, bytes) or not hmac.compare_digest(got, hasher(body).digest()):
                raise Refused("digest_mismatch", "The request body does not match its Content-Digest header.")


# -- signing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedHeaders:
    """The three header fields a signer adds to a request."""

    content_digest: str
    signature_input: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {
            "Content-Digest": self.content_digest,
            "Signature-Input": self.signature_input,
            "Signature": self.signature,
        }


def sign_request(
    identity: Identity,
    method: str,
    path: str,
    query: str,
    body: bytes,
    *,
    recipient: str,
    created: int | None = None,
    nonce: str | None = None,
) -> SignedHeaders:
    """Sign a request for the server whose key is ``recipient``.

    ``path`` and ``query`` are best given as sent on the wire (query without ``?``).
    """
    if not path.startswith("/") or query.startswith("?"):
        raise ValueError("path must start with '/' and query must not start with '?'")
    if not KEY_HEX.fullmatch(recipient):
        raise ValueError("recipient must be the server key of the server the request is for (64 lowercase hex)")
    created = int(time.time()) if created is None else created
    nonce = secrets.token_urlsafe(16) if nonce is None else nonce
    if not NONCE.fullmatch(nonce):
        raise ValueError("nonce must be 16 to 64 characters of [A-Za-z0-9_-]")
    digest = content_digest(body)
    params = serialize_signature_params(
        COVERED,
        {"created": created, "keyid": identity.public_key, "alg": ALG, "nonce": nonce, "recipient": recipient},
    )
    components = resolve_components(COVERED, method, path, query, {"content-digest": digest})
    signature = identity.private_key.sign(build_signature_base(components, params))
    return SignedHeaders(digest, f"{LABEL}={params}", f"{LABEL}={serialize_item(signature)}")


# -- verifying --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedRequest:
    """Who signed a request that passed every check, and the values the replay cache keyed it on."""

    key: str
    created: int
    nonce: str


class ReplayCache:
    """(key, nonce) pairs seen recently, in memory, forgotten once their ``created`` leaves the window.

    ``window_s`` must be at least the verifier's window, or a pair could be forgotten while its request is
    still acceptable. When full of live entries the cache refuses (``busy``) instead of evicting one, since
    evicting would reopen a replay; reaching the bound means a flood that rate limits should stop earlier.
    """

    def __init__(self, window_s: int = 300, max_entries: int = 100_000) -> None:
        self.window_s = window_s
        self.max_entries = max_entries
        self._entries: set[tuple[str, str]] = set()
        self._by_created: list[tuple[int, str, str]] = []
        self._lock = threading.Lock()  # the server may verify from a thread pool

    def __len__(self) -> int:
        return len(self._entries)

    def seen(self, key: str, nonce: str, created: int, now: int) -> bool:
        """True if (key, nonce) was seen within the window; records it otherwise."""
        with self._lock:
            horizon = now - self.window_s
            while self._by_created and self._by_created[0][0] < horizon:
                _, old_key, old_nonce = heapq.heappop(self._by_created)
                self._entries.discard((old_key, old_nonce))
            if (key, nonce) in self._entries:
                return True
            if len(self._entries) >= self.max_entries:
                raise Refused("busy", "The server is checking too many signed requests right now; try again soon.")
            self._entries.add((key, nonce))
            heapq.heappush(self._by_created, (created, key, nonce))
            return False


def replayed() -> Refused:
    """The refusal of a (key, nonce) pair a replay cache has seen, wherever that cache is kept."""
    return Refused("replayed", "This signed request was already received; sign each request afresh.")


def _lower_headers(headers: Mapping[str, str]) -> tuple[dict[str, str], dict[str, int]]:
    """Field values by lower-case name, and how many lines each field was sent on.

    A field sent on several lines is one value joined by ", " (RFC 9110 section 5.3); multi-dicts such as
    Starlette's Headers list each line in items() (httpx's Headers in multi_items()), so join them here
    rather than keep only one.
    """
    multi = getattr(headers, "multi_items", None)
    items = multi() if callable(multi) else headers.items()
    out: dict[str, str] = {}
    lines: dict[str, int] = {}
    for name, value in items:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
        lines[key] = lines.get(key, 0) + 1
    return out, lines


def _our_member(headers: dict[str, str], field: str) -> Member:
    if field not in headers:
        raise Refused("missing_signature", "The request is not signed; murmur needs Signature-Input and Signature.")
    try:
        members = parse_dictionary(headers[field])
    except DuplicateKey as exc:
        # Across two lines as in one: a second signature under the same label could be the one a proxy or a
        # log keeps, while the verifier checked the other.
        raise Refused("duplicate_field", f"The {field.title()} header names {exc.key!r} twice; sign once.") from exc
    except ValueError as exc:
        raise Refused("malformed_signature", f"The {field.title()} header is not valid.") from exc
    if LABEL not in members:
        raise Refused("missing_signature", f"The {field.title()} header has no {LABEL!r} signature.")
    return members[LABEL]


def _fields_sent_once(names: Sequence[str], lines: Mapping[str, int]) -> None:
    """Every covered header field (and Host, behind ``@authority``) must arrive on exactly one line."""
    for name in names:
        field = "host" if name == "@authority" else name
        if not field.startswith("@") and lines.get(field, 0) > 1:
            raise Refused("duplicate_field", f"The signed header {field!r} is sent {lines[field]} times; send it once.")


def _covered_names(member: Member) -> list[str]:
    inner = member[0]
    if not isinstance(inner, list):
        raise Refused("malformed_signature", "Signature-Input must hold a list of covered components.")
    names = [name for name, params in inner if type(name) is str and not params]
    if len(names) != len(inner) or len(set(names)) != len(names):
        raise Refused("malformed_signature", "Covered components must be distinct plain names.")
    missing = [name for name in COVERED if name not in names]
    if missing:
        raise Refused("missing_component", f"The signature must cover {', '.join(missing)}.")
    return names


def _checked_params(params: Params) -> tuple[int, str, str, str]:
    alg = params.get("alg")
    if type(alg) is not str or alg != ALG:
        raise Refused("unsupported_algorithm", f'murmur accepts only alg="{ALG}" signatures.')
    created, keyid, nonce = params.get("created"), params.get("keyid"), params.get("nonce")
    if set(params) != set(PARAMS) or type(created) is not int or created < 0 or type(nonce) is not str:
        raise Refused("malformed_signature", f"A signature needs exactly the parameters {', '.join(PARAMS)}.")
    if not NONCE.fullmatch(nonce):
        raise Refused("malformed_signature", "The signature nonce must be 16 to 64 characters of [A-Za-z0-9_-].")
    if type(keyid) is not str or not KEY_HEX.fullmatch(keyid):
        raise Refused("bad_key", "The keyid must be an Ed25519 public key in 64 lowercase hex digits.")
    if keyid in SMALL_ORDER_KEYS:
        raise Refused("weak_key", "The keyid is a weak Ed25519 key that murmur refuses.")
    recipient = params.get("recipient")
    if type(recipient) is not str or not KEY_HEX.fullmatch(recipient):
        raise Refused("malformed_signature", "The recipient must be the server key of the server asked, in 64 hex.")
    return created, keyid, nonce, recipient


def verify_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    recipient: str,
    now: int | None = None,
    window_s: int = DEFAULT_WINDOW_S,
    replay: ReplayCache | None = None,
) -> VerifiedRequest:
    """Check a request's murmur signature; raise ``Refused`` naming the first check that failed.

    ``recipient`` is the verifying server's own key: a request signed for any other server is refused.
    ``path`` and ``query`` must be the raw, percent-encoded forms the request arrived with (query without
    ``?``). The replay cache records a nonce only after everything else passed, so forged requests cannot
    fill it.
    """
    if replay is not None and replay.window_s < window_s:
        raise ValueError("the replay cache must remember at least as long as the signature window")
    now = int(time.time()) if now is None else now
    fields, lines = _lower_headers(headers)
    sig_input, sig_member = _our_member(fields, "signature-input"), _our_member(fields, "signature")
    signature = sig_member[0]
    if not isinstance(signature, bytes) or len(signature) != 64 or sig_member[1]:
        raise Refused("malformed_signature", "The Signature header must hold one 64-byte Ed25519 signature.")
    names = _covered_names(sig_input)
    _fields_sent_once(names, lines)
    created, keyid, nonce, signed_for = _checked_params(sig_input[1])
    if signed_for != recipient:
        raise Refused(
            "wrong_server",
            f"The request was signed for the server with key {signed_for[:16]}…, not this one ({recipient[:16]}…).",
        )
    if created < now - window_s:
        raise Refused("expired", f"The signature was made more than {window_s} seconds ago; check your clock.")
    if created > now + window_s:
        raise Refused("from_future", f"The signature is dated more than {window_s} seconds ahead; check your clock.")
    check_content_digest(fields.get("content-digest"), body)
    try:
        components = resolve_components(names, method, path, query, fields)
        base = build_signature_base(components, serialize_signature_params(names, sig_input[1]))
    except ValueError as exc:
        raise Refused("malformed_signature", "The signature covers something this request cannot supply.") from exc
    try:
        verifying_key(keyid).verify(signature, base)
    except (InvalidSignature, ValueError) as exc:
        raise Refused("bad_signature", "The request signature does not verify with its keyid.") from exc
    if replay is not None and replay.seen(keyid, nonce, created, now):
        raise replayed()
    return VerifiedRequest(key=keyid, created=created, nonce=nonce)
