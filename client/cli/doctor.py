"""``murmur doctor`` without ``--data``: a person's own findings: their key file and private message stores, and
their home server's reachability and clock (murmur.doctor; the server's checks are murmur.server.cli.doctor)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import typer

from murmur.client.cli.session import profile_of, server_url
from murmur.client.conversations import inbox_path
from murmur.client.editor_files import drafts_folder
from murmur.client.private_groups import groups_path
from murmur.doctor import ACTION, OK, WARN, Finding, clock_skew, private_file
from murmur.errors import ConfigError
from murmur.store.inbox import store_files

PROBE_TIMEOUT_S = 10.0


async def _home(url: str) -> list[Finding]:
    subject = f"home server {url}"
    sent = time.time()
    try:
        # The whole answer within the probe's time: httpx's timeout bounds each read, not a trickled answer.
        async with asyncio.timeout(PROBE_TIMEOUT_S), httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as http:
            response = await http.get(f"{url}/health")
    except TimeoutError:
        return [Finding(ACTION, "peer", subject, f"too slow: /health took over {PROBE_TIMEOUT_S:g} s to answer")]
    except httpx.HTTPError as exc:
        return [Finding(ACTION, "peer", subject, f"unreachable: {type(exc).__name__}")]
    received = time.time()
    if response.status_code != 200:
        return [Finding(ACTION, "peer", subject, f"/health answered {response.status_code}")]
    reached = Finding(OK, "peer", subject, f"reachable in {1000 * (received - sent):.0f} ms")
    return [reached, clock_skew(subject, response.headers.get("date"), sent, received)]


def store_findings(key_path: Path) -> list[Finding]:
    """The private message stores beside the key, those there, and SQLite's files beside them: each must be the
    owner's alone, as what was read rests in them (plain unless a passphrase is set)."""
    stores = ((inbox_path(key_path), "direct messages' store"), (groups_path(key_path), "private groups' store"))
    files = [private_file(file, what) for path, what in stores for file in store_files(path)]
    return files + _left_drafts(drafts_folder(key_path))


def _left_drafts(folder: Path) -> list[Finding]:
    """Files left where $EDITOR edits drafts: a draft is deleted once read back, so what stays there is an
    editor's swap or backup file, or a draft whose program was killed, and may hold what was written."""
    try:
        left = sorted(p.name for p in folder.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [Finding(ACTION, "files", str(folder), f"the drafts folder cannot be read: {exc.strerror}")]
    if not left:
        return []
    return [Finding(WARN, "files", str(folder), f"{len(left)} file(s) left by an editor ({', '.join(left[:3])}):"
                    " they may hold text you wrote; remove them")]  # fmt: skip


def person_findings(ctx: typer.Context) -> list[Finding]:
    ref = profile_of(ctx)
    findings = [private_file(ref.key_path, "key file"), *store_findings(ref.key_path)]
    try:
        url = server_url(ref)
    except ConfigError as exc:
        return [*findings, Finding(OK, "peer", "home server", exc.message)]
    return findings + asyncio.run(_home(url))
