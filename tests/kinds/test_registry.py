"""The registry is the one place that names kinds: validation, the store and its schema follow it."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import aiosqlite
import pytest

from murmur import kinds, validate
from murmur.errors import Refused
from murmur.keys import Identity
from murmur.kinds.base import Field, Kind
from murmur.message import sign_draft
from murmur.store import Store
from murmur.store import db as store_db

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_is_registered_once_under_its_own_name() -> None:
    assert all(name == k.name for name, k in kinds.REGISTRY.items())
    assert tuple(kinds.REGISTRY) == validate.KINDS
    assert set(kinds.TAG_FORMS) >= {tag for k in kinds.REGISTRY.values() for tag in k.tags}


def test_no_module_outside_the_kinds_names_a_kind_in_a_branch() -> None:
    """Validation and ingest consult the registry; a kind's name in them would be a rule kept twice."""
    for path in (ROOT / "murmur" / "validate.py", ROOT / "murmur" / "message.py"):
        text = path.read_text()
        for name in ("reaction", "boost", "follow", "unfollow", "profile"):
            assert f'kind == "{name}"' not in text, f"{path.name} branches on the {name} kind"


async def test_a_kind_brings_its_own_tables_and_they_are_made_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = Kind(
        name="note",
        body={"text": Field(True, 10)},
        migrations=(
            "CREATE TABLE note_state (id BLOB PRIMARY KEY);",
            "ALTER TABLE note_state ADD COLUMN at INTEGER NOT NULL DEFAULT 0;",
        ),
    )
    monkeypatch.setattr(store_db, "REGISTRY", {**kinds.REGISTRY, "note": notes})
    path = tmp_path / "murmur.db"
    for _ in range(2):  # the second open finds both already done and runs nothing again
        async with await Store.open(path):
            pass
    async with aiosqlite.connect(path) as conn:
        async with conn.execute("SELECT version FROM kind_schema WHERE kind = 'note'") as cursor:
            assert await cursor.fetchall() == [(2,)]
        async with conn.execute("SELECT name FROM pragma_table_info('note_state')") as cursor:
            assert [r[0] for r in await cursor.fetchall()] == ["id", "at"]


def test_a_registered_kind_is_validated_by_its_own_rules_and_names_are_checked() -> None:
    """``register`` is how tests/e2e/newer.py stands in for a newer version: the kind then has its own rules."""
    me = Identity.generate()
    module = types.SimpleNamespace(KIND=Kind(name="vote", body={"choice": Field(True, 3)}))
    assert validate.check(sign_draft(me, {"kind": "vote", "body": {"choice": "long"}})).kind == "vote"  # carried
    kinds.register(module)  # type: ignore[arg-type]
    try:
        with pytest.raises(Refused) as info:
            validate.check(sign_draft(me, {"kind": "vote", "body": {"choice": "long"}}))
        assert info.value.code == "too_long"
        with pytest.raises(ValueError):
            kinds.register(module)  # type: ignore[arg-type]  # the name is taken
    finally:
        del kinds._KINDS["vote"]
    for bad in (Kind(name="Vote"), Kind(name="vote", tags={"nowhere": (0, 1)})):
        with pytest.raises(ValueError):
            kinds.register(types.SimpleNamespace(KIND=bad))  # type: ignore[arg-type]
    assert "vote" not in kinds.REGISTRY


# Run in a fresh interpreter: ``forget`` changes the registry for the whole program, and the store builds its
# queries from the registry when imported (tests/e2e/older.py does the same before it serves).
_OLDER = """
import asyncio, json, sys
from pathlib import Path
from murmur import kinds
from tests.e2e.older import FORGOTTEN, FORGOTTEN_TAGS
kinds.forget(FORGOTTEN, FORGOTTEN_TAGS)
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store, timelines
from murmur.store.items import shown_version

async def main():
    me = Identity.generate()
    post = sign_draft(me, {"body": {"text": "first"}, "tags": [["group", "ab" * 32]]})
    edit = sign_draft(me, {"kind": "edit", "body": {"text": "second"}, "tags": [["target", post["id"]]]})
    async with await Store.open(Path(sys.argv[1])) as store:
        results = await store.ingest([post, edit])
        page = await timelines.federated(store)
        version = await shown_version(store, bytes.fromhex(post["id"]))
    print(json.dumps({
        "results": [r.status for r in results], "texts": [json.loads(i.raw)["body"]["text"] for i in page.items],
        "version": version is None, "kinds": sorted(kinds.REGISTRY), "tags": sorted(kinds.TAG_FORMS),
    }))

asyncio.run(main())
"""


def test_a_program_that_forgot_edits_and_groups_carries_them_and_shows_posts_as_signed(tmp_path: Path) -> None:
    """``forget`` is how tests/e2e/older.py stands in for the version before edits and groups: nothing outside
    those kinds' modules reaches into them (the shown version is asked of the registry, Kind.shown_join)."""
    done = subprocess.run(
        [sys.executable, "-c", _OLDER, str(tmp_path / "murmur.db")], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["results"] == ["stored", "stored"] and seen["texts"] == ["first"] and seen["version"]
    assert "edit" not in seen["kinds"] and not any(k.startswith("group") for k in seen["kinds"])
    assert "group" not in seen["tags"] and "post" in seen["kinds"]


def test_forget_names_what_it_does_not_know_and_changes_nothing() -> None:
    before = (dict(kinds.REGISTRY), dict(kinds.TAG_FORMS))
    with pytest.raises(ValueError, match="nowhere"):
        kinds.forget([types.SimpleNamespace(KIND=Kind(name="post"))], ["nowhere"])  # type: ignore[list-item]
    assert (dict(kinds.REGISTRY), dict(kinds.TAG_FORMS)) == before
