"""How every answer of the web view leaves: its security headers, its cache headers, and 304 for a copy still good.

Pages and feeds are read by browsers and feed readers that never sign in, so nothing here sets a cookie or reads
one, and every answer forbids scripts, frames, forms and plug-ins (Content-Security-Policy) whatever it holds.
The entity tag is a hash of the exact bytes sent, so it changes exactly when the answer does: a new reply, an
edit, a delete, a new signature, a changed display name.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

# No script of any origin, inline or not; styles only from this server's own stylesheet; no frames, forms,
# plug-ins, base-URL tricks or being framed elsewhere. Images are not used.
CSP = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none';"
    " form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}
PAGE_MAX_AGE = 60  # seconds a page or feed may be reused without asking; then If-None-Match makes it cheap
STYLE_MAX_AGE = 3600

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"
CSS = "text/css; charset=utf-8"
SVG = "image/svg+xml"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(header: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or a list of tags, compared weakly (a ``W/`` prefix is ignored)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def answer(request: Request, body: bytes, media_type: str, *, max_age: int = PAGE_MAX_AGE) -> Response:
    """A 200 with ``body``, or a 304 without it when the reader's copy (If-None-Match) is this one."""
    etag = etag_of(body)
    headers = {**SECURITY_HEADERS, "ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def refusal(body: bytes, status: int, *, retry_after: str | None = None) -> Response:
    """A page saying what went wrong (not found, a bad cursor, a database that failed a read), never kept by a
    cache for long."""
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store" if retry_after else "public, max-age=10"}
    if retry_after:
        headers["Retry-After"] = retry_after
    return Response(body, status_code=status, media_type=HTML, headers=headers)
