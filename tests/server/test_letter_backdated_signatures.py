"""A letter whose signing deadline passed keeps the count it closed with: a signature handed in at a member's own
door after the deadline, dated before it, must not add to it. Its ``created_at`` is its author's word; the home
server sees when it was handed in and judges it as of then (``murmur.store.audience.MemberDoor``)."""

from __future__ import annotations

import time

import orjson
import pytest

from murmur.client.api import ApiError
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.message import sign_draft
from murmur.validate import check
from tests.server.conftest import Harness

HOUR = 3_600_000


async def test_a_signature_handed_in_after_the_deadline_and_dated_before_it_is_not_counted(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    now = int(time.time() * 1000)
    deadline = now - 60_000  # signing closed a minute ago
    draft = letter_draft("Open the library on Sundays", "the council", "We ask...", deadline=deadline)
    letter = sign_draft(ann.identity, draft, created_at=now - HOUR)
    await ann.publish(letter)
    assert (await ann.letter(letter["id"]))["count"] == 0

    with pytest.raises(ApiError) as refused:  # refused at the door: handed in after the deadline
        late = signature_draft(check(orjson.dumps(letter)))
        await ben.publish(sign_draft(ben.identity, late, created_at=deadline - 1))
    assert refused.value.code == "letter_closed" and "handed in" in str(refused.value)
    assert (await ann.letter(letter["id"]))["count"] == 0
