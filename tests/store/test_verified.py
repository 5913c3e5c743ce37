"""A message that skipped verification never reaches the store as if verified: the type says which it is.

``check`` answers ``Verified`` only when it checked the signature; ``check(verify=False)`` and ``load_stored``
answer a plain ``Message``, which ingest checks again from its bytes, so a forged signature inside one is
refused ``bad_signature`` by every door (one message, a batch large enough for the worker processes, the
server's grouped door).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.message import Message, Verified, sign_draft
from murmur.store import Store
from murmur.store.group import ingest_grouped
from murmur.store.ingest import INLINE_BELOW, IngestResult, Item
from murmur.validate import as_verified, check, load_stored

ROOT = Path(__file__).resolve().parents[2]
# Where a Verified may be made: validation itself, and ingest once murmur.verifier has checked a batch.
MAKERS = {
    ROOT / "murmur" / "validate.py": {"Verified", "as_verified"},
    ROOT / "murmur" / "store" / "ingest.py": {"as_verified"},
}
AUTHOR = Identity.from_seed(bytes(range(3, 35)))
T0 = 1_700_000_000_000


def signed(n: int) -> dict[str, Any]:
    return sign_draft(AUTHOR, {"body": {"text": f"post {n}"}}, created_at=T0 + n)


def forged(n: int) -> dict[str, Any]:
    """A message whose signature is a real one of the same author, for another message: well formed, wrong."""
    return {**signed(n), "sig": signed(n + 10_000)["sig"]}


def test_only_a_checked_signature_makes_a_verified_message() -> None:
    assert type(check(signed(1))) is Verified
    assert type(check(signed(1), verify=False)) is Message
    assert type(check(forged(1), verify=False)) is Message  # its structure is sound: only the signature is not
    assert type(load_stored(check(signed(1)).raw)) is Message
    with pytest.raises(Refused) as refused:
        check(forged(1))
    assert refused.value.code == "bad_signature"
    with pytest.raises(Refused) as refused:
        as_verified(check(forged(1), verify=False), False)
    assert refused.value.code == "bad_signature"


Door = str


async def _ingest(store: Store, door: Door, items: Sequence[Item]) -> list[IngestResult]:
    if door == "grouped":
        return await ingest_grouped(store.writer, items, origin="import")
    return await store.ingest(items)


@pytest.mark.parametrize("door", ["ingest", "grouped"])
@pytest.mark.parametrize("size", [1, INLINE_BELOW * 10], ids=["alone", "in a large batch"])
async def test_a_forged_signature_in_an_unverified_message_is_refused(store: Store, door: Door, size: int) -> None:
    genuine = [check(signed(n), verify=False) for n in range(size - 1)]
    bad = check(forged(size), verify=False)
    results = await _ingest(store, door, [*genuine, bad])
    assert [r.status for r in results] == ["stored"] * (size - 1) + ["refused"]
    assert (results[-1].code, results[-1].id) == ("bad_signature", bad.id)
    assert await store.get_raw(bad.id) is None and await store.count() == size - 1


async def test_an_unverified_message_is_checked_from_its_bytes_not_its_fields(store: Store) -> None:
    """A hand-made Message is only its bytes to ingest: fields that disagree with them change nothing."""
    genuine = check(signed(1), verify=False)
    dressed = dataclasses.replace(genuine, author=Identity.generate().public_key, body={"text": "other words"})
    [result] = await store.ingest([dressed])
    assert (result.status, result.id) == ("stored", genuine.id)
    stored = await store.get(genuine.id)
    assert stored is not None and stored.author == AUTHOR.public_key and stored.body["text"] == "post 1"
    fake_raw = dataclasses.replace(genuine, raw=check(forged(2), verify=False).raw)
    [result] = await store.ingest([fake_raw])
    assert (result.status, result.code, result.id) == ("refused", "bad_signature", forged(2)["id"])


async def test_what_the_store_hands_back_goes_in_again_verified(store: Store, tmp_path: Any) -> None:
    """load_stored skips the signature (the store checked it on the way in); taken elsewhere, it is checked."""
    await store.ingest([signed(1)])
    held = await store.get(signed(1)["id"])
    assert held is not None and not isinstance(held, Verified)
    async with await Store.open(tmp_path / "other.db") as other:
        [result] = await other.ingest([held])
        assert result.status == "stored" and isinstance(result.message, Verified)


def _makes(path: Path) -> set[str]:
    """The names among Verified and as_verified that ``path`` calls."""
    calls = (node for node in ast.walk(ast.parse(path.read_text("utf-8"))) if isinstance(node, ast.Call))
    names = {c.func.id if isinstance(c.func, ast.Name) else getattr(c.func, "attr", "") for c in calls}
    return names & {"Verified", "as_verified"}


def test_only_validation_makes_a_verified_message() -> None:
    shipped = [p for d in ("murmur", "server", "client") for p in sorted((ROOT / d).rglob("*.py"))]
    made = {path: names for path in shipped if (names := _makes(path))}
    assert made and all(names <= MAKERS.get(path, set()) for path, names in made.items()), made


def test_the_check_finds_a_maker(tmp_path: Path) -> None:
    sample = tmp_path / "elsewhere.py"
    sample.write_text("from murmur.message import Verified\nm = Verified(*fields)\nv = validate.as_verified(m, True)\n")
    assert _makes(sample) == {"Verified", "as_verified"}
