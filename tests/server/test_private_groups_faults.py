"""Private groups when things go wrong: a home server failing midway through a sync, or answering in a shape it
should not; membership changes that cannot finish; a removed member still holding keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError
from murmur.client.private_groups import PrivateGroups
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined


async def pair(server: Harness, tmp_path: Path) -> tuple[PrivateGroups, PrivateGroups, str]:
    """Ada's laptop owning a private group Bo was invited to (and has synced)."""
    ada, bo = Speaker.new(), Speaker.new()
    a_api, b_api = await joined(server, ada), await joined(server, bo)
    laptop = groups_of(ada.devices[0], a_api, ada.identity, tmp_path / "ada")
    bog = groups_of(bo.devices[0], b_api, bo.identity, tmp_path / "bo")
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await bog.sync()
    return laptop, bog, group


async def test_a_sync_failing_midway_loses_nothing(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    for text in ("one", "two", "three"):
        await laptop.post(group, text)
    real = bog.api.identity_of

    async def unavailable(name: str) -> dict[str, Any]:
        raise ApiError(503, "unavailable", "busy")

    bog.api.identity_of = unavailable  # type: ignore[method-assign]
    with pytest.raises(ApiError):
        await bog.sync(group)
    bog.api.identity_of = real  # type: ignore[method-assign]
    assert (await bog.sync(group)).read == 3
    assert texts(bog, group) == ["one", "two", "three"]


@pytest.mark.parametrize(
    "spans",
    [[{"key": "ab", "start": "x"}], [{"key": 3, "start": 1}], [{"key": "ab", "start": 1, "end": "z"}], ["s"], "x"],
)
async def test_a_malformed_members_answer_is_refused_with_a_reason(
    server: Harness, tmp_path: Path, spans: object
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    await laptop.post(group, "hello")
    real = bog.api.request

    async def twisted(method: str, path: str, **kw: Any) -> Any:
        answer = await real(method, path, **kw)
        if path.endswith("/members"):
            answer["spans"] = spans
        return answer

    bog.api.request = twisted  # type: ignore[method-assign]
    with pytest.raises(ApiError) as refused:
        await bog.sync(group)
    assert refused.value.code == "bad_answer" and "spans" in refused.value.message
