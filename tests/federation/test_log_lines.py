"""A peer's own words reach the log inert: what a failing peer answers is quoted in the federator's retry line and
its context fields, and neither format lets it forge a line or act on a terminal (server/logs.py)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.federation.federator import Federator
from murmur.server.logs import JsonFormatter, TextFormatter
from murmur.store.peers import add_peer
from tests.federation.conftest import Network
from tests.federation.test_loops import Clock

FORGED = "nope\n2026-01-01 00:00:00,000 ERROR murmur.server: forged line\x1b[2J\u202eevil"


def hostile(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/fed/v1/log":
        return httpx.Response(200, headers={"Murmur-Cursor": "0", "Murmur-More": "0"})
    body = {"error": {"code": "bad_request", "reason": FORGED}}
    return httpx.Response(400, json=body)


async def test_a_peers_error_text_is_inert_in_both_log_formats(net: Network, caplog: pytest.LogCaptureFixture) -> None:
    a = await net.node("a")
    peer = await add_peer(a.state.store, Identity.generate().public_key, "http://fake.test", name="fake")
    await a.state.store.ingest([sign_draft(Identity.generate(), {"body": {"text": "to push"}})])
    clock = Clock()
    transport = httpx.MockTransport(hostile)
    federator = Federator(
        a.state, transport_for=lambda p: transport, sleep=clock.sleep, pull_interval=3600, repair_interval=0
    )
    caplog.set_level(logging.WARNING, logger="murmur.federation")
    await federator.reconcile()
    await clock.wait_for(1)
    await federator.stop()
    [retry, *_] = [r for r in caplog.records if getattr(r, "loop", None) == "push"]
    assert "forged line" in retry.getMessage() and retry.__dict__["peer"] == peer.key  # the peer's text is quoted

    text = TextFormatter().format(retry)
    assert "\n" not in text and "\x1b" not in text and "\u202e" not in text
    assert "nope␊2026-01-01" in text and "␛[2J" in text

    line = JsonFormatter().format(retry)
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    record = json.loads(line)
    assert "forged line\x1b[2J\u202eevil" in record["message"] and "forged line" in record["error"]
    assert (record["loop"], record["failures"]) == ("push", 1)
