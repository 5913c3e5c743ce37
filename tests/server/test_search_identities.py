"""Readers see one person (docs/protocol.md §13.5): a people search finds an identity once, whichever of its devices
set the profile found, with the identity's fingerprint; a bare key is its own identity (docs/api.md, search)."""

from __future__ import annotations

from typing import Any

from murmur.keys import Identity, fingerprint
from murmur.message import sign_draft
from tests.identity_logs import LAPTOP, PHONE, STRANGER, Log
from tests.server.conftest import Harness


def profile(device: Identity, name: str, identity: str | None, at: int) -> dict[str, Any]:
    tags = [["identity", identity]] if identity else []
    return sign_draft(device, {"kind": "profile", "body": {"name": name, "bio": "organiser"}, "tags": tags},
                      created_at=at)  # fmt: skip


async def test_a_people_search_finds_an_identity_once_under_its_fingerprint(server: Harness) -> None:
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    said = [profile(LAPTOP, "Ada Lovelace", log.identity, log.at + 1000),
            profile(PHONE, "Ada L.", log.identity, log.at + 2000),
            profile(STRANGER, "Ada Byron", None, log.at + 3000)]  # fmt: skip
    await server.state.store.ingest([*log.events, *said], origin="peer")
    reader = await server.member()
    found = (await reader.search("ada", kind="people"))["people"]
    assert sorted((p["identity"], p["identity_fingerprint"]) for p in found) == sorted(
        [(log.identity, fingerprint(log.identity)), (STRANGER.public_key, fingerprint(STRANGER.public_key))]
    )
    mine = next(p for p in found if p["identity"] == log.identity)
    assert mine["key"] in (LAPTOP.public_key, PHONE.public_key)
