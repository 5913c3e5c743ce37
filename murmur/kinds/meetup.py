"""A meetup, its organiser's updates, and the RSVPs to it: bringing people together off-line, in the open.

A meetup is a public message with a ``title``, an optional ``description``, a ``start`` and an ``end`` (ms since
the epoch, UTC, as decimal digits) with the IANA time zone the organiser meant them in (``tz``: ``Europe/Paris``),
an optional ``place`` (an address or a link) and ``capacity`` (1 to 100000 places). With a ``group`` tag it is
addressed to that group, and only the RSVPs of the group's members (at the RSVP's time) count. Its organiser may
delete it.

A ``meetup_update`` is a new version by the organiser (``target``: the meetup), carrying a whole meetup body, and
``status: cancelled`` to cancel it. Every version is kept; the newest by (created_at, id) is current, as an edit
is for a post; everyone who answered before an update is told of it (notice kind ``meetup_update``).

An ``rsvp`` names the meetup (``target``) and its organiser (``subject``), and answers ``going``, ``maybe`` or
``no``; each person's latest counts, and a full capacity puts later "going" answers on a waiting list
(``murmur.kinds.meetup_tally``). When the meetup is held the store refuses an RSVP to a message that is not a
meetup, or naming someone else as its organiser (``bad_target``); one to a meetup its organiser deleted is
refused ``meetup_deleted``; one that arrives before its meetup waits.

Readers: ``held`` (a meetup's current version and answers), ``listed`` (the newest meetups), ``answered`` (the
meetups a person answered going or maybe), ``reminders`` (those of them starting soon: shown with a person's
notifications from an hour before the start). The ``.ics`` form is in ``murmur.kinds.meetup_ics``.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from murmur.errors import Refused
from murmur.kinds.acting import acts_for_sql
from murmur.kinds.base import Field, Kind, Tags, answers_held, select_in
from murmur.kinds.group_state import member_at, speakers_of
from murmur.kinds.meetup_tally import ANSWERS, CANCELLED, Answers, MeetupSpec, Member, answers
from murmur.message import Message
from murmur.numbers import MAX_NUMBER, parse_number

if TYPE_CHECKING:  # the store imports the registry, and so this module
    from murmur.store import Store

Draft = dict[str, Any]
MAX_CAPACITY = 100_000
LONGEST_MEETUP = 7 * 24 * 3600 * 1000  # a week: longer is a mistake in the times, not a meetup

BODY = {
    "title": Field(True, 200),
    "description": Field(False, 5000),
    "start": Field(True, 16),
    "end": Field(True, 16),
    "tz": Field(True, 64),
    "place": Field(False, 500),
    "capacity": Field(False, 6),
}


def _digits(body: Mapping[str, Any], name: str, low: int, high: int) -> int:
    """A member holding a whole number, in decimal digits without a leading zero (one spelling per value)."""
    text = body[name]
    value = parse_number(text, name=name, low=low, high=high, code="bad_value")
    if str(value) != text:
        raise Refused("bad_value", f"{name} is decimal digits without a leading zero.")
    return value


def _times(body: Mapping[str, Any], tags: Tags) -> None:
    start, end = _digits(body, "start", 0, MAX_NUMBER), _digits(body, "end", 0, MAX_NUMBER)
    if not start < end <= start + LONGEST_MEETUP:
        raise Refused("bad_value", "A meetup ends after it starts, and lasts at most 7 days.")


# The shape of an IANA zone name (Europe/Paris, America/Argentina/Buenos_Aires, Etc/GMT+5, UTC). Validity is this
# shape and not "a zone this machine's database knows": databases differ between servers and versions (zones are
# added every year), and a message one server refuses while another stores breaks convergence (protocol.md §7.3).
# A zone the reader's database lacks is shown, and exported, in UTC (``zone_of``).
ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_][A-Za-z0-9_+-]*)*", re.ASCII)


@functools.cache
def zone_names() -> frozenset[str]:
    """The IANA zone names this machine's database knows. A name is looked up here, never opened as a file:
    ``ZoneInfo`` of a directory (``Europe``) or a path raises errors of its own."""
    return frozenset(zoneinfo.available_timezones())


def zone_of(name: str) -> zoneinfo.ZoneInfo:
    """The zone to show a meetup's times in: the one it names, or UTC when this machine does not know it."""
    return zoneinfo.ZoneInfo(name if name in zone_names() else "UTC")


def _zone(body: Mapping[str, Any], tags: Tags) -> None:
    if not ZONE_NAME.fullmatch(name := body["tz"]):
        raise Refused("bad_value", f"tz {name!r} is not an IANA time zone name (Europe/Paris, UTC).")


# What a one-line member may not hold: C0 controls (line feed, carriage return and tab among them), DEL, C1
# controls, and the line and paragraph separators. A title or a place is one line wherever it goes: a calendar's
# SUMMARY and LOCATION, a link's URL (where a line break makes iCalendar writers fail), a terminal's line.
LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ONE_LINE = ("title", "place")


def _one_line(body: Mapping[str, Any], tags: Tags) -> None:
    for name in ONE_LINE:
        if (found := LINE_BREAKING.search(body.get(name) or "")) is not None:
            raise Refused(
                "bad_value",
                f"{name} is one line: it holds a control character (U+{ord(found.group()):04X}, a line break or"
                " a tab among them). Write it on one line, without control characters.",
            )


def as_one_line(text: str) -> str:
    """``text`` with each control character and line break a space: a title or a place as one line, for what
    was signed before ``_one_line`` refused them (an older server's, a peer's) and is written out again."""
    return LINE_BREAKING.sub(" ", text).strip()


def _capacity(body: Mapping[str, Any], tags: Tags) -> None:
    if body.get("capacity") is not None:
        _digits(body, "capacity", 1, MAX_CAPACITY)


def _against_meetup(rsvp: Message, meetup: Message | None, deleted_by: frozenset[str]) -> None:
    """The store's check of an RSVP against its meetup; one whose meetup is not held yet waits."""
    deleted = Refused("meetup_deleted", "Its organiser has deleted this meetup.")
    wrong = Refused("bad_target", "An RSVP is about a meetup, and names the meetup's organiser as its subject.")
    answers_held(rsvp, meetup, deleted_by, "meetup", deleted=deleted, wrong=wrong)


_RULES = (_times, _zone, _one_line, _capacity)

# Everyone who answered is told of an update, looked at from both ends: the update arrives after their RSVPs, or
# an RSVP dated before the update arrives after it (federation brings messages in any order). An RSVP dated after
# the update answered the updated meetup, and needs no telling.
# CROSS JOIN fixes the join order (SQLite): the batch's side first, the meetup, then what else points at it.
_TOLD = (
    "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT DISTINCT r.author, u.seq, 'meetup_update'"
    " FROM messages {first} CROSS JOIN messages p ON p.id = {first}.target CROSS JOIN messages {then}"
    " ON {then}.target = p.id WHERE {first}.seq BETWEEN :lo AND :hi AND u.kind = 'meetup_update'"
    " AND p.kind = 'meetup' AND {acts} AND r.kind = 'rsvp' AND r.author != u.author"
    " AND (r.created_at, r.id) < (u.created_at, u.id)"
)
NOTICES = tuple(_TOLD.format(first=a, then=b, acts=acts_for_sql("u", "p")) for a, b in (("u", "r"), ("r", "u")))

KINDS = (
    Kind(
        name="meetup",
        body=BODY,
        tags={"group": (0, 1), "hashtag": (0, 20)},
        rules=_RULES,
        removable=True,
        shown_as="itself",  # a timeline entry of its own, shown as first signed; readers ask for its current version
    ),
    Kind(
        name="meetup_update",
        body={**BODY, "status": Field(False, 9, (CANCELLED,))},
        tags={"target": (1, 1)},
        rules=_RULES,
        own_target=True,
        target_kinds=("meetup",),
        with_target=True,
        notices=NOTICES,  # about no message of the notified person's own: the meetup is the organiser's
    ),
    Kind(
        name="rsvp",
        body={"answer": Field(True, 5, ANSWERS)},
        tags={"target": (1, 1), "subject": (1, 1)},
        against_target=_against_meetup,
        handed_in_fresh=True,  # its time decides whether and where it counts
    ),
)


@dataclass(frozen=True, slots=True)
class Held:
    """A meetup as this server holds it: its current version and who answered what."""

    spec: MeetupSpec
    answers: Answers


_MEETUPS_SQL = "SELECT raw FROM messages WHERE kind = 'meetup' AND id IN ({marks})"


def _around_sql() -> str:
    """A meetup's updates and RSVPs that readers are shown (``murmur.kinds.shown_sql``: a device's message waiting for
    its identity's log, or disputed by a fork in it, counts once it is shown). Built when asked: the registry is not
    whole while this module is imported."""
    from murmur.kinds import shown_sql

    return (
        f"SELECT m.raw, m.kind = 'rsvp' OR {acts_for_sql('m', 'p')} FROM messages m"
        " CROSS JOIN messages p ON p.id = m.target"
        f" WHERE m.kind IN ('meetup_update', 'rsvp') AND m.target IN ({{marks}}) AND {shown_sql('m')}"
    )


_LISTED_SQL = "SELECT id FROM messages INDEXED BY messages_by_kind WHERE kind = 'meetup' ORDER BY seq DESC LIMIT ?"
_ANSWERED_SQL = (
    "SELECT DISTINCT target FROM messages INDEXED BY messages_rsvps_by_author"
    " WHERE author IN ({marks}) AND kind = 'rsvp'"
)
_DEVICES_SQL = "SELECT device FROM identity_devices WHERE identity = ?"


async def held_many(store: Store, meetup_ids: Sequence[str]) -> dict[str, Held]:
    """The current version and answers of each meetup held among ``meetup_ids``, read in a few queries whatever
    their number (a list of 200 meetups is not 400 round trips)."""
    from murmur.validate import load_stored  # validation reads the registry, which imports this module

    keys = [bytes.fromhex(i) for i in meetup_ids]
    meetups = [load_stored(bytes(r[0])) for r in await select_in(store.conn, _MEETUPS_SQL, keys)]
    around: dict[str, list[Message]] = {}
    organisers: set[str] = set()  # the updates whose signer acts for their meetup's organiser
    for r in await select_in(store.conn, _around_sql(), [bytes.fromhex(m.id) for m in meetups]):
        message = load_stored(bytes(r[0]))
        around.setdefault(str(message.tag("target")), []).append(message)
        if message.kind == "meetup_update" and r[1]:
            organisers.add(message.id)
    # a person's answers from each of their devices are one person's answer (``Speakers.person``)
    people = await speakers_of(store.conn, [r for mine in around.values() for r in mine if r.kind == "rsvp"], [])
    groups = {g for m in meetups if (g := m.tag("group")) is not None}
    members: dict[str, Member] = {g: await member_at(store.conn, g) for g in sorted(groups)}
    found: dict[str, Held] = {}
    for m in meetups:
        mine = around.get(m.id, [])
        spec = MeetupSpec.of(m, [u for u in mine if u.kind == "meetup_update"], lambda u: u.id in organisers)
        member = members.get(spec.group) if spec.group is not None else None
        found[m.id] = Held(spec, answers(spec, [r for r in mine if r.kind == "rsvp"], member, people.person))
    return found


async def held(store: Store, meetup_id: str) -> Held | None:
    """The meetup's current version and answers; None when no such meetup is held."""
    return (await held_many(store, [meetup_id])).get(meetup_id)


async def listed(store: Store, limit: int = 200) -> list[Held]:
    """The newest meetups held, newest first."""
    async with store.conn.execute(_LISTED_SQL, (limit,)) as cursor:
        ids = [bytes(r[0]).hex() for r in await cursor.fetchall()]
    found = await held_many(store, ids)
    return [found[i] for i in ids if i in found]


async def answered(store: Store, key: str) -> list[Held]:
    """The meetups whose current answer by the person ``key`` names (its identity for a device's key, the
    identity's own id, or a bare key), from any of their devices, is going (placed or waiting) or maybe, by start."""
    person = (await speakers_of(store.conn, [], [key])).holder(key)
    async with store.conn.execute(_DEVICES_SQL, (bytes.fromhex(person),)) as cursor:
        keys = {key, *(bytes(r[0]).hex() for r in await cursor.fetchall())}
    rows = await select_in(store.conn, _ANSWERED_SQL, sorted(bytes.fromhex(k) for k in keys))
    found = (await held_many(store, sorted({bytes(r[0]).hex() for r in rows}))).values()
    mine = (h for h in found if h.answers.of(person) not in (None, "no"))
    return sorted(mine, key=lambda h: (h.spec.start, h.spec.id))


REMIND_BEFORE_MS = 60 * 60 * 1000  # how long before a meetup's start its reminder shows


@dataclass(frozen=True, slots=True)
class Reminders:
    """The meetups a person is reminded of now, by start, and when the next reminder becomes due (None: none)."""

    due: list[Held]
    next_at: int | None


async def reminders(store: Store, key: str, now: int, lead: int = REMIND_BEFORE_MS) -> Reminders:
    """Reminders of the meetups ``key`` answered going (placed or waiting) or maybe: each shows from ``lead``
    before its current start until its end, unless cancelled. Derived when read, from the answers and versions
    held, so a later RSVP of "no", a cancellation or a new time changes them with nothing to undo."""
    coming = [h for h in await answered(store, key) if not h.spec.cancelled and now < h.spec.end]
    due = [h for h in coming if h.spec.start - lead <= now]
    later = [h.spec.start - lead for h in coming if now < h.spec.start - lead]
    return Reminders(due, min(later, default=None))


def meetup_body(
    title: str, *, start: int, end: int, tz: str, place: str = "", capacity: int | None = None, description: str = ""
) -> dict[str, str]:
    """A meetup's body (also an update's, with ``status`` added to cancel); empty optional members are left out."""
    body = {"title": title, "start": str(start), "end": str(end), "tz": tz}
    optional = {"place": place, "description": description, "capacity": "" if capacity is None else str(capacity)}
    return body | {name: value for name, value in optional.items() if value}


def meetup_draft(body: dict[str, str], *, group: str | None = None) -> Draft:
    """A meetup's draft, as the CLI and the tests write it (sign with ``murmur.message``)."""
    return {"kind": "meetup", "body": body, "tags": [["group", group]] if group else []}


def update_draft(spec: MeetupSpec, body: dict[str, str]) -> Draft:
    """A new version of the meetup ``spec`` (its organiser's to sign)."""
    return {"kind": "meetup_update", "body": body, "tags": [["target", spec.id]]}


def rsvp_draft(meetup_id: str, organiser: str, answer: str) -> Draft:
    if answer not in ANSWERS:
        raise Refused("bad_value", f"An RSVP answers {', '.join(ANSWERS)}; not {answer!r}.")
    return {"kind": "rsvp", "body": {"answer": answer}, "tags": [["target", meetup_id], ["subject", organiser]]}
