"""``murmur init`` and ``murmur whoami``: create and show a person's identity."""

from __future__ import annotations

from typing import Annotated

import typer

from murmur.client.cli.common import emit_json, globals_of
from murmur.client.devices import speaks_for
from murmur.client.profiles import resolve
from murmur.keys import Identity, fingerprint, save_identity
from murmur.terminal import say


def init(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Display name to remember for this profile.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key (the old one is lost).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create an Ed25519 identity in the home directory."""
    g = globals_of(ctx)
    ref = resolve(g.home, g.profile)
    identity = Identity.generate()
    save_identity(ref.key_path, identity, force=force)
    config = ref.config()
    section = config.section(ref.name)
    if name is not None:
        section["name"] = name
    config.save()
    if as_json:
        emit_json({"key": identity.public_key, "profile": ref.name, "key_file": str(ref.key_path)})
    else:
        say(f"Created identity {identity.public_key}")
        say(f"  fingerprint {identity.fingerprint}, profile {ref.name!r}, key file {ref.key_path} (0600)")


def whoami(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show this profile's public key, display name and home server."""
    g = globals_of(ctx)
    ref = resolve(g.home, g.profile)
    identity = ref.identity()
    section = ref.config().profiles.get(ref.name, {})
    speaking_for = speaks_for(ref.key_path)
    info = {
        "identity": speaking_for or identity.public_key,
        "identity_fingerprint": fingerprint(speaking_for or identity.public_key),
        "key": identity.public_key,
        "fingerprint": identity.fingerprint,
        "name": section.get("name"),
        "profile": ref.name,
        "server": section.get("server"),
    }
    if as_json:
        emit_json(info)
        return
    say(identity.public_key)
    if speaking_for is not None:
        say(f"  device of identity {speaking_for} ({fingerprint(speaking_for)})")
    label = f"{info['name']} " if info["name"] else ""
    say(
        f"  {label}({identity.fingerprint}) profile {ref.name!r}" + (f" on {info['server']}" if info["server"] else "")
    )
