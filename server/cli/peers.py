"""A server admin's federation commands: ``peer add|list|remove`` and ``sync``.

Like the other admin commands they act on the data directory, so they work while the server runs: the
running server re-reads its allowlist every few seconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

import typer

from murmur.console import EXIT_REFUSED, EXIT_USAGE, checked_argument, emit_json, fail
from murmur.manifest import check_label
from murmur.progress import Progress
from murmur.server.cli import manifest as manifest_cli
from murmur.server.cli.admin import DataOption, JsonOption, with_store
from murmur.server.cli.progress import progress_bars
from murmur.server.config import DataDir
from murmur.store import Store, trust
from murmur.store.peers import (
    Peer,
    add_peer,
    check_peer,
    find_peer,
    list_peers,
    peer_state,
    queued,
    remove_peer,
)
from murmur.terminal import inert, say

peer = typer.Typer(help="Trusted peer servers (the federation allowlist).", no_args_is_help=True)
peer.add_typer(manifest_cli.manifest, name="manifest")


async def peer_row(store: Store, p: Peer, refusals: dict[str, tuple[int, str]] | None = None) -> dict[str, Any]:
    if refusals is None:
        refusals = await trust.refusals_by_peer(store)
    return {
        "key": p.key,
        "name": p.name,
        "url": p.url,
        "mode": p.mode,
        "proxy": p.proxy,
        "state": peer_state(p),
        "last_contact": p.last_contact,
        "push_cursor": p.push_cursor,
        "pull_cursor": p.pull_cursor,
        "queued": await queued(store, p) if p.dials else 0,
        "failures": p.failures,
        "last_error": p.last_error,
        "labels": sorted(p.labels),
        "beyond_audience": refusals.get(p.key, (0, ""))[0] if refusals is not None else 0,
        "beyond_audience_reason": refusals.get(p.key, (0, ""))[1] if refusals is not None else "",
    }


@peer.command("add")
def add(
    data: DataOption,
    key: Annotated[str, typer.Option("--key", help="The peer's server key (`murmur admin info` on their side).")],
    url: Annotated[
        str | None,
        typer.Argument(help="The peer's URL, e.g. https://murmur.other-team.example (none for a serve-only peer)."),
    ] = None,
    name: Annotated[str, typer.Option(help="A short name for the peer.")] = "",
    mode: Annotated[
        str, typer.Option(help="push-pull (default), pull-only (we only dial out), serve-only (we never dial).")
    ] = "push-pull",
    proxy: Annotated[str, typer.Option(help="Dial the peer through this proxy: http://, https:// or socks5://.")] = "",
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label", help="A label for the peer (repeatable): inside, outside, team, ...; the scopes it may receive."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Trust a peer server, pinned by its key, and sign the change into the trust manifest. Takes effect on a
    running server within seconds."""
    if url is None and mode != "serve-only":
        fail(f"a {mode} peer needs its URL: this server dials it (only a serve-only peer has none).", EXIT_USAGE)
    checked_argument(lambda: check_peer(key, url or "", mode))
    labels = checked_argument(lambda: [check_label(x) for x in label or []])

    async def work(store: Store, data_dir: DataDir) -> dict[str, Any]:
        identity = data_dir.identity()
        if key == identity.public_key:
            fail("that is this server's own key; a server cannot peer with itself.")
        await add_peer(store, key, url or "", name=name, mode=mode, proxy=proxy, signer=identity, labels=labels)
        found = await find_peer(store, key)
        assert found is not None
        return await peer_row(store, found)

    row = with_store(data, work)
    if as_json:
        emit_json(row)
    else:
        where = f" at {row['url']}" if row["url"] else ""
        say(f"Peer {row['name'] or row['key'][:16]} ({row['mode']}){where} added.")


@peer.command("list")
def list_(data: DataOption, as_json: JsonOption = False) -> None:
    """List peers with their state: last contact, cursors, queued deliveries, last error."""

    async def work(store: Store, data_dir: DataDir) -> list[dict[str, Any]]:
        refusals = await trust.refusals_by_peer(store)
        return [await peer_row(store, p, refusals) for p in await list_peers(store)]

    rows = with_store(data, work)
    if as_json:
        emit_json({"peers": rows})
        return
    if not rows:
        say("No peers; add one with `murmur peer add --data DIR URL --key SERVER_KEY`.")
    for r in rows:
        contact = (
            time.strftime("%Y-%m-%d %H:%M", time.gmtime(r["last_contact"] / 1000)) if r["last_contact"] else "never"
        )
        say(f"{r['name'] or '-':12} {r['key'][:16]}  {r['mode']:10} {r['state']:11} {r['url'] or '-'}")
        say(f"{'':12} last contact {contact}, queued {r['queued']}, pulled to {r['pull_cursor']}")
        say(f"{'':12} labels: {', '.join(r['labels']) or '(none: outside)'}")
        if r["beyond_audience"]:
            say(
                f"{'':12} relayed {r['beyond_audience']} message(s) beyond their audience, refused; last:"
                f" {inert(r['beyond_audience_reason'], keep_newlines=False)}"
            )
        if r["last_error"]:
            say(
                f"{'':12} last error ({r['failures']} failures in a row): {inert(r['last_error'], keep_newlines=False)}"
            )


@peer.command("remove")
def remove(
    data: DataOption,
    which: Annotated[str, typer.Argument(metavar="PEER", help="The peer's key, key prefix or name.")],
) -> None:
    """Stop federating with a peer."""

    async def work(store: Store, data_dir: DataDir) -> bool:
        return await remove_peer(store, which, data_dir.identity())

    if not with_store(data, work):
        fail(f"no peer matches {which!r}; see `murmur peer list --data DIR`.")
    say(f"Removed peer {which}.")


@peer.command("label")
def label_(
    data: DataOption,
    which: Annotated[str, typer.Argument(metavar="PEER", help="The peer's key, key prefix or name.")],
    labels: Annotated[
        list[str] | None, typer.Argument(metavar="LABEL...", help="Its labels; none clears them (outside).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Set a peer's labels (replacing the ones it had) and sign the change into the trust manifest."""
    wanted = checked_argument(lambda: [check_label(x) for x in labels or []])

    async def work(store: Store, data_dir: DataDir) -> dict[str, Any]:
        found = await find_peer(store, which)
        if found is None:
            fail(f"no peer matches {which!r}; see `murmur peer list --data DIR`.")
        manifest = await trust.set_labels(store, data_dir.identity(), found.key, wanted)
        return {"key": found.key, "name": found.name, "labels": sorted(set(wanted)), "version": manifest.version}

    row = with_store(data, work)
    if as_json:
        emit_json(row)
    else:
        say(
            f"Peer {row['name'] or row['key'][:16]} labels: {', '.join(row['labels']) or '(none)'};"
            f" manifest version {row['version']} signed."
        )


def sync(
    data: DataOption,
    which: Annotated[str | None, typer.Argument(metavar="[PEER]", help="Key, prefix or name; all when absent.")] = None,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Then reconcile all public messages with the peer and exchange the difference."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Pull from and push to peers now (and repair, with --repair); print what was fetched and sent."""
    from murmur.server.federation.federator import Federator
    from murmur.server.state import ServerState

    async def work(store: Store, data_dir: DataDir) -> list[dict[str, Any]]:
        state = ServerState(config=data_dir.config(), identity=data_dir.identity(), store=store)
        federator = Federator(state)
        if which is None:
            targets = [p for p in await list_peers(store) if p.dials]
            if not targets and not as_json:
                say(f"Nothing to sync: {_no_dialed_peer(await list_peers(store))}")
        else:
            found = await find_peer(store, which)
            if found is None:
                fail(f"no peer matches {which!r}; see `murmur peer list --data DIR`.")
            if not found.dials:
                fail(f"{which} is serve-only: this server never dials it; it syncs by dialing us.")
            targets = [found]
        with progress_bars(quiet=as_json or not repair) as bars:  # only a repair reports progress

            def repairing(p: Peer) -> Progress:
                return bars.track(f"Repair {p.name or p.key[:16]}", unit="messages")

            reports = await asyncio.gather(*(federator.sync(p, repair=repair, progress=repairing(p)) for p in targets))
        return [r.as_dict() for r in reports]

    reports = with_store(data, work)
    if as_json:
        emit_json({"peers": reports})
    for r in reports:
        if not as_json:
            label = r["name"] or str(r["peer"])[:16]
            say(
                f"{label}: fetched {r['fetched']} (stored {r['stored']}, duplicate {r['duplicate']}, refused "
                f"{r['refused']}), sent {r['sent']}, {r['round_trips']} round trips, "
                f"{r['bytes_in']} bytes in, {r['bytes_out']} bytes out"
                + (f"; error: {inert(r['error'], keep_newlines=False)}" if r["error"] else "")
            )
            if r["repaired"]:
                say(
                    f"{label}: repair found {r['need']} to fetch and {r['have']} to send in "
                    f"{r['reconcile_round_trips']} round trips ({r['reconcile_bytes_out']} bytes out, "
                    f"{r['reconcile_bytes_in']} bytes in)"
                )
    if any(r["error"] for r in reports):
        raise typer.Exit(EXIT_REFUSED)


def _no_dialed_peer(peers: list[Peer]) -> str:
    if not peers:
        return "this server has no peers (add one with `murmur peer add --data DIR URL --key SERVER_KEY`)."
    return f"this server dials none of its peers ({len(peers)} serve-only: they sync by dialing it)."
