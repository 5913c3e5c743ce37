"""A reader's check of an open letter from the raw signed messages the server holds: each signature and each
withdrawal is checked here as any server would (``murmur.client.recount.checked_messages``), and the count is made
by the same rule as the server's (``murmur.kinds.letter_count``), each signer counted as the person their device
speaks for by the identity logs this device resolves (``murmur.client.group_authority.group_speakers``). What the
server says and what the check finds are shown side by side; a difference is a finding, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from murmur.client.api import MurmurClient
from murmur.client.group_authority import group_speakers, voices
from murmur.client.recount import checked_messages
from murmur.client.verify import verified
from murmur.errors import Refused
from murmur.kinds.group_speakers import KEYS, Speakers
from murmur.kinds.letter_count import Count, LetterSpec, count, withdrawn
from murmur.message import Message
from murmur.validate import check


@dataclass(frozen=True, slots=True)
class Checked:
    spec: LetterSpec
    count: Count
    invalid: int  # signatures and withdrawals the server handed over that did not check: left out
    signatures: tuple[Message, ...]  # those that checked
    withdrawals: tuple[Message, ...]
    speakers: Speakers = KEYS  # whom the signers' keys speak for


async def fetch_checked(api: MurmurClient, letter_id: str) -> Checked:
    """``check_letter`` of the letter's signed messages as its server hands them over, each signer the person the
    identity logs this device resolves say they are."""
    signed = await api.letter_signed(letter_id)
    held, _ = checked_messages([*(signed.get("signatures") or []), *(signed.get("withdrawals") or [])])
    return check_letter(signed, letter_id, await group_speakers(api, [], voices(held)))


def check_letter(signed: dict[str, Any], letter_id: str, speakers: Speakers = KEYS) -> Checked:
    """The count that holds, from ``GET /api/v1/letters/{id}/signed``; raises Refused when the letter itself does
    not check or is another message than the one asked for. ``speakers``: whom the signers' keys speak for, so that
    a person counts once whichever of their devices signed or withdrew."""
    letters, _ = checked_messages([signed.get("letter")])
    if not letters or letters[0].kind != "letter" or letters[0].id != letter_id:
        raise Refused("bad_answer", "The server's copy of the letter does not check as the signed letter asked for.")
    spec = LetterSpec.of(letters[0])
    signatures, bad_signatures = checked_messages(list(signed.get("signatures") or []))
    withdrawals, bad_withdrawals = checked_messages(list(signed.get("withdrawals") or []))
    found = count(spec, signatures, withdrawals, speakers.person)
    return Checked(spec, found, bad_signatures + bad_withdrawals, tuple(signatures), tuple(withdrawals), speakers)


def to_withdraw(checked: Checked, key: str) -> list[str]:
    """The ids of the signatures on the letter not withdrawn yet by the person signing with ``key``, from any of
    their devices: withdrawing is deleting each of them, so that none of them stands (each person counts by their
    latest signature not withdrawn)."""
    person, speaks = checked.speakers.holder(key), checked.speakers.person
    mine = [s for s in checked.signatures if s.author == key or speaks(s.author, s.created_at) == person]
    gone = withdrawn(checked.spec, mine, checked.withdrawals, speaks)
    return sorted({s.id for s in mine} - gone)


async def signed_letter(api: MurmurClient, wanted: str) -> Message:
    """The letter an id (or a unique prefix of one) names, checked here: a server cannot swap in another text."""
    message = await api.message(wanted)
    if not verified(message) or message.get("kind") != "letter" or not str(message.get("id")).startswith(wanted):
        raise Refused("not_found", "That message is not a letter that checks.")
    return check(message, now=None)
