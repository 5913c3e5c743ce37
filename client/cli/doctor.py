"""``murmur doctor`` without ``--data``: a person's own findings: their key file, and their home server's
reachability and clock (murmur.doctor; the server's checks are murmur.server.cli.doctor)."""

from __future__ import annotations

import asyncio
import time

import httpx
import typer

from murmur.client.cli.session import profile_of, server_url
from murmur.doctor import ACTION, OK, Finding, clock_skew, private_file
from murmur.errors import ConfigError

PROBE_TIMEOUT_S = 10.0


async def _home(url: str) -> list[Finding]:
    subject = f"home server {url}"
    sent = time.time()
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as http:
            response = await http.get(f"{url}/health")
    except httpx.HTTPError as exc:
        return [Finding(ACTION, "peer", subject, f"unreachable: {type(exc).__name__}")]
    received = time.time()
    if response.status_code != 200:
        return [Finding(ACTION, "peer", subject, f"/health answered {response.status_code}")]
    reached = Finding(OK, "peer", subject, f"reachable in {1000 * (received - sent):.0f} ms")
    return [reached, clock_skew(subject, response.headers.get("date"), sent, received)]


def person_findings(ctx: typer.Context) -> list[Finding]:
    ref = profile_of(ctx)
    findings = [private_file(ref.key_path, "key file")]
    try:
        url = server_url(ref)
    except ConfigError as exc:
        return [*findings, Finding(OK, "peer", "home server", exc.message)]
    return findings + asyncio.run(_home(url))
