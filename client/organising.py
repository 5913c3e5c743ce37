"""What the CLI and the TUI share about polls and meetups: the signed poll or meetup a ballot or an RSVP is
written against (checked here, never taken on the server's word), and the time a poll or a letter closes, as a
person types it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from murmur.client.api import MurmurClient
from murmur.client.verify import verified
from murmur.errors import Refused
from murmur.kinds.meetup_tally import MeetupSpec
from murmur.message import Message
from murmur.validate import check

DURATION = re.compile(r"([0-9]{1,6})([smhd])")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def closes_at(text: str, now_ms: int, what: str = "--closes") -> int:
    """A time to come (a poll's close, a letter's deadline) as typed: a duration from now (30m, 12h, 7d) or an ISO
    time (UTC unless it says otherwise), later than now; as ms since the epoch. Refused (``bad_value``) otherwise,
    naming ``what`` was given."""
    if match := DURATION.fullmatch(text.strip()):
        return now_ms + int(match.group(1)) * UNITS[match.group(2)] * 1000
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        shape = "a duration (30m, 12h, 7d) or a time (2026-12-01T18:00Z)"
        raise Refused("bad_value", f"{what} {text!r} is not {shape}.") from exc
    at = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)
    if at <= now_ms:
        raise Refused("bad_value", f"{what} {text!r} is in the past: give a time later than now.")
    return at


async def signed_poll(api: MurmurClient, wanted: str) -> Message:
    """The poll ``wanted`` names (an id or a prefix), its author's signature checked here."""
    message = await api.message(wanted)
    if not verified(message) or message.get("kind") != "poll":
        raise Refused("not_found", "That message is not a poll that checks.")
    return check(message, now=None)


async def signed_meetup(api: MurmurClient, wanted: str) -> tuple[dict[str, Any], MeetupSpec]:
    """The meetup as the server counts it, and its current version (the organiser's signature checked here)."""
    figures, message = await meetup_as_signed(api, wanted)
    return figures, MeetupSpec.of(message)


async def meetup_as_signed(api: MurmurClient, wanted: str) -> tuple[dict[str, Any], Message]:
    """The meetup as the server counts it, and the meetup message as its organiser signed it (checked here)."""
    figures = await api.meetup(wanted)
    message = await api.message(str(figures["id"]))
    if not verified(message) or message.get("kind") != "meetup":
        raise Refused("not_found", "That message is not a meetup that checks.")
    return figures, check(message, now=None)
