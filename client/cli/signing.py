"""``murmur sign`` and ``murmur verify``: work with signed messages offline, no server involved."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from murmur.client.cli.common import EXIT_REFUSED, emit_exact, emit_json, fail, globals_of, read_input
from murmur.client.profiles import resolve
from murmur.errors import Refused
from murmur.jcs import canonicalize
from murmur.kinds import kind
from murmur.message import sign_draft
from murmur.terminal import say
from murmur.validate import check, parse_json


def sign(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="Draft JSON file; stdin when absent or '-'.")] = None,
) -> None:
    """Sign a draft (a JSON object) and print the signed message as one canonical JSON line."""
    g = globals_of(ctx)
    identity = resolve(g.home, g.profile).identity()
    draft = parse_json(read_input(file), limit=None)
    signed = sign_draft(identity, draft)
    check(signed)  # what we print must pass the same validation any server applies
    if kind(signed["kind"]) is None:  # valid, and carried by servers, but no home server would take it from us
        unknown = f"This version of murmur does not know the kind {signed['kind']!r}; it signs only those it knows."
        raise Refused("unknown_kind", unknown)
    emit_exact(canonicalize(signed).decode("utf-8"))


def verify(
    file: Annotated[Path | None, typer.Argument(help="Messages as JSON Lines; stdin when absent or '-'.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per message (JSON Lines).")] = False,
) -> None:
    """Check messages; print `ok ID` or `refused CODE: sentence` for each. Exit 0 only if all are valid."""
    lines = [line for line in read_input(file).split(b"\n") if line.strip()]
    if not lines:
        fail("no messages on input; give a file of JSON lines or pipe them in.")
    failures = 0
    for number, line in enumerate(lines, 1):
        try:
            message = check(line)
        except Refused as refusal:
            failures += 1
            if as_json:
                emit_json({"line": number, "status": "refused", **refusal.as_dict()})
            else:
                say(f"refused {refusal.code}: {refusal.message}")
            continue
        if as_json:
            emit_json({"line": number, "status": "ok", "id": message.id})
        else:
            say(f"ok {message.id}")
    if failures:
        raise typer.Exit(EXIT_REFUSED)
