"""A meetup dated past the year 9999 is valid (its start and end go up to 2^53-1 ms) and travels to every reader;
drawing it is a card like any other, never a ``ValueError`` from ``datetime`` that takes the listing down."""

from __future__ import annotations

import pytest

from murmur.client.kinds import reminder_line
from murmur.client.render import Context, render_item
from murmur.keys import Identity
from murmur.kinds.meetup import meetup_body, meetup_draft
from murmur.message import sign_draft
from murmur.validate import check

ADA = Identity.from_seed(bytes([21]) * 32)
NOW = 1_700_000_000_000
YEAR_10000 = 253_402_300_800_000  # 10000-01-01 00:00 UTC, in ms
REASON = "client/kinds.py local_time: datetime.fromtimestamp past year 9999 raises ValueError"


def far_meetup() -> dict[str, object]:
    body = meetup_body("Far away", start=YEAR_10000, end=YEAR_10000 + 3_600_000, tz="UTC")
    message = sign_draft(ADA, meetup_draft(body), created_at=NOW)
    check(message, now=NOW)  # every server takes it
    return message


@pytest.mark.xfail(strict=True, reason=REASON)
def test_a_meetup_past_year_9999_draws_as_a_card() -> None:
    item = {"seq": 1, "message": far_meetup(), "verified": True, "counts": {"replies": 0, "reactions": 0, "boosts": 0}}
    lines = render_item(item, Context())
    assert any("Far away" in line for line in lines)


@pytest.mark.xfail(strict=True, reason=REASON)
def test_a_reminder_of_a_meetup_past_year_9999_is_a_line() -> None:
    meetup = {"title": "Far away", "start": YEAR_10000, "tz": "UTC", "answers": {"going": [ADA.public_key]}}
    assert "Far away" in reminder_line(meetup, ADA.public_key, NOW)
