"""A device numbers only its public messages (docs/protocol.md §13.8), so that gaps betray nothing. A message that
cannot sign an audience (an edit, a ballot, an RSVP, a letter's signature) goes where what it names goes: it is
counted only when its home server says that is public."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from murmur.client.devices import signed_as_device
from murmur.keys import Identity


class Api:
    """The two things ``signed_as_device`` asks of its server: which identity, and the audience of what a
    draft names (as ``GET /api/v1/audience`` answers)."""

    speaks_for = None

    def __init__(self, counter_file: Path, audience: str) -> None:
        self.counter_file, self._audience = counter_file, audience
        self.asked: list[list[str]] = []

    async def audience(self, visibility: str, names: list[str]) -> dict[str, Any]:
        self.asked.append(names)
        return {"audience": self._audience, "visibility": visibility, "servers": []}


TARGET, SUBJECT = "ab" * 32, "cd" * 32
ABOUT = [["target", TARGET], ["subject", SUBJECT]]
DRAFTS = {
    "edit": {"kind": "edit", "body": {"text": "edited"}, "tags": [["target", TARGET]]},
    "ballot": {"kind": "ballot", "body": {"choices": "1"}, "tags": ABOUT},
    "rsvp": {"kind": "rsvp", "body": {"answer": "going"}, "tags": ABOUT},
    "signature": {"kind": "signature", "body": {"note": "with you"}, "tags": ABOUT},
}


def counter_of(message: dict[str, Any]) -> list[str]:
    return [t[1] for t in message["tags"] if t[0] == "counter"]


@pytest.mark.parametrize("audience", ["scope:inside", "local", "scope:inside+scope:team"])
@pytest.mark.parametrize("kind", sorted(DRAFTS))
async def test_what_signs_no_audience_about_a_narrower_message_is_not_counted(
    tmp_path: Path, kind: str, audience: str
) -> None:
    api = Api(tmp_path / "counter.json", audience)
    message = await signed_as_device(api, Identity.generate(), DRAFTS[kind])  # type: ignore[arg-type]
    assert not counter_of(message), message["tags"]
    assert api.asked == [[TARGET]]


@pytest.mark.parametrize("kind", sorted(DRAFTS))
async def test_what_signs_no_audience_about_a_public_message_is_counted(tmp_path: Path, kind: str) -> None:
    api = Api(tmp_path / "counter.json", "public")
    message = await signed_as_device(api, Identity.generate(), DRAFTS[kind])  # type: ignore[arg-type]
    assert counter_of(message) == ["1"]


async def test_a_post_signing_its_audience_is_not_looked_up(tmp_path: Path) -> None:
    api = Api(tmp_path / "counter.json", "scope:inside")
    draft = {"kind": "post", "body": {"text": "hello", "visibility": "public"}, "tags": []}
    message = await signed_as_device(api, Identity.generate(), draft)  # type: ignore[arg-type]
    assert counter_of(message) == ["1"] and api.asked == []
