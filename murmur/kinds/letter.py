"""An open letter, and a signature on it: many voices speaking in public, counted by anyone who holds them.

A letter is a public message with a ``title``, the addressees (``to``, free text: "the leadership team") and its
``text``, and optionally a signing ``deadline`` (ms since the epoch, as decimal digits). Its author may delete it.
A letter's text never changes: a new version is a new letter whose ``target`` names the version it replaces (the
author's own letter, as an edit names its post), and it starts a count of its own.

A signature names the one version signed (``target``, the id binding its exact text) and the letter's author
(``subject``), with an optional ``note``. A signer withdraws by deleting their signature; the signature is kept (it
is not removable) and the delete beside it, so that whether the delete came before the deadline is decided from
the two signed times by the counting rule (``murmur.kinds.letter_count``). When the letter is held, the store
refuses a signature that cannot stand: dated at or after the deadline (``letter_closed``), about a message that is
not a letter or naming someone else as its author (``bad_target``); on a letter its author deleted,
``letter_deleted``. A signature that arrives before its letter waits and is judged by the count once it is held.
The letter's author is told of each signature (notice kind ``signature``) until its signer deletes it.

Readers: ``standing`` (the server's count and the letter's versions; the count is remembered until a signature or
a withdrawal on the letter comes or goes: ``murmur.kinds.remembered``) and ``signed`` (the letter, its signatures
and their withdrawals as signed, for a check).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from murmur.errors import Refused
from murmur.kinds.acting import acts_for_sql
from murmur.kinds.base import Field, Kind, Tags, answers_held
from murmur.kinds.batch import batch
from murmur.kinds.group_state import speakers_of, speaking_rows
from murmur.kinds.letter_count import Count, LetterSpec, count, fault
from murmur.kinds.remembered import Remembered, fingerprint
from murmur.message import Message

if TYPE_CHECKING:  # the store imports the registry, and so this module
    from murmur.store import Store

Draft = dict[str, Any]
LONGEST_TEXT = 10_000


def _deadline(body: Mapping[str, Any], tags: Tags) -> None:
    deadline = body.get("deadline")
    digits = deadline is None or (deadline.isascii() and deadline.isdigit() and (deadline == "0" or deadline[0] != "0"))
    if not digits:
        raise Refused("bad_value", "deadline is the time signing ends, in ms since the epoch, as decimal digits.")


def _not_blank(body: Mapping[str, Any], tags: Tags) -> None:
    if not (body["title"].strip() and body["to"].strip() and body["text"].strip()):
        raise Refused("bad_value", "A letter has a title, addressees (to) and a text, none of them blank.")


def _against_letter(signature: Message, letter: Message | None, deleted_by: frozenset[str]) -> None:
    """The store's check of a signature against the letter version it names, when held or known to be deleted;
    one not held yet waits, and the count judges it once the letter comes."""
    deleted = Refused("letter_deleted", "Its author has deleted this letter.")
    wrong = Refused("bad_target", "A signature is about a letter, and names the letter's author as its subject.")
    if answers_held(signature, letter, deleted_by, "letter", deleted=deleted, wrong=wrong):
        assert letter is not None
        if (found := fault(LetterSpec.of(letter), signature)) is not None:
            raise found

# The letter's author hears of each signature, looked at from both ends (a signature can arrive before the letter
# version it names). A signature its signer deleted stops being told (``notice_holds``): the delete is beside it.
# CROSS JOIN fixes the join order: the batch's seq range first, then an index look-up on the other side.
# From the letter's end the batch is ``murmur.kinds.batch``'s subquery, so that PostgreSQL probes the target index.
_TOLD = (
    "INSERT INTO notices (key, seq, kind) SELECT l.author, s.seq, 'signature' FROM {pair}"
    " WHERE s.kind = 'signature' AND l.kind = 'letter' AND l.author = s.subject"
    " AND l.author != s.author ON CONFLICT (key, seq) DO NOTHING"
)
NOTICES = (
    _TOLD.format(pair="messages s CROSS JOIN messages l ON l.id = s.target AND s.seq BETWEEN :lo AND :hi"),
    _TOLD.format(pair=f"{batch('id', 'author', 'kind')} l CROSS JOIN messages s ON s.target = l.id"),
)
STANDS = (
    "NOT EXISTS (SELECT 1 FROM messages d WHERE d.target = m.id AND d.kind = 'delete'"
    f" AND {acts_for_sql('d', 'm')})"
)

KINDS = (
    Kind(
        name="letter",
        body={
            "title": Field(True, 200),
            "to": Field(True, 300),
            "text": Field(True, LONGEST_TEXT),
            "deadline": Field(False, 16),
        },
        tags={"target": (0, 1)},
        rules=(_not_blank, _deadline),
        removable=True,
        own_target=True,  # a new version names its author's own earlier letter
        target_kinds=("letter",),
    ),
    Kind(
        name="signature",
        body={"note": Field(False, 500)},
        tags={"target": (1, 1), "subject": (1, 1)},
        against_target=_against_letter,
        handed_in_fresh=True,  # its time decides whether and where it counts
        notices=NOTICES,
        notice_about={"signature": "target"},
        notice_holds={"signature": STANDS},
    ),
)


@dataclass(frozen=True, slots=True)
class Signed:
    """What a check needs, as signed: the letter version, every signature on it, and the deletes of those."""

    letter: bytes
    signatures: tuple[bytes, ...]
    withdrawals: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Standing:
    spec: LetterSpec
    count: Count
    newer: tuple[str, ...]  # the versions replacing this one that its author signed, held here


_LETTER_SQL = "SELECT raw FROM messages WHERE id = ? AND kind = 'letter'"


# The signatures that count, and the withdrawals that take them back, are those readers are shown
# (``murmur.kinds.shown_sql``: a device's message waiting for its identity's log, or disputed by a fork in it, counts
# once it is shown), for the server's count and a reader's check alike. Built when asked: the registry is not whole
# while this module is imported.
def _signatures_sql() -> str:
    from murmur.kinds import shown_sql

    return (
        f"SELECT s.raw FROM messages s WHERE s.target = ? AND s.kind = 'signature' AND {shown_sql('s')} ORDER BY s.seq"
    )


def _withdrawals_sql() -> str:
    from murmur.kinds import shown_sql

    return (
        "SELECT d.raw FROM messages s CROSS JOIN messages d ON d.target = s.id AND d.kind = 'delete'"
        f" WHERE s.target = ? AND s.kind = 'signature' AND {shown_sql('s')} AND {shown_sql('d')} ORDER BY d.seq"
    )


# The versions replacing a letter that its author signed, from any of their devices (murmur.kinds.acting).
_NEWER_SQL = (
    "SELECT n.id FROM messages p CROSS JOIN messages n ON n.target = p.id AND n.kind = 'letter'"
    f" WHERE p.id = ? AND {acts_for_sql('n', 'p')} ORDER BY n.created_at, n.id"
)


_SIGNATURE_IDS = "SELECT s.id FROM messages s WHERE s.target = ? AND s.kind = 'signature'"


# What a count is counted from, read from the indexes alone: the letter's text never changes (a new version is a new
# letter), so its signatures and their deletes, and which of them readers are shown, are all that can move it; and
# whom their signers speak for (``speaking_rows``), since each person counts once, whichever device signed.
def _held_rows() -> tuple[str, ...]:
    from murmur.kinds import shown_fingerprint

    return (
        f"SELECT count(*), max(s.seq), {shown_fingerprint('s')} FROM messages s"
        " WHERE s.target = ? AND s.kind = 'signature'",
        f"SELECT count(*), max(d.seq), {shown_fingerprint('s')}, {shown_fingerprint('d')} FROM messages s"
        " CROSS JOIN messages d ON d.target = s.id AND d.kind = 'delete' WHERE s.target = ? AND s.kind = 'signature'",
        speaking_rows("m.target = ? AND m.kind = 'signature'"),
        speaking_rows(f"m.kind = 'delete' AND m.target IN ({_SIGNATURE_IDS})"),
    )


_COUNTS: Remembered[Count] = Remembered()


async def _raws(store: Store, sql: str, key: bytes) -> tuple[bytes, ...]:
    async with store.conn.execute(sql, (key,)) as cursor:
        return tuple(bytes(r[0]) for r in await cursor.fetchall())


async def signed(store: Store, letter_id: str) -> Signed | None:
    """The letter version, its signatures and their deletes as signed; None when no such letter is held."""
    key = bytes.fromhex(letter_id)
    letter = await _raws(store, _LETTER_SQL, key)
    if not letter:
        return None
    return Signed(letter[0], await _raws(store, _signatures_sql(), key), await _raws(store, _withdrawals_sql(), key))


async def standing(store: Store, letter_id: str) -> Standing | None:
    """The server's count for the letter version, from the signatures it holds; None when no such letter is held.
    Counted again only when its signatures or their deletes changed since the last count (``murmur.kinds.remembered``).
    """
    from murmur.validate import load_stored  # validation reads the registry, which imports this module

    key = bytes.fromhex(letter_id)
    letter = await _raws(store, _LETTER_SQL, key)
    if not letter:
        return None
    spec = LetterSpec.of(load_stored(letter[0]))
    seen = await fingerprint(store.conn, [(sql, (key,)) for sql in _held_rows()])

    async def recount() -> Count:
        signatures = await _raws(store, _signatures_sql(), key)
        withdrawals = await _raws(store, _withdrawals_sql(), key)
        held = [load_stored(r) for r in signatures]
        deletes = [load_stored(r) for r in withdrawals]
        people = await speakers_of(store.conn, [*held, *deletes], [])  # a person's devices sign and withdraw as one
        return count(spec, held, deletes, people.person)

    found = await _COUNTS.get(store, letter_id, seen, recount)
    async with store.conn.execute(_NEWER_SQL, (bytes.fromhex(spec.id),)) as cursor:
        newer = tuple(bytes(r[0]).hex() for r in await cursor.fetchall())
    return Standing(spec, found, newer)


def letter_draft(title: str, to: str, text: str, *, deadline: int | None = None, previous: str | None = None) -> Draft:
    """A letter's draft, as the CLI and the tests write it (sign with ``murmur.message``); ``previous`` is the
    version it replaces."""
    body = {"title": title, "to": to, "text": text} | ({"deadline": str(deadline)} if deadline is not None else {})
    return {"kind": "letter", "body": body, "tags": [["target", previous]] if previous else []}


def signature_draft(letter: Message, note: str | None = None) -> Draft:
    """A signature's draft on exactly this version of ``letter``."""
    return {
        "kind": "signature",
        "body": {"note": note} if note else {},
        "tags": [["target", letter.id], ["subject", letter.author]],
    }
