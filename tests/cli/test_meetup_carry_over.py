"""An update or a cancel repeats the whole meetup: a title or a place signed on several lines before servers
refused that is carried over as one line, so that its organiser can still update or cancel it."""

from __future__ import annotations

from murmur.client.cli.meetups import carried_over
from murmur.keys import Identity
from murmur.kinds.meetup import meetup_body, update_draft
from murmur.kinds.meetup_tally import MeetupSpec
from murmur.message import sign_draft
from murmur.validate import check

START = 1_900_000_000_000


def test_an_update_carries_an_old_title_and_place_over_as_one_line() -> None:
    current = {"title": "Picnic\r\n", "place": "https://x.test/\nA", "description": "two\nlines", "tz": "UTC"}
    carried = carried_over(current)
    assert carried == {"title": "Picnic", "place": "https://x.test/ A", "description": "two\nlines", "tz": "UTC"}
    body = meetup_body(carried["title"], start=START, end=START + 1, tz="UTC", place=carried["place"])
    spec = MeetupSpec(
        id="a" * 64, author="b" * 64, version="a" * 64, updated_at=START, versions=1, title="", description="",
        start=START, end=START + 1, tz="UTC", place="", capacity=None, group=None, cancelled=False,
    )  # fmt: skip
    check(sign_draft(Identity.generate(), update_draft(spec, body)), now=START, verify=False)  # the rule takes it
