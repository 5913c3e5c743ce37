"""A reader's check of an open letter from the raw signed messages the server holds: each signature and each
withdrawal is checked here as any server would (``murmur.client.recount.checked_messages``), and the count is made
by the same rule as the server's (``murmur.kinds.letter_count``). What the server says and what the check finds
are shown side by side; a difference is a finding, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from murmur.client.api import MurmurClient
from murmur.client.recount import checked_messages
from murmur.client.verify import verified
from murmur.errors import Refused
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


def check_letter(signed: dict[str, Any], letter_id: str) -> Checked:
    """The count that holds, from ``GET /api/v1/letters/{id}/signed``; raises Refused when the letter itself does
    not check or is another message than the one asked for."""
    letters, _ = checked_messages([signed.get("letter")])
    if not letters or letters[0].kind != "letter" or letters[0].id != letter_id:
        raise Refused("bad_answer", "The server's copy of the letter does not check as the signed letter asked for.")
    spec = LetterSpec.of(letters[0])
    signatures, bad_signatures = checked_messages(list(signed.get("signatures") or []))
    withdrawals, bad_withdrawals = checked_messages(list(signed.get("withdrawals") or []))
    found = count(spec, signatures, withdrawals)
    return Checked(spec, found, bad_signatures + bad_withdrawals, tuple(signatures), tuple(withdrawals))


def to_withdraw(checked: Checked, key: str) -> list[str]:
    """The ids of ``key``'s signatures on the letter not withdrawn yet: withdrawing is deleting each of them, so
    that none of them stands (each person counts by their latest signature not withdrawn)."""
    mine = [s for s in checked.signatures if s.author == key]
    return sorted({s.id for s in mine} - withdrawn(checked.spec, mine, checked.withdrawals))


async def signed_letter(api: MurmurClient, wanted: str) -> Message:
    """The letter an id (or a unique prefix of one) names, checked here: a server cannot swap in another text."""
    message = await api.message(wanted)
    if not verified(message) or message.get("kind") != "letter" or not str(message.get("id")).startswith(wanted):
        raise Refused("not_found", "That message is not a letter that checks.")
    return check(message, now=None)
