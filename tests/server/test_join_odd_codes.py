"""An invite code is whatever JSON string a joining key sends. One the JSON allows but no database can hold (a
lone surrogate, ``"\\ud800"``, which Python's parser turns into a str that has no UTF-8 form) is an unknown invite,
answered as one: anyone with a key pair can send it, before being a member."""

from __future__ import annotations

import httpx
import pytest

from murmur.httpsig import sign_request
from murmur.keys import Identity
from tests.server.conftest import Harness


@pytest.mark.xfail(
    strict=True,
    reason="redeem_invite binds the code as it parsed: sqlite3 raises UnicodeEncodeError, not a sqlite3.Error: a 500",
)
async def test_an_invite_code_with_a_lone_surrogate_is_an_unknown_invite(server: Harness) -> None:
    body = b'{"invite": "\\ud800"}'
    headers = sign_request(Identity.generate(), "POST", "/api/v1/join", "", body, recipient=server.key).as_dict()
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        answer = await raw.post("/api/v1/join", headers=headers, content=body)
    assert answer.status_code in (400, 403, 422), answer.text
    assert answer.json()["error"]["code"] in ("invite_unknown", "bad_request", "lone_surrogate")
