"""The one rule for "the same name", and the store's index of it (filled by ingest and by the migration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.names import name_key
from murmur.store import Store
from murmur.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.schema_at import database_at


@pytest.mark.parametrize(
    "one,other",
    [
        ("Ada", "ada"),
        ("Ada", "ＡＤＡ"),
        ("Ada", "A\u200bda"),
        ("Ada", " Ada  "),
        ("Ada Lovelace", "Ada\u00a0Lovelace"),
        ("Ada", "Ada\u3164"),
        ("Ada", "\u2066Ada\u2069"),
        ("Ada", "A\ufe0eda"),
    ],
)
def test_names_that_read_alike_have_one_key(one: str, other: str) -> None:
    assert name_key(one) == name_key(other)


# "Ада" is a Cyrillic name, not a disguise: its д is drawn like no Latin letter, so by UTS #39's rule (equal
# skeletons, tests/store/test_homoglyph_names.py) it is not confusable with "Ada", and is not flagged.
@pytest.mark.parametrize("one,other", [("Ada", "Adam"), ("Ada", "A da"), ("Ada", "Ада")])
def test_different_names_keep_different_keys(one: str, other: str) -> None:
    assert name_key(one) != name_key(other)


def profile(who: Identity, name: str, at: int = 1_700_000_000_000) -> dict:  # type: ignore[type-arg]
    return sign_draft(who, {"kind": "profile", "body": {"name": name}}, created_at=at)


async def test_a_database_from_before_the_index_is_filled_when_opened(tmp_path: Path) -> None:
    full, path = tmp_path / "full.db", tmp_path / "old.db"
    ada, twin = Identity.from_seed(b"\x01" * 32), Identity.from_seed(b"\x02" * 32)
    store = await Store.open(full)
    await store.ingest([profile(ada, "Ada"), profile(twin, "A\u200bDA")], origin="local", now=2**53 - 1)
    await store.close()
    # The schema before the name index, as an older murmur left it, holding the same rows.
    before = next(i for i, script in enumerate(MIGRATIONS) if "profiles_by_name_key" in script)
    database_at(before, full, path)
    assert before < SCHEMA_VERSION
    store = await Store.open(path)
    try:
        assert await store.shared_names([ada.public_key, twin.public_key]) == {ada.public_key, twin.public_key}
    finally:
        await store.close()
