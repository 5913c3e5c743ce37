"""What an outsider (no signature at all) can learn of what the web view does not show: nothing. The unsigned
``/health`` answered the log's end (``seq``), which every stored message moves: a local post, a scoped one and a
sealed direct message included, so anyone polling it learned, to the second, when members write what the open web
never shows (a sealed message's own time is coarse, ten minutes, precisely so that servers' readers do not).
It now answers ``seq`` to a member's signed request only (docs/api.md, GET /health)."""

from __future__ import annotations

from pathlib import Path

import httpx

from murmur.client.api import MurmurClient
from murmur.message import sign_draft
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_sealed_api import ada_bo  # noqa: F401 (the fixture)


async def _outsiders_health(server: Harness) -> dict[str, object]:
    async with httpx.AsyncClient(transport=server.transport, base_url="http://murmur.test") as outsider:
        response = await outsider.get("/health")
    assert response.status_code == 200
    return dict(response.json())


async def test_an_outsider_cannot_tell_when_a_direct_or_local_message_arrives(
    server: Harness,
    ada_bo: tuple[Speaker, Speaker, MurmurClient, MurmurClient],  # noqa: F811
    tmp_path: Path,
) -> None:
    ada, bo, ada_api, _ = ada_bo
    before = await _outsiders_health(server)
    await ada.devices[0].conversations(ada_api, ada.identity, tmp_path).send([bo.identity], "meet at six")
    after_dm = await _outsiders_health(server)
    await ada_api.publish(sign_draft(ada_api.identity, {"body": {"text": "only here", "visibility": "local"}}))
    after_local = await _outsiders_health(server)
    assert (after_dm, after_local) == (before, before), "a direct or local message moved what an outsider reads"
