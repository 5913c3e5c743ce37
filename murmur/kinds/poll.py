"""A poll, and a ballot in it: opinion gathered in the open, recountable by any server or reader.

A poll is a public message with a question, 2 to 10 options (its ``options`` member, one per line), single or
multiple choice (``multiple``: ``yes``/``no``), and the time it closes (``closes``: ms since the epoch, as
decimal digits). Addressed to a group (a ``group`` tag), only the ballots of the group's members count: a member
at the ballot's time, by the group's fold, so a thousand fresh keys cannot stuff a group's poll. Its author may
delete it.

A ballot names the poll (``target``) and its author (``subject``), and the options chosen, 1-based, in
increasing order (``choices``: ``"2"``, ``"1,3"``). Ballots are signed, so they are open: whoever holds them
sees who chose what. Each person's last ballot before the close counts (``murmur.kinds.poll_tally``). When the
poll is held, the store refuses a ballot that cannot count: cast at or after the close (``poll_closed``),
naming an option the poll lacks or several in a single-choice poll (``bad_option``), about a message that is not
a poll or naming someone else as its author (``bad_target``). A ballot on a poll its author deleted is refused
(``poll_deleted``). A ballot that arrives before its poll waits, as an edit does, and is judged by the tally
once the poll is held. A ballot is not deleted: a change of mind is a new ballot.

Readers: ``results`` (the server's figures, remembered until a ballot on the poll, a message of its group or the
membership kept for it changes: ``murmur.kinds.remembered``) and ``signed`` (the poll, its ballots and its group's
messages as signed, for a recount).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from murmur.errors import Refused
from murmur.kinds.base import Field, Kind, Tags, answers_held
from murmur.kinds.group_state import logged_sql, member_at, speakers_of, speaking_rows
from murmur.kinds.poll_tally import PollSpec, Tally, choices_of, fault, options_of, tally
from murmur.kinds.remembered import Remembered, fingerprint
from murmur.message import Message

if TYPE_CHECKING:  # the store imports the registry, and so this module
    from murmur.store import Store

Draft = dict[str, Any]
MIN_OPTIONS, MAX_OPTIONS, LONGEST_OPTION = 2, 10, 100


def _options(body: Mapping[str, Any], tags: Tags) -> None:
    options = options_of(body["options"])
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        got = len(options)
        raise Refused("bad_value", f"A poll has {MIN_OPTIONS} to {MAX_OPTIONS} options, one per line; got {got}.")
    if any(not o.strip() or len(o) > LONGEST_OPTION for o in options):
        raise Refused("bad_value", f"Each option of a poll is 1 to {LONGEST_OPTION} characters, not blank.")
    if len(set(options)) != len(options):
        raise Refused("bad_value", "A poll's options are all different.")


def _closes(body: Mapping[str, Any], tags: Tags) -> None:
    closes = body["closes"]
    if not (closes.isascii() and closes.isdigit() and (closes == "0" or closes[0] != "0")):
        raise Refused("bad_value", "closes is the time the poll closes, in ms since the epoch, as decimal digits.")


def _choices(body: Mapping[str, Any], tags: Tags) -> None:
    if choices_of(body["choices"]) is None:
        raise Refused("bad_value", 'choices are option numbers from 1, increasing, separated by commas ("1,3").')


def _against_poll(ballot: Message, poll: Message | None, deleted_by: frozenset[str]) -> None:
    """The store's check of a ballot against its poll, when the poll is held or known to be deleted; a ballot whose
    poll is not held yet waits, and the tally judges it once the poll comes."""
    deleted = Refused("poll_deleted", "Its author has deleted this poll.")
    wrong = Refused("bad_target", "A ballot is about a poll, and names the poll's author as its subject.")
    if answers_held(ballot, poll, deleted_by, "poll", deleted=deleted, wrong=wrong):
        assert poll is not None
        if (found := fault(PollSpec.of(poll), ballot)) is not None:
            raise found


KINDS = (
    Kind(
        name="poll",
        body={
            "question": Field(True, 300),
            "options": Field(True, MAX_OPTIONS * (LONGEST_OPTION + 1)),
            "multiple": Field(True, 3, ("yes", "no")),
            "closes": Field(True, 16),
        },
        tags={"group": (0, 1), "hashtag": (0, 20)},
        rules=(_options, _closes),
        removable=True,
        shown_as="itself",  # a timeline entry of its own: followers meet it at home
    ),
    Kind(
        name="ballot",
        body={"choices": Field(True, 29)},
        tags={"target": (1, 1), "subject": (1, 1)},
        rules=(_choices,),
        against_target=_against_poll,
        handed_in_fresh=True,  # its time decides whether and where it counts
    ),
)


@dataclass(frozen=True, slots=True)
class Results:
    spec: PollSpec
    tally: Tally


@dataclass(frozen=True, slots=True)
class Signed:
    """What a recount needs, as signed: the poll, every ballot on it, and its group's messages (if any)."""

    poll: bytes
    ballots: tuple[bytes, ...]
    group: tuple[bytes, ...]


_POLL_SQL = "SELECT raw FROM messages WHERE id = ? AND kind = 'poll'"


def _ballots_sql() -> str:
    """The ballots that count are those readers are shown (``murmur.kinds.shown_sql``: a device's ballot waiting
    for its identity's log, or disputed by a fork in it, counts once it is shown), for the server's figures and for
    a reader's recount alike. Built when asked: the registry is not whole while this module is imported."""
    from murmur.kinds import shown_sql

    return f"SELECT m.raw FROM messages m WHERE m.target = ? AND m.kind = 'ballot' AND {shown_sql('m')} ORDER BY m.seq"


def _group_sql() -> str:
    """The group's creation and the messages of it that count (``logged_sql``), as the server folds them."""
    return (
        "SELECT m.raw FROM messages m WHERE m.id = ? AND m.kind = 'group'"
        f" UNION ALL {logged_sql('m.raw')} AND m.kind != 'group'"
    )


async def signed(store: Store, poll_id: str) -> Signed | None:
    """The poll, its ballots and its group's messages as signed; None when no such poll is held."""
    from murmur.validate import load_stored  # validation reads the registry, which imports this module

    key = bytes.fromhex(poll_id)
    async with store.conn.execute(_POLL_SQL, (key,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    poll = bytes(row[0])
    async with store.conn.execute(_ballots_sql(), (key,)) as cursor:
        ballots = tuple(bytes(r[0]) for r in await cursor.fetchall())
    group: tuple[bytes, ...] = ()
    if (grp := load_stored(poll).tag("group")) is not None:
        async with store.conn.execute(_group_sql(), (bytes.fromhex(grp), bytes.fromhex(grp))) as cursor:
            group = tuple(bytes(r[0]) for r in await cursor.fetchall())
    return Signed(poll, ballots, group)


# What a tally is counted from: the poll never changes, so its ballots and, for a group poll, the spans of membership
# it reads (``groups_spans``) are all that can move it. The group's messages are in it too, so that a refold that
# swaps one span for another of the same times is seen; the spans, so that the server's figure follows its kept
# state whatever changed it (a recount that differs is then shown: ``murmur poll results --verify``). Which ballots
# readers are shown is in it too (``murmur.kinds.shown_fingerprint``), so that a settled fork recounts; and the
# voters' device spans (``speaking_rows``), so that a voter's devices taken as one person follow their log.
def _ballot_rows() -> str:
    from murmur.kinds import shown_fingerprint

    return (
        f"SELECT count(*), max(m.seq), {shown_fingerprint('m')} FROM messages m"
        " WHERE m.target = ? AND m.kind = 'ballot'"
    )


_GROUP_ROWS = (
    "SELECT count(*), max(seq) FROM groups_log WHERE grp = ?",
    "SELECT count(*), coalesce(sum(start_at), 0), coalesce(sum(end_at), 0), count(end_at)"
    " FROM groups_spans WHERE grp = ?",
)
_TALLIES: Remembered[Tally] = Remembered()


async def results(store: Store, poll_id: str) -> Results | None:
    """The server's figures for the poll: its stored ballots, restricted to the group's members by the group's
    kept state (``groups_spans``); None when no such poll is held. Tallied again only when its ballots or its
    group's messages changed since the last time (``murmur.kinds.remembered``)."""
    from murmur.validate import load_stored

    key = bytes.fromhex(poll_id)
    async with store.conn.execute(_POLL_SQL, (key,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    spec = PollSpec.of(load_stored(bytes(row[0])))
    group = [(sql, (bytes.fromhex(spec.group),)) for sql in _GROUP_ROWS] if spec.group is not None else []
    voters = speaking_rows("m.target = ? AND m.kind = 'ballot'")
    seen = await fingerprint(store.conn, [(_ballot_rows(), (key,)), (voters, (key,)), *group])

    async def recount() -> Tally:
        async with store.conn.execute(_ballots_sql(), (key,)) as cursor:
            ballots = [load_stored(bytes(r[0])) for r in await cursor.fetchall()]
        member = await member_at(store.conn, spec.group) if spec.group is not None else None
        people = await speakers_of(store.conn, ballots, [])  # a person's ballots from each device are one voter's
        return tally(spec, ballots, member, people.person)

    return Results(spec, await _TALLIES.get(store, poll_id, seen, recount))


def ballot_body(spec: PollSpec, picked: list[str]) -> dict[str, str]:
    """A ballot's body from options given by number (1-based) or by text; raises Refused naming what is unknown."""
    numbers: set[int] = set()
    for p in picked:
        if p.isascii() and p.isdigit() and 1 <= int(p) <= len(spec.options):
            numbers.add(int(p))
        elif p in spec.options:
            numbers.add(spec.options.index(p) + 1)
        else:
            count = len(spec.options)
            raise Refused("bad_option", f"The poll has no option {p!r}: give its number (1 to {count}) or its text.")
    if not numbers:
        raise Refused("bad_option", "Choose at least one option.")
    if len(numbers) > 1 and not spec.multiple:
        raise Refused("bad_option", "This poll takes one choice.")
    return {"choices": ",".join(str(n) for n in sorted(numbers))}


def poll_draft(question: str, options: list[str], *, closes_at: int, multiple: bool, group: str | None) -> Draft:
    """A poll's draft, as the CLI, the TUI and the tests write it (sign with ``murmur.message``)."""
    body = {"question": question, "options": "\n".join(options), "multiple": "yes" if multiple else "no"}
    return {"kind": "poll", "body": {**body, "closes": str(closes_at)}, "tags": [["group", group]] if group else []}


def ballot_draft(poll: Message, picked: list[str]) -> Draft:
    """A ballot's draft for the options ``picked`` (numbers from 1, or texts) of ``poll``; raises Refused."""
    return {
        "kind": "ballot",
        "body": ballot_body(PollSpec.of(poll), picked),
        "tags": [["target", poll.id], ["subject", poll.author]],
    }
