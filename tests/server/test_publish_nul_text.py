"""A member's post holding U+0000 (valid JSON, accepted by validation) is answered as on SQLite on every engine:
stored, and found again. On PostgreSQL the write fails, and the member is told the server could not store it."""

from __future__ import annotations

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from tests.server.conftest import Harness


async def test_a_post_with_nul_is_stored_on_every_engine(
    server: Harness, engine: str, request: pytest.FixtureRequest
) -> None:
    if engine == "postgresql":
        reason = "PostgreSQL refuses U+0000 in posts_fts.text: the publish fails with a StoreError (503)"
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    me = Identity.generate()
    api = await server.member(me)
    message = sign_draft(me, {"body": {"text": "tab\x00separated"}})
    result = await api.publish(message)
    assert result["status"] == "stored"
    assert await server.state.store.get(message["id"]) is not None
