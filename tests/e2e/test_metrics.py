"""An admin scrapes a real `murmur serve` after real traffic: stored and refused counts move as they should, a peer
that is down shows its queue and lag, a live stream counts as a client, and a proxied request is refused."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from murmur.client.api import ApiError, MurmurClient
from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from tests.e2e.harness import ServerProcess, admin, murmur_cmd, wait_for
from tests.waiting import BOUND_S

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    answer = httpx.get(f"{url}/metrics", timeout=BOUND_S)
    assert answer.status_code == 200, answer.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that nothing listens on: dialing it is refused at once. Held bound (never listening) for
    the whole test: released, another program could take it and answer the "down" peer."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def test_an_admin_scrapes_what_really_happened(tmp_path: Path, procs: list[ServerProcess], closed_port: int) -> None:
    server = ServerProcess(tmp_path / "srv", config={"metrics": True, "retry_max_seconds": 1}).start()
    procs.append(server)
    before = scrape(server.url)
    assert ("murmur_messages_stored_total", (("origin", "local"),)) not in before  # nothing yet

    # A peer that is down: nothing listens at its address.
    peer_key = Identity.generate().public_key
    added = subprocess.run(
        murmur_cmd("peer", "add", "--data", str(server.data), "--key", peer_key, "--name", "down",
                   f"http://127.0.0.1:{closed_port}"),
        capture_output=True, text=True, timeout=BOUND_S,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    me, other = Identity.generate(), Identity.generate()
    invite = admin(server.data, "invite")["code"]

    async def traffic() -> Samples:
        async with MurmurClient(server.url, me) as api:
            await api.join(invite)
            for text in ("one", "two"):
                assert (await api.publish(sign_draft(me, {"body": {"text": text}})))["status"] == "stored"
            tampered = sign_draft(me, {"body": {"text": "tampered"}})
            tampered["sig"] = "00" * 64
            for bad, code in ((sign_draft(other, {"body": {"text": "not mine"}}), "wrong_author"), (tampered, "")):
                try:
                    await api.publish(bad)
                except ApiError as refused:
                    assert code in refused.code
                else:
                    raise AssertionError("a bad message was stored")
        # A live stream is one client for as long as it is open.
        headers = sign_request(me, "GET", "/api/v1/stream", "", b"", recipient=server.key).as_dict()
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=BOUND_S) as http,
            http.stream("GET", "/api/v1/stream", headers=headers) as live,
        ):
            chunks = live.aiter_bytes()  # held: dropping it would close the stream
            assert (await anext(chunks)).startswith(b": murmur stream")
            return await asyncio.to_thread(scrape, server.url)

    during = asyncio.run(traffic())
    assert during[("murmur_stream_clients", ())] == 1
    assert during[("murmur_messages_stored_total", (("origin", "local"),))] == 2
    assert during[("murmur_messages_refused_total", (("origin", "local"), ("reason", "wrong_author")))] == 1
    assert during[("murmur_messages_refused_total", (("origin", "local"), ("reason", "bad_signature")))] == 1
    assert during[("murmur_messages_held", ())] == 2
    assert during[("murmur_database_bytes", ())] > 0
    peer = (("name", "down"), ("peer", peer_key))
    assert during[("murmur_peer_queued_messages", peer)] == 2  # both posts wait for it
    assert during[("murmur_peer_delivery_lag_seconds", peer)] >= 0

    # The federator (another process) fails to reach it; the scrape says so.
    def failing() -> bool:
        return scrape(server.url).get(("murmur_peer_failures", peer), 0) >= 1

    wait_for(failing)
    after = scrape(server.url)
    assert after[("murmur_peer_state", (*peer, ("state", "retrying")))] == 1
    assert after[("murmur_peer_state", (*peer, ("state", "ok")))] == 0
    assert after[("murmur_peer_queued_messages", peer)] == 2
    assert after[("murmur_peer_delivery_lag_seconds", peer)] > 0
    routes = {labels for name, labels in after if name == "murmur_request_duration_seconds_count"}
    assert (("method", "POST"), ("route", "/api/v1/messages"), ("status", "2xx")) in routes

    # Through a proxy on this machine the connection is local but the client is not: refused, and counted.
    proxied = httpx.get(f"{server.url}/metrics", headers={"X-Forwarded-For": "198.51.100.7"}, timeout=BOUND_S)
    assert proxied.status_code == 401
    assert scrape(server.url)[("murmur_requests_refused_total", (("code", "missing_signature"),))] >= 1
