"""A server that upgrades to a version knowing a kind it used to carry holds what a server that always knew the
kind holds: the group state and timeline, and an edited post's search text and hashtags (ingest.catch_up)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from murmur.kinds import group_reads
from murmur.store import Store, search, timelines

ROOT = Path(__file__).resolve().parents[2]

# The older version (tests/e2e/older.py) carries a group, a join, a post addressed to the group, and an edit,
# as kinds and a tag it does not know. Run in a fresh interpreter: ``forget`` changes the whole program.
_OLDER = """
import asyncio, json, sys
from pathlib import Path
from murmur import kinds
from tests.e2e.older import FORGOTTEN, FORGOTTEN_TAGS
kinds.forget(FORGOTTEN, FORGOTTEN_TAGS)
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store
from murmur.store.audience import refuse_local

async def main():
    owner, ann = Identity.from_seed(b"o" * 32), Identity.from_seed(b"a" * 32)
    group = sign_draft(owner, {"kind": "group", "body": {"name": "Fix CI", "join": "open"}}, created_at=1000)
    join = sign_draft(ann, {"kind": "group_join", "tags": [["group", group["id"]]]}, created_at=2000)
    post = sign_draft(ann, {"body": {"text": "first words"}, "tags": [["group", group["id"]], ["hashtag", "old"]]},
                      created_at=3000)
    edit = sign_draft(ann, {"kind": "edit", "body": {"text": "second words"},
                            "tags": [["target", post["id"]], ["hashtag", "new"]]}, created_at=4000)
    async with await Store.open(Path(sys.argv[1])) as store:
        results = await store.ingest([group, join, post, edit], origin="peer:" + "ab" * 32,
                                     policy=refuse_local("peer"))
    print(json.dumps({"statuses": [r.status for r in results], "group": group["id"], "post": post["id"]}))

asyncio.run(main())
"""


async def test_an_upgrade_catches_up_what_was_carried(tmp_path: Path) -> None:
    path = tmp_path / "murmur.db"
    done = subprocess.run([sys.executable, "-c", _OLDER, str(path)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    older = json.loads(done.stdout)
    assert older["statuses"] == ["stored"] * 4
    async with await Store.open(path) as store:  # this version knows edits and groups
        row = await group_reads.group(store, older["group"])
        assert row is not None and (row.name, row.members) == ("Fix CI", 2)
        page = await group_reads.timeline(store, older["group"])
        assert [item.id for item in page.items] == [older["post"]]
        assert [i.id for i in (await search.search_posts(store, "second")).items] == [older["post"]]
        assert (await search.search_posts(store, "first")).items == []
        assert [i.id for i in (await timelines.hashtag(store, "new")).items] == [older["post"]]
        assert (await timelines.hashtag(store, "old")).items == []
    async with await Store.open(path) as store:  # once: opening again changes nothing
        row = await group_reads.group(store, older["group"])
        assert row is not None and row.members == 2
        assert [i.id for i in (await search.search_posts(store, "second")).items] == [older["post"]]
