"""What the member API answers is one member's: their notifications, their home timeline (local posts among it),
their own messages. A member's request is signed with RFC 9421 ``Signature`` headers, not ``Authorization``, so
a shared cache (the proxy cache docs/web.md invites in front of the same server, a CDN) has no rule keeping such an
answer from the next person asking for the same URL: it must say so itself (``Cache-Control: private`` or
``no-store``), as the live stream already does."""

from __future__ import annotations

import httpx
import pytest

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from tests.server.conftest import Harness

PATHS = ["/api/v1/notifications", "/api/v1/timelines/home", "/api/v1/timelines/local", "/api/v1/export"]


@pytest.mark.xfail(strict=True, reason="JSONBytes answers of member routes carry no Cache-Control at all")
@pytest.mark.parametrize("path", PATHS)
async def test_a_members_answer_is_never_kept_by_a_shared_cache(server: Harness, path: str) -> None:
    me = Identity.generate()
    api = await server.member(me)
    assert (await api.publish(sign_draft(me, {"body": {"text": "for us here", "visibility": "local"}})))["status"] == (
        "stored"
    )
    headers = sign_request(me, "GET", path, "", b"", recipient=server.key).as_dict()
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        answer = await raw.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    cache_control = answer.headers.get("cache-control", "").lower()
    assert "no-store" in cache_control or "private" in cache_control
