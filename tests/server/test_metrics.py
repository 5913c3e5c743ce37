"""/metrics in process: off unless config.toml turns it on, who may read it, and bounded labels.

The scrape after real traffic through a real `murmur serve` is in tests/e2e/test_metrics.py.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.app import create_app
from murmur.server.config import ServerConfig
from murmur.server.metrics import read
from murmur.server.state import ServerState
from murmur.store import Store
from murmur.store.members import add_member
from murmur.store.outcomes import listen
from murmur.sync.bundle import BundleWriter
from murmur.sync.transfer import import_bundle

OUTSIDE = ("203.0.113.5", 40000)  # TEST-NET-3: an address that is not this machine


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels, parsed by the Prometheus client's own parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
async def state(tmp_path: Path) -> AsyncIterator[ServerState]:
    store = await Store.open(tmp_path / "server.db")
    try:
        yield ServerState(
            config=ServerConfig(metrics=True, rate_per_minute=0), identity=Identity.generate(), store=store
        )
    finally:
        await store.close()


def client(state: ServerState, peer: tuple[str, int] = ("127.0.0.1", 5000)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(state), client=peer)
    return httpx.AsyncClient(transport=transport, base_url="http://murmur.test")


def signed(state: ServerState, who: Identity, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    return sign_request(who, method, path, "", body, recipient=state.identity.public_key).as_dict()


async def test_metrics_are_off_by_default(tmp_path: Path) -> None:
    assert ServerConfig().metrics is False
    assert "metrics = false" in ServerConfig().render()
    async with await Store.open(tmp_path / "off.db") as store:
        state = ServerState(config=ServerConfig(), identity=Identity.generate(), store=store)
        assert state.metrics is None
        async with client(state) as http:
            answer = await http.get("/metrics")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


async def test_loopback_reads_them_and_another_machine_needs_an_admin_signature(state: ServerState) -> None:
    admin, member = Identity.generate(), Identity.generate()
    await add_member(state.store, admin.public_key, role="admin")
    await add_member(state.store, member.public_key)
    async with client(state) as local:
        answer = await local.get("/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
        # Through a reverse proxy on this machine the connection is local, but the client is not.
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            proxied = await local.get("/metrics", headers={header: "198.51.100.7"})
            assert proxied.status_code == 401, header
    async with client(state, OUTSIDE) as outside:
        unsigned = await outside.get("/metrics")
        assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "missing_signature")
        stranger = await outside.get("/metrics", headers=signed(state, Identity.generate(), "GET", "/metrics"))
        assert (stranger.status_code, stranger.json()["error"]["code"]) == (403, "not_member")
        plain = await outside.get("/metrics", headers=signed(state, member, "GET", "/metrics"))
        assert (plain.status_code, plain.json()["error"]["code"]) == (403, "not_admin")
        allowed = await outside.get("/metrics", headers=signed(state, admin, "GET", "/metrics"))
        assert allowed.status_code == 200
    scraped = samples(allowed.text)
    # The refusals above were counted at the one place refused requests are answered.
    assert scraped[("murmur_requests_refused_total", (("code", "missing_signature"),))] == 4
    assert scraped[("murmur_requests_refused_total", (("code", "not_admin"),))] == 1


async def test_stored_and_refused_are_counted_once_whatever_the_door(state: ServerState) -> None:
    me, other = Identity.generate(), Identity.generate()
    await add_member(state.store, me.public_key)
    mine = [sign_draft(me, {"body": {"text": f"post {i}"}}) for i in range(3)]
    async with client(state) as http:
        for message in mine[:2]:
            body = orjson.dumps(message)
            answer = await http.post(
                "/api/v1/messages", content=body, headers=signed(state, me, "POST", "/api/v1/messages", body)
            )
            assert answer.status_code == 201
        again = orjson.dumps(mine[0])  # a duplicate: neither stored nor refused
        await http.post("/api/v1/messages", content=again, headers=signed(state, me, "POST", "/api/v1/messages", again))
        theirs = orjson.dumps(sign_draft(other, {"body": {"text": "not mine"}}))
        refused = await http.post(
            "/api/v1/messages", content=theirs, headers=signed(state, me, "POST", "/api/v1/messages", theirs)
        )
        assert refused.json()["error"]["code"] == "wrong_author"
        # Another door: a bundle-style import straight into the store (as `murmur import` and pulls do).
        tampered = {**mine[2], "sig": "00" * 64}
        results = await state.store.ingest([orjson.dumps(mine[2]), orjson.dumps(tampered)], origin="peer:" + "ab" * 32)
        assert [r.status for r in results] == ["stored", "refused"]
        scraped = samples((await http.get("/metrics")).text)
    assert scraped[("murmur_messages_stored_total", (("origin", "local"),))] == 2
    assert scraped[("murmur_messages_stored_total", (("origin", "peer"),))] == 1  # the peer's key is no label
    assert scraped[("murmur_messages_refused_total", (("origin", "local"), ("reason", "wrong_author")))] == 1
    assert scraped[("murmur_messages_refused_total", (("origin", "peer"), ("reason", results[1].code or "")))] == 1
    assert scraped[("murmur_messages_held", ())] == 3
    assert scraped[("murmur_database_bytes", ())] > 0


async def test_latency_is_labelled_by_route_template_never_by_raw_path(state: ServerState) -> None:
    async with client(state) as http:
        for n in range(5):
            await http.get(f"/api/v1/messages/{n:064x}")
            await http.get(f"/no/such/page/{n}")
        await http.get("/health")
        text = (await http.get("/metrics")).text
    routes = {
        s.labels["route"]
        for family in text_string_to_metric_families(text)
        if family.name == "murmur_request_duration_seconds"
        for s in family.samples
    }
    assert routes == {"/api/v1/messages/{id}", "unmatched", "/health"}
    scraped = samples(text)
    key = (("method", "GET"), ("route", "/api/v1/messages/{id}"), ("status", "4xx"))
    assert scraped[("murmur_request_duration_seconds_count", key)] == 5


async def test_a_bundle_import_is_counted_through_the_same_place(state: ServerState) -> None:
    me = Identity.generate()
    posts = [sign_draft(me, {"body": {"text": f"carried {n}"}}) for n in range(3)]
    bundle = io.BytesIO()
    with BundleWriter(bundle, len(posts) + 1, {}) as writer:
        for post in posts:
            writer.add(orjson.dumps(post))
        writer.add(orjson.dumps({**posts[0], "id": "00" * 32}))
    bundle.seek(0)
    report = await import_bundle(state.store, bundle)
    assert (report.stored, report.refused) == (3, 1)
    async with client(state) as http:
        scraped = samples((await http.get("/metrics")).text)
    assert scraped[("murmur_messages_stored_total", (("origin", "import"),))] == 3
    [code] = report.reasons
    assert scraped[("murmur_messages_refused_total", (("origin", "import"), ("reason", code)))] == 1


async def test_a_failing_listener_never_fails_a_committed_write(
    state: ServerState, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(results: object, origin: str) -> None:
        raise RuntimeError("a bug in counting")

    listen(state.store.writer, broken)
    me = Identity.generate()
    [result] = await state.store.ingest([orjson.dumps(sign_draft(me, {"body": {"text": "kept"}}))])
    assert result.status == "stored" and await state.store.count() == 1
    assert "an ingest listener failed" in caplog.text
    assert state.metrics is not None  # the listener before the broken one still counted
    assert (
        samples(state.metrics.render(await read(state.store, 0)).decode())[
            ("murmur_messages_stored_total", (("origin", "local"),))
        ]
        == 1
    )
