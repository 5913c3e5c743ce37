"""``murmur peer manifest show|verify|diff|apply|sign|admins``: the signed trust manifest (murmur.manifest).

``peer add``, ``peer label`` and ``peer remove`` sign each change with the server key as they make it; these
commands print the result, check it, say what changed, and let admins co-sign a version prepared elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from murmur.console import EXIT_REFUSED, EXIT_USAGE, emit_exact, emit_json, fail
from murmur.errors import Refused, os_error
from murmur.keys import load_identity
from murmur.manifest import Manifest, check_signatures, diff, read_file
from murmur.server.cli.admin import DataOption, JsonOption, with_store
from murmur.server.config import DataDir
from murmur.store import Store, trust
from murmur.terminal import say
from murmur.validate import check_key

manifest = typer.Typer(help="The signed trust manifest: peers, their labels, and its admins.", no_args_is_help=True)

FileArgument = Annotated[Path, typer.Argument(metavar="FILE", help="A manifest file (TOML).")]


@manifest.command("show")
def show(
    data: DataOption,
    number: Annotated[int | None, typer.Option("--version", help="An earlier signed version.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the newest signed manifest (or an earlier version) as TOML."""

    async def work(store: Store, data_dir: DataDir) -> Manifest | None:
        if number is not None:
            return await trust.version(store, number)
        return await trust.latest(store)

    found = with_store(data, work)
    if found is None:
        fail(
            "no signed manifest yet: `murmur peer add` or `murmur peer label` signs the first one."
            if number is None
            else f"no manifest version {number}."
        )
    if as_json:
        emit_json(
            {
                "version": found.version,
                "server": found.server,
                "digest": found.digest,
                "admins": sorted(found.admins),
                "peers": [found.peers[k].canonical() for k in sorted(found.peers)],
                "signatures": [{"key": s.key, "sig": s.sig} for s in found.signatures],
            }
        )
    else:
        emit_exact(found.to_toml().rstrip("\n"))


@manifest.command("verify")
def verify(
    data: DataOption,
    path: Annotated[
        Path | None, typer.Argument(metavar="[FILE]", help="Check this file instead, without applying it.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check every stored version's signatures in turn (or a file's, as the next version); exit 1 on a problem."""

    async def work(store: Store, data_dir: DataDir) -> list[str]:
        key = data_dir.identity().public_key
        if path is None:
            return await trust.verify_stored(store, key)
        try:
            check_signatures(read_file(path), key, await trust.previous(store))
        except Refused as exc:
            return [f"{exc.code}: {exc.message}"]
        return []

    problems = with_store(data, work)
    if as_json:
        emit_json({"ok": not problems, "problems": problems})
    else:
        for line in problems:
            say(line)
        if not problems:
            say("The manifest verifies: signed by the server key and current admins, newest version accepted.")
    if problems:
        raise typer.Exit(EXIT_REFUSED)


@manifest.command("diff")
def diff_(
    data: DataOption,
    since: Annotated[
        int | None, typer.Option("--from", help="Compare this signed version with the newest instead.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """What changed since the last signed version (peers and labels as delivery sees them now); with --from N,
    what the signed versions since N changed."""

    async def work(store: Store, data_dir: DataDir) -> dict[str, Any]:
        newest = await trust.latest(store)
        if since is None:
            now = await trust.live(store, data_dir.identity().public_key)
            return {"from": newest.version if newest else 0, "to": "live", "changes": diff(newest, now)}
        old = await trust.version(store, since)
        if old is None:
            fail(f"no manifest version {since}.")
        assert newest is not None
        return {"from": since, "to": newest.version, "changes": diff(old, newest)}

    result = with_store(data, work)
    if as_json:
        emit_json(result)
        return
    if not result["changes"]:
        say(f"No changes since version {result['from']}.")
    for line in result["changes"]:
        say(line)


@manifest.command("apply")
def apply(data: DataOption, path: FileArgument, as_json: JsonOption = False) -> None:
    """Accept a manifest signed by the server key and admins as the next version: peers and labels become what
    it says. Refused with a reason when unsigned, stale, or signed by someone who is not (or no longer) admin."""

    async def work(store: Store, data_dir: DataDir) -> Manifest:
        return await trust.apply(store, read_file(path), data_dir.identity().public_key)

    accepted = with_store(data, work)
    if as_json:
        emit_json({"version": accepted.version, "digest": accepted.digest})
    else:
        say(f"Manifest version {accepted.version} accepted ({len(accepted.peers)} peers).")


@manifest.command("sign")
def sign(
    path: FileArgument,
    key: Annotated[Path, typer.Option("--key", help="The signer's key file (an admin's, or the server's).")],
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of printing.")] = None,
) -> None:
    """Add a signature to a manifest file (an admin co-signing a version before `apply`)."""
    signed = read_file(path).signed_by(load_identity(key))
    if out is None:
        emit_exact(signed.to_toml().rstrip("\n"))
        return
    try:
        out.write_text(signed.to_toml(), encoding="utf-8")
    except OSError as exc:
        raise os_error(exc, "write") from exc


@manifest.command("admins")
def admins(
    data: DataOption,
    add: Annotated[list[str] | None, typer.Option("--add", help="A key that may co-sign (repeatable).")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="A key that may no longer.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change who may co-sign the manifest, as a new version signed by the server key; prints the admins."""
    for k in [*(add or []), *(remove or [])]:
        try:
            check_key(k, "admin key")
        except Refused as exc:
            fail(exc.message, EXIT_USAGE)

    async def work(store: Store, data_dir: DataDir) -> Manifest:
        return await trust.set_admins(store, data_dir.identity(), add or [], remove or [])

    signed = with_store(data, work)
    if as_json:
        emit_json({"version": signed.version, "admins": sorted(signed.admins)})
    else:
        say(f"Manifest version {signed.version}: admins {', '.join(sorted(signed.admins)) or '(none)'}.")
