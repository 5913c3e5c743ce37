"""``murmur export`` and ``murmur import``: offline bundles of signed messages (murmur.sync.bundle).

An admin exports from a server's data directory (``--data``) and imports into another's; a person exports
their own messages from their home server over the client API (``--mine``) to move elsewhere. Importing
checks every message exactly as a peer's push would be checked, so a bundle needs no trust in who carried it.

``--mine`` talks to the person's home server through the client, which this package must not import: the
entry module hands that part in (``export_command(own_messages)``, ``import_command(import_mine)``).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from murmur.console import EXIT_LOCAL, EXIT_REFUSED, EXIT_USAGE, checked_argument, emit_json, fail
from murmur.errors import Refused
from murmur.numbers import MAX_NUMBER, parse_number
from murmur.progress import Progress
from murmur.server.cli.admin import JsonOption, with_store
from murmur.server.cli.progress import progress_bars
from murmur.server.config import DataDir
from murmur.store import Store
from murmur.sync.bundle import BundleWriter
from murmur.sync.transfer import ExportFilter, export_bundle, import_bundle
from murmur.terminal import say
from murmur.validate import HASHTAG_CHARS

OwnMessages = Callable[[typer.Context, ExportFilter], list[bytes]]
"""The signed messages of the profile's own key on its home server that pass the filter (``--mine``)."""

ImportMine = Callable[[typer.Context, IO[bytes], Progress], dict[str, Any]]
"""Brings a bundle of the profile's own messages to its home server (``--mine``); the import report."""

FileArgument = Annotated[str, typer.Argument(metavar="FILE", help="The bundle file; - for stdout / stdin.")]
DURATION = re.compile(r"([0-9]{1,9})([smhd])")  # ASCII digits, bounded: \d is every script's digits
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now_ms: int | None = None) -> int:
    """``--since``: milliseconds since the epoch, a duration ago (30m, 12h, 7d), or an ISO date or time (UTC
    unless it says otherwise)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if text.isascii() and text.isdigit():
        return checked_argument(lambda: parse_number(text, name="--since", low=0, high=MAX_NUMBER, code="bad_value"))
    if match := DURATION.fullmatch(text):
        return now - int(match.group(1)) * UNITS[match.group(2)] * 1000
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--since {text!r} is not a time: use 2024-05-01, 2024-05-01T12:00Z, 7d or milliseconds.", EXIT_USAGE)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _tag(text: str | None) -> str | None:
    if text is None:
        return None
    tag = text.lstrip("#").lower()
    if not tag or len(tag) > 64 or not set(tag) <= HASHTAG_CHARS:
        fail(f"--tag {text!r} is not a hashtag (1 to 64 letters, digits or underscores).", EXIT_USAGE)
    return tag


@contextmanager
def _output(file: str):  # type: ignore[no-untyped-def]
    """Stdout for ``-``; otherwise a new file (0600), written under a temporary name and renamed at the end, so
    a failed export leaves no half-written bundle behind."""
    if file == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(file)
    if path.exists():
        fail(f"{path} already exists; choose a new file name.", EXIT_LOCAL)
    partial = path.with_name(f".{path.name}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}.", EXIT_LOCAL)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def export_command(own_messages: OwnMessages) -> Callable[..., None]:
    """The ``export`` command, with ``--mine`` answered by ``own_messages``."""

    def export(
        ctx: typer.Context,
        file: FileArgument,
        data: Annotated[
            Path | None, typer.Option("--data", envvar="MURMUR_DATA", help="Export from this server's data directory.")
        ] = None,
        mine: Annotated[
            bool, typer.Option("--mine", help="Export your own messages from your home server (--home/--profile).")
        ] = False,
        since: Annotated[
            str | None, typer.Option(help="Only messages created since: 2024-05-01, 2024-05-01T12:00Z, 7d, or ms.")
        ] = None,
        author: Annotated[
            list[str] | None, typer.Option("--author", help="Only messages by this key (repeatable).")
        ] = None,
        tag: Annotated[str | None, typer.Option(help="Only messages carrying this hashtag.")] = None,
        include_local: Annotated[
            bool, typer.Option("--include-local", help="Also local posts (members-only) and what is about them.")
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Write signed messages to a bundle file, to carry to a server that cannot be reached."""
        authors = tuple(author or ())
        for key in authors:
            if not re.fullmatch(r"[0-9a-f]{64}", key):
                fail(f"--author {key!r} is not a key (64 lowercase hex digits).", EXIT_USAGE)
        chosen = ExportFilter(
            since=None if since is None else parse_since(since),
            authors=authors,
            tag=_tag(tag),
            include_local=include_local,
        )
        if mine:
            if authors:
                fail("--mine exports your own messages; it takes no --author.", EXIT_USAGE)
            count = _export_mine(own_messages(ctx, chosen), file, chosen)
            source = "your home server"
        elif data is not None:
            count = _export_data(data, file, chosen, quiet=as_json)
            source = str(data)
        else:
            fail("say where from: --data DIR (a server's data directory) or --mine (your own messages).", EXIT_USAGE)
        summary = {"file": file, "messages": count, "filter": chosen.as_dict()}
        if as_json and file != "-":
            emit_json(summary)
        else:
            say(f"Exported {count} messages from {source} to {'stdout' if file == '-' else file}.", err=True)

    return export


def _export_data(data: Path, file: str, chosen: ExportFilter, *, quiet: bool) -> int:
    async def work(store: Store, data_dir: DataDir) -> int:
        with _output(file) as out, progress_bars(quiet=quiet) as bars:
            return await export_bundle(store, out, chosen, progress=bars.track("Exporting", unit="messages"))

    return with_store(data, work)


def _export_mine(raws: list[bytes], file: str, chosen: ExportFilter) -> int:
    filters = {**chosen.as_dict(), "authors": "mine"}
    with _output(file) as out, BundleWriter(out, len(raws), filters) as writer:
        for raw in raws:
            writer.add(raw)
    return len(raws)


def import_command(import_mine: ImportMine) -> Callable[..., None]:
    """The ``import`` command, with ``--mine`` answered by ``import_mine``."""

    def import_(
        ctx: typer.Context,
        file: FileArgument,
        data: Annotated[
            Path | None, typer.Option("--data", envvar="MURMUR_DATA", help="Import into this server's data directory.")
        ] = None,
        mine: Annotated[
            bool,
            typer.Option(
                "--mine", help="Bring your own messages, local posts too, to your home server (--home/--profile)."
            ),
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Check and store every message of a bundle; report stored, duplicate and refused (with reasons)."""
        if mine == (data is not None):
            fail(
                "say where to: --data DIR (a server's data directory) or --mine (your own messages, to your server).",
                EXIT_USAGE,
            )

        async def into_store(store: Store, data_dir: DataDir) -> dict[str, Any]:
            with _input(file) as stream, progress_bars(quiet=as_json) as bars:
                progress = bars.track("Importing", unit="messages")
                return (await import_bundle(store, stream, progress=progress)).as_dict()

        try:
            if data is not None:
                report = with_store(data, into_store)
            else:
                with _input(file) as stream, progress_bars(quiet=as_json) as bars:
                    report = import_mine(ctx, stream, bars.track("Importing", unit="messages"))
        except Refused as refusal:
            fail(f"{file}: {refusal.message}", EXIT_REFUSED)
        if as_json:
            emit_json(report)
        else:
            _print_import(file, report)
        if report["refused"] or report["problems"]:
            raise typer.Exit(EXIT_REFUSED)

    return import_


@contextmanager
def _input(file: str) -> Iterator[IO[bytes]]:
    if file == "-":
        yield sys.stdin.buffer
        return
    try:
        stream = open(file, "rb")  # noqa: SIM115 -- closed below, after the import
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}.", EXIT_LOCAL)
    with stream:
        yield stream


def _print_import(file: str, report: dict[str, Any]) -> None:
    say(
        f"{'stdin' if file == '-' else file}: stored {report['stored']}, duplicate {report['duplicate']}, "
        f"deleted {report['deleted']}, refused {report['refused']}"
    )
    for code, count in sorted(report["reasons"].items()):
        say(f"  refused {count}: {code}")
    for refusal in report["refusals"][:10]:
        say(f"  line {refusal['line']}: {refusal.get('code')}: {refusal.get('reason')}")
    for problem in report["problems"]:
        say(f"  bundle: {problem['code']}: {problem['reason']}")
