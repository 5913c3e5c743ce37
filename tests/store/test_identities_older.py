"""A store of the version before identities carries key events and device-signed messages as it carries any
kind it does not know, and a store that knows identities, fed from it, judges them as if they came directly
(docs/protocol.md §13.6). The older store runs in its own interpreter (tests/older_identities.py): forgetting
kinds changes the registry for the whole process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from murmur.store import Store, timelines
from tests.identity_logs import LAPTOP, PHONE, Log


def held_by_older(path: Path, messages: list[dict[str, Any]]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.older_identities", str(path)],
        input=json.dumps(messages), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


async def test_identities_cross_an_older_store_and_verify_where_they_are_known(tmp_path: Path) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    before = made.post(PHONE, "from the phone")
    made.remove(LAPTOP, PHONE)
    after = made.post(PHONE, "after its removal")  # a thief's, say: the older store cannot tell
    everything = [after, before, *reversed(made.events)]  # any order: the older store does not care

    older = held_by_older(tmp_path / "older.db", everything)
    # it holds all of it: key events as kinds it does not know, posts under the device's key, with no log to
    # refuse the removed device's later post by
    assert older["statuses"] == ["stored"] * len(everything)
    assert older["shown"][PHONE.public_key] == [after["id"], before["id"]]
    assert older["shown"][LAPTOP.public_key] == []  # key events are not entries

    # what it carries (push, pull, repair and bundles relay its held messages as signed) reaches a store that
    # knows identities: the log resolves, the device's post speaks for the identity, the later one is refused
    async with await Store.open(tmp_path / "new.db") as store:
        assert sorted(m["id"] for m in older["held"]) == sorted(m["id"] for m in everything)  # carried intact
        results = {r.id: r for r in await store.ingest(older["held"], origin="peer")}
        assert results[after["id"]].code == "device_removed"
        assert {i for i, r in results.items() if r.status == "stored"} == {m["id"] for m in everything} - {after["id"]}
        shown = [item.id for item in (await timelines.author(store, made.identity)).items]
        assert shown == [before["id"]]
