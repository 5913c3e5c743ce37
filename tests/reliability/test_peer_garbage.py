"""A real server pushing to a peer that answers garbage: the failure is logged, counted, shown and backed off.

The first version's push loop died on a push answered with a JSON array and was restarted twenty times in two
seconds, with ``failures 0`` in ``murmur peer list`` and not a line in the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.reliability.conftest import ServerFactory
from tests.reliability.fakepeer import Answer, FakePeer
from tests.reliability.harness import Member, peer_add, run_cli, wait_until
from tests.waiting import BOUND_S

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def fake() -> Iterator[FakePeer]:
    peer = FakePeer().start()
    yield peer
    peer.close()


def peer_row(data: str, key: str) -> dict[str, object]:
    result = run_cli("peer", "list", "--data", data, "--json")
    assert result.returncode == 0, result.stderr
    [row] = [r for r in json.loads(result.stdout)["peers"] if r["key"] == key]
    return row  # type: ignore[no-any-return]


# Each door a push goes through: the offer of ids first (a peer that answers it garbage), or, with a peer that
# predates offers (404), the push of the messages themselves.
DOORS = {"push": "answered a push", "offer": "to an offer"}


@pytest.mark.parametrize("door", sorted(DOORS))
@pytest.mark.parametrize("body", [b"[]", b'{"results": [1, 2, 3]}', b"\xff\xfe not json"], ids=repr)
def test_a_push_answered_with_garbage_is_logged_counted_and_backed_off(
    make_server: ServerFactory, fake: FakePeer, body: bytes, door: str
) -> None:
    garbage = Answer(200, body, {"Content-Type": "application/json"})
    if door == "push":
        fake.push_answer = garbage
    else:
        fake.offer_answer = garbage
    said = DOORS[door]
    server = make_server(retry_max_seconds=4)
    peer_add(server, fake.url, fake.key, name="garbler")
    member = Member(server.url).join()
    assert member.publish(member.post("for the garbling peer")).status_code == 201
    assert fake.wait_for_pushes(3, offers=door == "offer"), "the server stopped pushing to the peer"
    # Backoff: 1 s then 2 s (each times a factor in [0.5, 1]) between the three pushes, so at least 1.5 s.
    tries = fake.offers if door == "offer" else fake.pushes
    assert tries[2] - tries[0] >= 1.4, tries
    row = peer_row(str(server.data), fake.key)
    assert row["failures"] >= 2 and row["state"] in ("retrying", "unreachable"), row  # type: ignore[operator]
    assert said in str(row["last_error"]), row
    human = run_cli("peer", "list", "--data", str(server.data)).stdout
    assert "failures in a row): " in human and said in human, human
    assert wait_until(lambda: said in server.log(), BOUND_S), server.log()[-2000:]
    assert "Traceback" not in server.log()
    member.close()
