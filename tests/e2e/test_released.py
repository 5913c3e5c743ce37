"""Two real servers: a post the push passed because its peer did not carry its scope goes to that peer once the
peer is given the label, by push alone (no repair, no pull runs here), with the server running and the label
set by the CLI from another process."""

from __future__ import annotations

from pathlib import Path

import pytest

from murmur.keys import Identity
from tests.e2e.harness import ServerProcess, stored_ids, wait_for
from tests.e2e.test_scopes import cli, member, peer

pytestmark = pytest.mark.timeout(240)

PUSH_ONLY = {"retry_max_seconds": 1, "pull_interval_seconds": 3600, "rate_per_minute": 0, "repair_interval_seconds": 0}


def test_a_label_given_to_a_running_server_releases_what_its_push_passed(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    a, b = (ServerProcess(tmp_path / n, config=PUSH_ONLY).start() for n in "ab")
    procs.extend([a, b])
    peer(a, b, "b")  # unlabelled: outside, for now
    peer(b, a, "a", "inside")
    # a peer a never dials, so that the scope exists on a
    ghost = Identity.generate().public_key
    cli("peer", "add", "--data", str(a.data), "http://127.0.0.1:9", "--key", ghost, "--mode", "serve-only",
        "--label", "inside")  # fmt: skip
    ada = member(tmp_path, a, "ada")
    secret = ada.json("post", "inside only", "--audience", "inside")["id"]
    public = ada.json("post", "for everyone")["id"]
    wait_for(lambda: public in stored_ids(b))  # the push passed the secret on its way
    assert secret not in stored_ids(b)
    cli("peer", "label", "--data", str(a.data), "b", "inside")
    wait_for(lambda: secret in stored_ids(b))
