"""A closed poll's figures stay as they closed: a ballot handed in at a member's own door after the close, dated
before it, must not change them. The ballot's ``created_at`` is its author's word; a member's home server sees
when it was handed in and judges it as of then (``murmur.store.audience.MemberDoor``)."""

from __future__ import annotations

import time

import orjson
import pytest

from murmur.client.api import ApiError
from murmur.kinds.poll import ballot_draft, poll_draft
from murmur.message import sign_draft
from murmur.validate import check
from tests.server.conftest import Harness, handed_in_at

HOUR = 3_600_000


async def test_a_ballot_handed_in_after_the_close_and_dated_before_it_changes_nothing(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    now = int(time.time() * 1000)
    closes = now - 60_000  # closed a minute ago
    draft = poll_draft("Lunch at noon?", ["yes", "no"], closes_at=closes, multiple=False, group=None)
    poll = sign_draft(ann.identity, draft, created_at=now - HOUR)
    await ann.publish(poll)
    signed = check(orjson.dumps(poll))
    with handed_in_at(now - HOUR // 2):  # Ben voted half an hour ago, when the poll was open
        await ben.publish(sign_draft(ben.identity, ballot_draft(signed, ["1"]), created_at=now - HOUR // 2))
    closed = await ann.poll(poll["id"])
    assert closed["closed"] and [o["votes"] for o in closed["options"]] == [1, 0]

    # After the close, Ben changes his mind, and a newcomer votes, both dating their ballots a moment before it.
    cat = await server.member()
    for api, picked in ((ben, ["2"]), (cat, ["2"])):
        with pytest.raises(ApiError) as refused:  # refused at the door: handed in after the close
            await api.publish(sign_draft(api.identity, ballot_draft(signed, picked), created_at=closes - 1))
        assert refused.value.code == "poll_closed" and "handed in" in str(refused.value)
    later = await ann.poll(poll["id"])
    assert [o["votes"] for o in later["options"]] == [1, 0] and later["voters"] == 1
