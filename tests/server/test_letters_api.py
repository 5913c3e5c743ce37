"""The letter routes in-process: the server's count and signers (names with fingerprints), the letter with its
signatures and withdrawals as signed, and a check from them that agrees, or shows the difference when the
server's copy was tampered with."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError, MurmurClient
from murmur.client.letter_check import check_letter
from murmur.jcs import canonicalize
from murmur.keys import Identity, fingerprint
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.message import sign_draft
from murmur.validate import check
from tests.server.conftest import Harness, handed_in_at


async def publish(api: MurmurClient, draft: dict[str, Any], **kw: Any) -> dict[str, Any]:
    message = sign_draft(api.identity, draft, **kw)
    result = await api.publish(message)
    assert result["status"] == "stored", result
    return message


def a_letter(
    text: str = "Please.", *, ends_in: int | None = 3_600_000, previous: str | None = None, at: int | None = None
) -> dict[str, Any]:
    """A letter whose deadline is ``ends_in`` ms after ``at`` (now by default): sign it dated ``at`` when the
    deadline must fall after its own time, as a loaded machine can take more than ``ends_in`` to sign it."""
    start = int(time.time() * 1000) if at is None else at
    deadline = start + ends_in if ends_in is not None else None
    return letter_draft("Four-day week", "the board", text, deadline=deadline, previous=previous)


def ending_at_once() -> tuple[dict[str, Any], int]:
    """A letter ending a millisecond after its own time, and that time."""
    at = int(time.time() * 1000)
    return a_letter(ends_in=1, at=at), at


def withdrawal(signature: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "delete", "body": {}, "tags": [["target", signature["id"]]]}


def forge_signature(db_path: Path, letter_id: str, signer: Identity) -> None:
    """A signature made up behind the signed messages, straight into the server's file: no key made its
    signature, yet a server that trusts its own rows counts it. The letter must already hold one signature."""
    with sqlite3.connect(db_path) as db:
        [raw] = db.execute("SELECT raw FROM messages WHERE id = ?", (bytes.fromhex(letter_id),)).fetchone()
        letter = check(bytes(raw), now=None)
        forged = {**sign_draft(signer, signature_draft(letter)), "sig": "00" * 64}
        columns = [d[0] for d in db.execute("SELECT * FROM messages LIMIT 0").description]
        row = dict(zip(columns, db.execute("SELECT * FROM messages WHERE kind = 'signature'").fetchone(), strict=True))
        row |= {"seq": None, "id": bytes.fromhex(forged["id"]), "author": bytes.fromhex(forged["author"])}
        row |= {"target": bytes.fromhex(letter_id), "raw": canonicalize(forged)}
        db.execute(f"INSERT INTO messages ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))


async def test_count_and_signers_with_names_notes_and_a_withdrawal(server: Harness) -> None:
    ann, ben, cat, dan = [await server.member() for _ in range(4)]
    await publish(ben, {"kind": "profile", "body": {"name": "Ben"}, "tags": []})
    letter = check(await publish(ann, a_letter()))
    await publish(ben, signature_draft(letter, "first"))
    await publish(ben, signature_draft(letter, "changed my note"))  # still one person
    dans = await publish(dan, signature_draft(letter))
    await publish(cat, signature_draft(letter))
    await publish(dan, withdrawal(dans))
    found = await cat.letter(letter.id[:12])
    assert (found["count"], found["title"], found["to"], found["closed"]) == (2, "Four-day week", "the board", False)
    ben_key = ben.identity.public_key
    shown = {s["key"]: (s["name"], s["fingerprint"], s["note"]) for s in found["signers"]}
    assert shown == {
        ben_key: ("Ben", fingerprint(ben_key), "changed my note"),
        cat.identity.public_key: ("", fingerprint(cat.identity.public_key), ""),
    }
    held = check_letter(await cat.letter_signed(letter.id), letter.id)
    assert (held.count.count, held.invalid, len(held.signatures), len(held.withdrawals)) == (2, 0, 4, 1)


async def test_a_signature_after_the_deadline_is_refused_with_its_reason(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    draft, at = ending_at_once()
    letter = check(await publish(ann, draft, created_at=at))
    late = sign_draft(ben.identity, signature_draft(letter), created_at=int(letter.body["deadline"]))
    with pytest.raises(ApiError) as refused:
        await ben.publish(late)
    assert refused.value.code == "letter_closed" and "deadline" in str(refused.value)


async def test_a_withdrawal_dated_after_the_deadline_withdraws_nothing(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    draft, at = ending_at_once()
    letter = check(await publish(ann, draft, created_at=at))  # ends a millisecond after its own time
    with handed_in_at(letter.created_at):  # handed in at once: the door judges a signature as of then too
        signature = await publish(ben, signature_draft(letter), created_at=letter.created_at)
    await publish(ben, withdrawal(signature))  # dated now: past the deadline
    assert (await ben.letter(letter.id))["count"] == 1
    assert (await ben.letter(letter.id))["closed"] is True


async def test_a_new_version_starts_its_own_count_and_both_say_so(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    old = check(await publish(ann, a_letter()))
    await publish(ben, signature_draft(old))
    new = check(await publish(ann, a_letter("Please, from June.", previous=old.id)))
    renewed, before = await ben.letter(new.id), await ben.letter(old.id)
    assert (renewed["count"], renewed["previous"], renewed["newer"]) == (0, old.id, [])
    assert (before["count"], before["newer"]) == (1, [new.id])
    with pytest.raises(ApiError) as refused:
        await ben.publish(sign_draft(ben.identity, a_letter("Mine.", previous=old.id)))
    assert refused.value.code == "not_author"


async def test_a_tampered_server_count_differs_from_the_check(server: Harness, tmp_path: Path) -> None:
    ann, ben, cat = await server.member(), await server.member(), await server.member()
    letter = check(await publish(ann, a_letter()))
    await publish(ben, signature_draft(letter))
    forge_signature(tmp_path / "server.db", letter.id, cat.identity)  # Cat never signed
    assert (await cat.letter(letter.id))["count"] == 2
    held = check_letter(await cat.letter_signed(letter.id), letter.id)
    assert (held.count.count, held.invalid) == (1, 1)


@pytest.mark.parametrize("path", ["letters/{id}", "letters/{id}/signed"])
async def test_what_is_not_a_letter_is_not_found(server: Harness, path: str) -> None:
    ann = await server.member()
    post = await publish(ann, {"kind": "post", "body": {"text": "hi"}, "tags": []})
    for asked in (post["id"], "ab" * 32):
        with pytest.raises(ApiError) as missing:
            await ann.request("GET", "/api/v1/" + path.format(id=asked))
        assert missing.value.code == "not_found"
    with pytest.raises(ApiError) as malformed:
        await ann.request("GET", "/api/v1/" + path.format(id="not-hex"))
    assert malformed.value.status == 400
