"""A server's admin commands: ``serve`` and ``admin invite|info|members|backup|remove``.

The ``murmur`` program is both a person's tool and an admin's: its entry module (murmur.client.cli.main) adds
these commands beside the client's. Nothing here imports the client.

Admin commands act on the data directory directly (who can read it is an admin), so they work whether or not
the server is running: SQLite's WAL lets them share the database with it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from murmur import __version__ as VERSION
from murmur.console import EXIT_LOCAL, EXIT_REFUSED, EXIT_USAGE, checked_argument, emit_json, fail
from murmur.errors import Refused, StoreError, os_error
from murmur.numbers import parse_number
from murmur.prefixes import checked_prefix
from murmur.server.cli.progress import progress_bars
from murmur.server.config import DATABASE_SCHEMES, DataDir
from murmur.store import Store, moderation
from murmur.store.backup import backup as copy_database
from murmur.store.copy import TableCopy, copy_store
from murmur.store.lookup import resolve_message_id
from murmur.store.members import Invite, Member, count_members, create_invite, list_members, remove_member
from murmur.terminal import inert, say, visible_name
from murmur.validate import check_key

T = TypeVar("T")

DataOption = Annotated[Path, typer.Option("--data", envvar="MURMUR_DATA", help="The server's data directory.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]

admin = typer.Typer(help="Administer a home server through its data directory.", no_args_is_help=True)


def serve(
    data: DataOption,
    host: Annotated[str | None, typer.Option(help="Interface to listen on (config: host).")] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Port to listen on; 0 picks a free one (config: port).")
    ] = None,
    open_registration: Annotated[
        bool | None, typer.Option("--open/--invite-only", help="Let anyone join without an invite.")
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format", help='How to log on stderr: "text" or "json", one object per line (config: log_format).'
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(help="A postgresql:// URL to run on instead of the SQLite file in DATA (config: database)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Processes answering requests, one per core at most; 1 runs one process (config: workers)."),
    ] = None,
) -> None:
    """Run a home server on DATA (created on first start) until Ctrl-C or SIGTERM."""
    from murmur.server.config import LOG_FORMATS
    from murmur.server.serve import run

    if log_format is not None and log_format not in LOG_FORMATS:
        fail(f'--log-format {log_format!r}: expected "text" or "json".', EXIT_USAGE)
    run(
        data,
        host=host,
        port=port,
        open_registration=open_registration,
        log_format=log_format,
        database=database,
        workers=workers,
    )


def with_store(data: Path, work: Callable[[Store, DataDir], Awaitable[T]]) -> T:
    """Open the data directory's database for one admin action, then close it."""
    data_dir = DataDir(data)
    data_dir.require()

    async def go() -> T:
        store = await Store.open(data_dir.db_path, database=data_dir.config().database or None)
        try:
            return await work(store, data_dir)
        except StoreError as exc:  # a read or a write the database refused (a damaged page, say)
            raise StoreError(f"{data_dir.db_path}: {exc} Run `murmur admin check --data {data_dir.root}`.") from exc
        finally:
            await store.close()

    return asyncio.run(go())


@admin.command()
def invite(
    data: DataOption,
    ttl: Annotated[str, typer.Option(help="How long the code stays valid: 30m, 12h, 7d.")] = "7d",
    note: Annotated[str, typer.Option(help="A note for yourself: who the invite is for.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Make a single-use invite code."""
    seconds = _duration(ttl)

    async def work(store: Store, data_dir: DataDir) -> Invite:
        return await create_invite(store, ttl_s=seconds, note=note)

    made = with_store(data, work)
    if as_json:
        emit_json({"code": made.code, "expires_at": made.expires_at})
    else:
        say(made.code)
        expires = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(made.expires_at / 1000))
        say(f"  single use, valid until {expires}; join with: murmur join URL --invite {made.code}", err=True)


def _duration(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if len(text) < 2 or text[-1] not in units:
        fail(f"--ttl {text!r} is not a duration like 30m, 12h or 7d.", 2)
    count = checked_argument(lambda: parse_number(text[:-1], name="--ttl", low=1, high=10**6, code="bad_value"))
    return count * units[text[-1]]


@admin.command()
def info(data: DataOption, as_json: JsonOption = False) -> None:
    """Show the server key, URL (the running server's, else the config's), version and member count."""

    async def work(store: Store, data_dir: DataDir) -> dict[str, Any]:
        config = data_dir.config()
        running = data_dir.running_url()
        return {
            "server_key": data_dir.identity().public_key,
            "url": running or config.url,
            "running": running is not None,
            "name": config.name,
            "version": VERSION,
            "members": await count_members(store),
            "messages": await store.count(),
            "open_registration": config.open_registration,
            "data": str(data_dir.root),
        }

    result = with_store(data, work)
    if as_json:
        emit_json(result)
        return
    for key, value in result.items():
        say(f"{key:18} {value}")


@admin.command()
def members(
    data: DataOption,
    remove: Annotated[str | None, typer.Option(help="Remove the member with this key.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List members, or remove one with --remove KEY."""
    if remove is not None:
        checked_argument(lambda: check_key(remove, "member key"))

        async def drop(store: Store, data_dir: DataDir) -> bool:
            return await remove_member(store, remove)

        if not with_store(data, drop):
            fail(f"{remove} is not a member.")
        if as_json:
            emit_json({"removed": remove})
        else:
            say(f"Removed {remove}")
        return

    async def work(store: Store, data_dir: DataDir) -> list[Member]:
        return list(await list_members(store))

    rows = with_store(data, work)
    if as_json:
        emit_json({"members": [{"key": m.key, "role": m.role, "joined_at": m.joined_at, "name": m.name} for m in rows]})
        return
    if not rows:
        say("No members yet; make an invite with `murmur admin invite --data DIR`.")
    for m in rows:
        say(f"{m.key}  {m.role:6}  {visible_name(m.name, 40)}")


@admin.command()
def backup(data: DataOption, file: Annotated[Path, typer.Argument(help="Where to write the copy.")]) -> None:
    """Write a consistent copy of the database, safe while the server runs (SQLite online backup)."""
    data_dir = DataDir(data)
    data_dir.require()
    if data_dir.config().database:
        fail(
            "this server's database is PostgreSQL: back it up with pg_dump or a base backup (docs/self-hosting.md).",
            EXIT_LOCAL,
        )
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        fail(f"{file} already exists; choose a new file name.", EXIT_LOCAL)
    except FileNotFoundError:
        fail(f"cannot write {file}: the folder {file.parent} does not exist; create it first.", EXIT_LOCAL)
    except OSError as exc:
        raise os_error(exc, "write the backup") from exc
    try:
        with progress_bars() as bars:
            integrity = copy_database(data_dir.db_path, file, progress=bars.track("Backing up", unit="pages"))
    except StoreError as exc:
        file.unlink(missing_ok=True)
        fail(exc.message, EXIT_LOCAL)
    say(f"Backed up {data_dir.db_path} to {file} (integrity: {integrity})")


@admin.command()
def check(data: DataOption, as_json: JsonOption = False) -> None:
    """Check every page and index of the database (SQLite integrity_check); safe while the server runs.

    Exit 0 when it is sound, 1 when damage was found (each problem is printed), 3 when it cannot be opened.
    """

    async def work(store: Store, data_dir: DataDir) -> list[str]:
        return await store.damage(full=True)

    found = with_store(data, work)
    configured = DataDir(data).config().database  # PostgreSQL checks its own pages: nothing found is "ok"
    if configured:
        from murmur.store.postgres import redact  # psycopg: imported only where a PostgreSQL URL is at hand

        database = redact(configured)
    else:
        database = str(DataDir(data).db_path)
    if as_json:
        emit_json({"database": database, "ok": not found, "problems": found})
    else:
        for line in found:
            say(line)
        if not found:
            say(f"{database}: ok")
    if found:
        fail(
            f"{database} is damaged ({len(found)} problem{'s' if len(found) != 1 else ''} found); restore it from a "
            "backup (docs/self-hosting.md).",
            EXIT_REFUSED,
        )


@admin.command("migrate-db")
def migrate_db(
    data: DataOption,
    to: Annotated[str, typer.Option("--to", help="The postgresql:// URL of an empty database to copy into.")],
    as_json: JsonOption = False,
) -> None:
    """Copy this server's whole state from its SQLite file into PostgreSQL, check the copy, and say what to set.

    Stop the server first (the command holds its lock). The SQLite file is left as it was, a fallback.
    """
    from murmur.server.serve import data_lock
    from murmur.store.postgres import redact  # psycopg: imported only by the commands that take a PostgreSQL URL

    data_dir = DataDir(data)
    data_dir.require()
    if not to.startswith(DATABASE_SCHEMES):
        fail(f"--to {to!r}: expected a postgresql:// URL.", EXIT_USAGE)
    if data_dir.config().database:
        fail(f"{data_dir.root} already runs on {redact(data_dir.config().database)}; nothing to migrate.", EXIT_LOCAL)

    async def go() -> list[TableCopy]:
        source = await Store.open(data_dir.db_path)
        try:
            target = await Store.open(data_dir.db_path, database=to)
            try:
                with progress_bars(quiet=as_json) as bars:
                    return await copy_store(source, target, bars.track("Copying", unit="rows"))
            finally:
                await target.close()
        finally:
            await source.close()

    with data_lock(data_dir):
        copied = asyncio.run(go())
    bad = [c.table for c in copied if not c.matches]
    if as_json:
        emit_json({"tables": [dataclasses.asdict(c) for c in copied], "ok": not bad})
    else:
        for c in copied:
            say(f"{c.table:24} {c.rows:>10} rows  {c.digest[:16]}  {'ok' if c.matches else 'DIFFERS'}")
    if bad:
        fail(f"the copy differs from the original in {', '.join(bad)}; keep running on SQLite.", EXIT_REFUSED)
    if not as_json:
        say(
            f"Copied {sum(c.rows for c in copied)} rows in {len(copied)} tables to {redact(to)}. To run on it, set in "
            f"{data_dir.config_path}:\n    database = \"{to}\"\nor start with `murmur serve --data {data_dir.root} "
            f"--database {to}`."
        )


@admin.command()
def remove(
    data: DataOption,
    msg_id: Annotated[str, typer.Argument(metavar="ID", help="The message: its id, or 8+ of its hex digits.")],
    reason: Annotated[str, typer.Option(help="Why it is removed: peers and their readers are shown it.")],
    as_json: JsonOption = False,
) -> None:
    """Remove a message from this server for good, as its moderator, and tell the peers, signed, why."""
    from murmur.server.federation.answers import tell_removed
    from murmur.server.state import ServerState

    checked_argument(lambda: checked_prefix(msg_id, "message id"))

    async def work(store: Store, data_dir: DataDir) -> dict[str, Any]:
        full = await resolve_message_id(store, msg_id)
        gone = await moderation.remove(store, full, reason)
        state = ServerState(config=data_dir.config(), identity=data_dir.identity(), store=store)
        return {"removed": full, "with": gone[1:], "peers": await tell_removed(state, gone, reason.strip())}

    try:
        done = with_store(data, work)
    except Refused as refusal:
        fail(refusal.message, EXIT_USAGE if refusal.code == "bad_request" else EXIT_REFUSED)
    if as_json:
        emit_json(done)
        return
    if done["with"]:
        say(
            f"Removed {done['removed']} and {len(done['with'])} message(s) that went with it (its edits or updates);"
            " they are refused if they come back."
        )
    else:
        say(f"Removed {done['removed']}; it is refused if it comes back.")
    for p in done["peers"]:
        label = visible_name(str(p["name"]), 40) or str(p["key"])[:16]
        if p["error"]:
            say(f"  {label}: not told ({inert(p['error'], keep_newlines=False)}); it hears when it next sends it")
        else:
            say(f"  {label}: told, signed" + ("" if p["kept"] else " (it does not hold it)"))
