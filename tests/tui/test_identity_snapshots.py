"""Snapshot of an identity's profile opened from one of its device's posts: the identity's fingerprint, its
devices, and a FORK said first (docs/protocol.md §13.4). Update after an intended change with
``pytest tests/tui/test_identity_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from murmur.message import sign_draft
from murmur.store import Store
from tests.identity_logs import LAPTOP, PHONE, SPARE, TABLET, Log
from tests.tui.test_snapshots import MIN, NOW, SIZE, ThreadedServer, at, settle, snap_app


async def seed_identity(store: Store) -> None:
    made = Log(at=NOW - 60 * MIN)
    added = made.add(LAPTOP, PHONE, "phone")
    made.add(LAPTOP, TABLET, "tablet", prior=added["id"])
    made.add(PHONE, SPARE, "spare", prior=added["id"])  # a second device event at the same place: a fork
    tags = [["identity", made.identity]]
    profile = {"kind": "profile", "body": {"name": "Ada", "bio": "Two devices, one person."}, "tags": tags}
    post = {"kind": "post", "body": {"text": "Written on my phone."}, "tags": tags}
    await store.ingest(
        [*made.events, sign_draft(PHONE, profile, created_at=at(2)), sign_draft(PHONE, post, created_at=at(1))],
        now=2**53 - 1,
    )


class IdentityServer(ThreadedServer):
    async def _start(self) -> None:
        await super()._start()
        await seed_identity(self.store)


@pytest.fixture(scope="module")
def identity_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    server = IdentityServer(tmp_path_factory.mktemp("idsnap") / "server.db")
    server.start()
    yield server
    server.stop()


def test_a_forked_identitys_profile(snap_compare: Any, identity_server: ThreadedServer, tmp_path: Path) -> None:
    # The federated timeline's newest entry is the phone's post; p opens whom it speaks for.
    assert snap_compare(snap_app(identity_server, tmp_path), terminal_size=SIZE, run_before=settle("4", "p"))
