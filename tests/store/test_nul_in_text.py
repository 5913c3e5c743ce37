"""U+0000 in a message's text is valid JSON (``\\u0000``) that validation accepts and SQLite stores; on PostgreSQL
it must not turn into a failed write either. A text column refuses NUL there ("PostgreSQL text fields cannot
contain NUL (0x00) bytes"), and ``json_extract`` (``doc::jsonb``) refuses the ``\\u0000`` escape anywhere in the
document it reads, so any batch holding such a message would fail whole: a member's publish a 503, and a peer's
pull or a bundle stuck on the same batch at every retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from store_people import Person

from murmur import key_events as ke
from murmur.kinds.group_drafts import about_post_draft, create_draft
from murmur.message import sign_draft
from murmur.store import Store
from tests.identity_logs import LAPTOP, ROTATION_0

NUL = "night\x00shift"
PG_REASON = "PostgreSQL refuses U+0000 in a text column and in jsonb: the whole batch fails (StoreError)"

Made = Callable[[Person, dict[str, Any]], list[dict[str, Any]]]


def _post(p: Person, first: dict[str, Any]) -> list[dict[str, Any]]:
    return [p.post(NUL)]


def _profile(p: Person, first: dict[str, Any]) -> list[dict[str, Any]]:
    return [p.profile(NUL, bio=NUL)]


def _edit(p: Person, first: dict[str, Any]) -> list[dict[str, Any]]:
    return [p.edit(first, NUL)]


def _group(p: Person, first: dict[str, Any]) -> list[dict[str, Any]]:
    return [sign_draft(p.identity, create_draft(NUL, description=NUL), created_at=first["created_at"] + 10)]


def _hide(p: Person, first: dict[str, Any]) -> list[dict[str, Any]]:
    group = sign_draft(p.identity, create_draft("Stewards"), created_at=first["created_at"] + 10)
    hide = about_post_draft("group_hide", group["id"], first["id"], reason=NUL)
    return [group, sign_draft(p.identity, hide, created_at=first["created_at"] + 20)]


def _device_name(p: Person, first: dict[str, Any]) -> list[dict[str, Any]]:
    sealing = ke.x25519_public(LAPTOP.sealing_key())
    return [ke.inception(LAPTOP, NUL, sealing, ROTATION_0.public_key, at=first["created_at"] + 10)]


CASES: dict[str, Made] = {
    "post text": _post,
    "profile name": _profile,
    "edit text": _edit,
    "group name": _group,
    "group_hide reason": _hide,
    "device name": _device_name,
}


@pytest.mark.parametrize("case", list(CASES))
async def test_nul_in_text_is_stored_or_refused_never_a_failed_batch(
    store: Store, ann: Person, ben: Person, engine: str, case: str, request: pytest.FixtureRequest
) -> None:
    if engine == "postgresql":
        request.applymarker(pytest.mark.xfail(strict=True, reason=PG_REASON))
    first = ann.post("plain words")
    assert [r.status for r in await store.ingest([first])] == ["stored"]
    hostile = CASES[case](ann, first)
    bystander = ben.post("an ordinary post in the same batch")
    results = await store.ingest([*hostile, bystander])
    # Whatever the answer to the hostile message, it is an answer: the rest of its batch is stored.
    assert all(r.status in ("stored", "refused") for r in results)
    assert results[-1].status == "stored"
    assert await store.get(bystander["id"]) is not None
