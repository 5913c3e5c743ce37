"""``murmur doctor --data DIR [--json]``: a server's findings, one line each; exit 1 when one needs action.

Clock skew against each dialed peer and its reachability (its ``/health``), the trust manifest's signatures,
the key, database and data directory permissions, and deliveries waiting per peer. Without ``--data`` the
person's own checks run instead (``murmur.client.cli.doctor``), passed in by the program's entry module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from murmur.console import EXIT_REFUSED, emit_json
from murmur.doctor import ACTION, OK, WARN, Finding, clock_skew, needs_action, private_file, private_folder
from murmur.errors import ConfigError, KeyFileError, PeerError
from murmur.keys import Identity
from murmur.server.cli.admin import JsonOption, with_store
from murmur.server.config import DataDir
from murmur.server.federation.peer_client import PeerClient
from murmur.store import Store, trust
from murmur.store.peers import Peer, list_peers, queued
from murmur.terminal import say

PersonChecks = Callable[[typer.Context], list[Finding]]
PROBE_TIMEOUT_S = 10.0


async def _probe(identity: Identity, peer: Peer) -> list[Finding]:
    subject = f"peer {peer.name or peer.key[:16]}"
    if not peer.dials:
        seen = "never" if peer.last_contact is None else "before"
        return [Finding(OK, "peer", subject, f"serve-only: this server never dials it (it has called {seen})")]
    client = PeerClient(identity, peer, timeout=PROBE_TIMEOUT_S)
    try:
        date, sent, received = await client.clock()
    except PeerError as exc:
        return [Finding(ACTION, "peer", subject, f"unreachable: {exc.message}")]
    finally:
        await client.aclose()
    return [
        Finding(OK, "peer", subject, f"reachable in {1000 * (received - sent):.0f} ms"),
        clock_skew(subject, date, sent, received),
    ]


async def _deliveries(store: Store, peer: Peer) -> Finding:
    subject = f"peer {peer.name or peer.key[:16]}"
    waiting = await queued(store, peer) if peer.dials else 0
    if waiting and peer.failures:
        return Finding(
            ACTION, "deliveries", subject, f"{waiting} message(s) waiting; {peer.failures} failures in a row"
        )
    if waiting:
        return Finding(WARN, "deliveries", subject, f"{waiting} message(s) waiting to be sent")
    return Finding(OK, "deliveries", subject, "nothing waiting")


async def server_findings(store: Store, data_dir: DataDir) -> list[Finding]:
    findings = [
        private_folder(data_dir.root, "data directory"),
        private_file(data_dir.key_path, "server key"),
        private_file(data_dir.db_path, "database"),
    ]
    try:
        identity = data_dir.identity()
    except KeyFileError:  # already a finding above; the manifest and the peers are checked against the key
        findings.append(Finding(WARN, "manifest", "trust manifest", "not checked until the server key is fixed"))
        return findings
    problems = await trust.verify_stored(store, identity.public_key)
    findings += [Finding(ACTION, "manifest", "trust manifest", p) for p in problems]
    if not problems:
        newest = await trust.latest(store)
        shown = f"version {newest.version} verifies" if newest else "no peers, nothing to sign"
        findings.append(Finding(OK, "manifest", "trust manifest", shown))
    peers = await list_peers(store)
    findings += _registration(data_dir, peers)
    for found in await asyncio.gather(*(_probe(identity, p) for p in peers)):
        findings += found
    findings += [await _deliveries(store, p) for p in peers]
    return findings


def _registration(data_dir: DataDir, peers: list[Peer]) -> list[Finding]:
    """Open registration on a server that takes part in audiences: whoever reaches it can join and read what its
    members post to those audiences and what peers relay to it in them; that is rarely what the admin meant."""
    labels = sorted({label for peer in peers for label in peer.labels})
    try:
        wide_open = data_dir.config().open_registration
    except ConfigError:  # no config yet: nothing serves, and `murmur serve` would say so
        return []
    if not wide_open:
        return [Finding(OK, "members", "registration", "by invitation only")]
    if not labels:
        return [Finding(OK, "members", "registration", "open: anyone who reaches this server can join")]
    return [
        Finding(
            WARN,
            "members",
            "registration",
            f"open, on a server whose peers carry audiences ({', '.join(labels)}): anyone who reaches it can join and"
            " read the posts addressed to them here. Set open_registration = false in config.toml (or serve with"
            " --invite-only) and invite members with `murmur admin invite`.",
        )
    ]


def doctor_command(person_checks: PersonChecks) -> Callable[..., None]:
    def doctor(
        ctx: typer.Context,
        data: Annotated[
            Path | None, typer.Option("--data", envvar="MURMUR_DATA", help="Check this server's data directory.")
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Check what needs looking at: clocks and reachability of peers (or of your home server), the trust
        manifest's signatures, key and data file permissions, pending deliveries. One line per finding; exit 1
        when one needs action."""
        findings = with_store(data, server_findings) if data is not None else person_checks(ctx)
        if as_json:
            emit_json({"findings": [f.as_dict() for f in findings], "needs_action": needs_action(findings)})
        else:
            for finding in findings:
                say(finding.line())
        if needs_action(findings):
            raise typer.Exit(EXIT_REFUSED)

    return doctor
