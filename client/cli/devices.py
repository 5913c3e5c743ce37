"""``murmur identity create``, ``murmur device add|approve|list|remove``, ``murmur recovery export``,
``murmur key rotate``, ``murmur recover`` and ``murmur move``: an identity that outlives a device
(docs/cli.md, "Devices and recovery"; docs/protocol.md §13)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from murmur import key_events as ke
from murmur.client.api import ApiError, MurmurClient
from murmur.client.cli.common import EXIT_USAGE, emit_json, fail, read_text_file
from murmur.client.cli.session import client_for, profile_of, publish_name, with_api
from murmur.client.devices import (
    device_request,
    keep_rotation,
    local_rotation,
    new_rotation,
    read_recovery,
    read_request,
    recovery_text,
    remember_identity,
    rotation_path,
    short_code,
    speaks_for,
)
from murmur.client.profiles import ProfileRef
from murmur.errors import ConfigError, MurmurError, Refused
from murmur.keys import Identity, fingerprint, write_private_file
from murmur.terminal import say
from murmur.validate import check

identity_app = typer.Typer(help="Make this device's key the first device of an identity.", no_args_is_help=True)
device_app = typer.Typer(help="The devices that speak for your identity.", no_args_is_help=True)
recovery_app = typer.Typer(help="The recovery material (the next rotation key), kept offline.", no_args_is_help=True)
key_app = typer.Typer(help="Rotate the identity's rotation key.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
FIRST_DEVICE = "first device"


def _identity_of(ref: ProfileRef) -> str:
    identity = speaks_for(ref.key_path)
    if identity is None:
        raise ConfigError(
            f"Profile {ref.name!r} speaks as a bare key; make it an identity with `murmur identity create`,"
            " or pair it with one with `murmur device add IDENTITY`."
        )
    return identity


async def _publish(api: MurmurClient, message: dict[str, Any]) -> dict[str, Any]:
    check(message)  # as the server will: a fault is said here, before anything is sent
    result = await api.publish(message)
    if result.get("status") == "refused":
        raise ConfigError(f"The server refused the key event: {result.get('code')}: {result.get('reason')}")
    return result


def _run(ref: ProfileRef, work: Any) -> Any:
    device = ref.identity()
    api = client_for(ref, device)

    async def go() -> Any:
        async with api:
            return await work(api, device)

    return asyncio.run(go())


Make = Callable[[Identity, dict[str, Any]], dict[str, Any]]
"""Builds a key event from this device's key and the identity as the home server resolves it (its ``head``)."""


def _append(ref: ProfileRef, identity: str, make: Make) -> dict[str, Any]:
    """Publish the event ``make`` builds after the identity's latest event; the server's answer."""

    async def work(api: MurmurClient, device: Identity) -> dict[str, Any]:
        return await _publish(api, make(device, await api.identity_of(identity)))

    return dict(_run(ref, work))


@identity_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="This device's name in the identity's log.")] = FIRST_DEVICE,
    as_json: JsonOption = False,
) -> None:
    """Publish an inception: this device becomes the first device of a new identity, named by its digest."""
    ref = profile_of(ctx)
    if speaks_for(ref.key_path) is not None:
        fail(f"Profile {ref.name!r} already speaks for an identity; see `murmur whoami`.", EXIT_USAGE)
    out = new_identity(ref, name)
    if as_json:
        emit_json(out)
        return
    said_created(out, name)


def new_identity(ref: ProfileRef, name: str) -> dict[str, str]:
    """Publish an inception on the profile's home server: this device becomes the first device (called ``name``)
    of a new identity. Gives the identity, its fingerprint and the file holding its rotation key."""
    rotation, seed = new_rotation()

    async def work(api: MurmurClient, device: Identity) -> dict[str, Any]:
        message = ke.inception(device, name, ke.x25519_public(device.sealing_key()), rotation.public_key)
        keep_rotation(ref.key_path, seed)  # before publishing: an identity whose rotation key is lost is stuck
        await _publish(api, message)
        return message

    message = _run(ref, work)
    remember_identity(ref.key_path, message["id"])
    # A name set before the key became the identity's device is not the identity's: say it again, as the identity.
    display = str(ref.config().profiles.get(ref.name, {}).get("name") or "")
    _run(ref, lambda api, device: publish_name(api, device, display))
    return {
        "identity": message["id"],
        "fingerprint": fingerprint(message["id"]),
        "rotation_file": str(rotation_path(ref.key_path)),
    }


def said_created(out: dict[str, str], name: str) -> None:
    """What a person is told once an identity is made: what it is, and to move its rotation key offline."""
    say(f"Created identity {out['identity']} ({out['fingerprint']}); this device is {name!r}.")
    say(f"Its rotation key is in {out['rotation_file']}: move it offline with `murmur recovery export FILE`.")


@device_app.command("add")
def add(
    ctx: typer.Context,
    identity: Annotated[str, typer.Argument(help="The identity to join (`murmur whoami` on a device of it).")],
    name: Annotated[str, typer.Option(help="This device's name, e.g. phone.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the request for the approving device.")],
    server: Annotated[str | None, typer.Option(help="The identity's home server, if this profile has none.")] = None,
    as_json: JsonOption = False,
) -> None:
    """On the NEW device: write a pairing request (public keys and proof only) and show its short code."""
    ref = profile_of(ctx)
    config = ref.config()
    section = config.section(ref.name)
    if server is not None:
        if not server.startswith(("http://", "https://")):
            fail(f"{server!r} is not a URL; give it as http://host:port or https://host.", EXIT_USAGE)
        section["server"] = server.rstrip("/")
        config.save()
    request = device_request(ref.identity(), identity, name, section.get("server"))
    write_private_file(out, (_dumps(request) + "\n").encode(), force=True)
    remember_identity(ref.key_path, identity)
    code = short_code(request)
    if as_json:
        emit_json({"identity": identity, "key": request["key"], "code": code, "request_file": str(out)})
        return
    say(f"Wrote the request to {out}. Take it to a device of the identity and run `murmur device approve {out}`.")
    say(f"Check that it shows the same code: {code}")


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


@device_app.command("approve")
def approve(
    ctx: typer.Context,
    request_file: Annotated[Path, typer.Argument(help="The request `murmur device add` wrote on the new device.")],
    as_json: JsonOption = False,
) -> None:
    """On an EXISTING device: publish the event adding the requesting device to your identity."""
    ref = profile_of(ctx)
    identity = _identity_of(ref)
    request = read_request(read_text_file(request_file, "a device request"))
    if request["identity"] != identity:
        fail(f"The request is for identity {request['identity'][:12]}, not yours ({identity[:12]}).", EXIT_USAGE)

    body = ke.device_body(request["key"], request["name"], request["x25519"], request["proof"])
    result = _append(ref, identity, lambda device, view: ke.add_device(device, identity, view["head"], body))
    if as_json:
        emit_json({"identity": identity, "key": request["key"], "code": short_code(request), "event": result["id"]})
        return
    say(f"Added {request['name']!r} ({request['key'][:12]}), code {short_code(request)}: it speaks for you now.")


def _listing(view: dict[str, Any], me: str) -> dict[str, Any]:
    devices = [
        {"key": d["key"], "name": d["name"], "added_at": d["added_at"],
         "current": d["removed_at"] is None and d.get("disputed_at") is None, "removed_at": d["removed_at"],
         "disputed_at": d.get("disputed_at"), "this_device": d["key"] == me}
        for d in view["devices"]
    ]  # fmt: skip
    return {"identity": view["identity"], "fingerprint": view["fingerprint"], "devices": devices,
            "fork": view.get("fork"), "home": view.get("home"), "head": view.get("head")}  # fmt: skip


def device_state(d: dict[str, Any]) -> str:
    """How ``device list`` names a device's standing: a disputed device is not a removed one (protocol §13.4)."""
    if d["current"]:
        return "current"
    if d["removed_at"] is not None:
        return f"removed at {d['removed_at']}"
    return f"disputed since {d['disputed_at']} (a fork)"


@device_app.command("list")
def list_devices(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The identity's devices as its log says, removed ones too, and a fork if the log has one."""
    ref = profile_of(ctx)
    identity = _identity_of(ref)
    view = with_api(ctx, lambda api, _: api.identity_of(identity))
    listing = _listing(view, ref.identity().public_key)
    if as_json:
        emit_json(listing)
        return
    say(f"identity {listing['identity']} ({listing['fingerprint']})")
    for d in listing["devices"]:
        say(f"  {d['name']:<16} {d['key'][:16]}  {device_state(d)}{'  (this device)' if d['this_device'] else ''}")
    if listing["fork"]:
        fork = listing["fork"]
        if fork.get("backdated"):
            say(f"  FORK after {fork['place'][:12]}: a device's removal dated before what this server had accepted")
            say("  from the device it removes.")
        else:
            say(f"  FORK after {fork['place'][:12]}: {len(fork['branches'])} events claim the same place.")
        say("  A device key or the rotation key was copied: settle it with `murmur key rotate` (the devices current")
        say("  before the fork stay) or `murmur recover FILE` (only the recovering device stays).")


@device_app.command("remove")
def remove(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="The device's name or the start of its key.")],
    as_json: JsonOption = False,
) -> None:
    """Remove a device: what it signs from now on is refused everywhere; what it signed before stays."""
    ref = profile_of(ctx)
    identity = _identity_of(ref)

    removed: list[str] = []

    def make(me: Identity, view: dict[str, Any]) -> dict[str, Any]:
        found = [
            d for d in view["devices"] if d["removed_at"] is None and device in (d["name"], d["key"][: len(device)])
        ]
        if len(found) != 1:
            raise ConfigError(f"{device!r} names {len(found)} current devices; give its name or more of its key.")
        removed.append(found[0]["key"])
        return ke.remove_device(me, identity, view["head"], found[0]["key"])

    event = _append(ref, identity, make)
    result = {"identity": identity, "removed": removed[0], "event": event["id"]}
    if as_json:
        emit_json(result)
        return
    say(f"Removed {device!r} ({result['removed'][:12]}) from the identity.")


@recovery_app.command("export")
def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the recovery material (created 0600).")],
    as_words: Annotated[
        bool, typer.Option("--words", help="Write it as groups of four to print or copy by hand.")
    ] = False,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the copy on this device too (not advised).")] = False,
) -> None:
    """Write the rotation key to FILE and, unless --keep, remove it from this device: a thief of this device
    then cannot take the identity; whoever holds FILE can."""
    ref = profile_of(ctx)
    identity = _identity_of(ref)
    path = rotation_path(ref.key_path)
    if not path.exists():
        fail("This device does not hold the rotation key (exported already?); nothing to export.", EXIT_USAGE)
    seed = bytes.fromhex(path.read_text().strip())
    write_private_file(file, recovery_text(identity, seed, as_words=as_words).encode(), force=True)
    if not keep:
        path.unlink()
    say(f"Wrote the recovery material to {file} (0600). Keep it offline; it is needed to rotate or recover.")


@key_app.command("rotate")
def rotate(
    ctx: typer.Context,
    recovery_file: Annotated[Path | None, typer.Option("--recovery", help="The recovery file, if exported.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Use the committed rotation key and commit to a new one; devices stay. The recovery file (or this
    device's copy) is replaced with the new key."""
    ref = profile_of(ctx)
    identity = _identity_of(ref)
    rotation = (
        read_recovery(read_text_file(recovery_file, "a recovery file")).rotation
        if recovery_file
        else local_rotation(ref.key_path)
    )
    if rotation is None:
        fail("Give the recovery file with --recovery FILE: this device does not hold the rotation key.", EXIT_USAGE)
    following, seed = new_rotation()

    def make(_: Identity, view: dict[str, Any]) -> dict[str, Any]:
        return ke.rotation(rotation, identity, view["head"], following.public_key)

    result = _committing(ref, identity, seed, recovery_file, make)
    if as_json:
        emit_json({"identity": identity, "event": result["id"]})
        return
    say(f"Rotated; the new rotation key replaced the old in {recovery_file or rotation_path(ref.key_path)}.")


def _committing(ref: ProfileRef, identity: str, seed: bytes, recovery_file: Path | None, make: Make) -> dict[str, Any]:
    """Publish the event ``make`` builds, which commits to the rotation key ``seed``, and keep that key where the used
    one was (FILE, or this device's copy) once the home server holds the event. Until then the new key waits beside
    it (``FILE.next``), so that neither is ever lost: a refused event leaves the key in use where it was and drops
    the new one; an answer that never came (the server unreachable, or failing) keeps both, and says where."""
    target = recovery_file if recovery_file is not None else rotation_path(ref.key_path)
    pending = target.with_name(f"{target.name}.next")
    write_private_file(pending, _rotation_text(recovery_file, identity, seed), force=True)
    try:
        result = _append(ref, identity, make)
    except MurmurError as error:
        if isinstance(error, ConfigError | Refused) or (isinstance(error, ApiError) and error.status < 500):
            pending.unlink()  # refused: nothing commits to the new key
        else:
            _say_unknown(error, target, pending)
        raise
    write_private_file(target, _rotation_text(recovery_file, identity, seed), force=True)
    pending.unlink()
    return result


def _rotation_text(recovery_file: Path | None, identity: str, seed: bytes) -> bytes:
    """What holds a rotation key: a recovery file, or this device's ``rotation.pem``."""
    if recovery_file is not None:
        return recovery_text(identity, seed, as_words=False).encode()
    return seed.hex().encode()


def _say_unknown(error: MurmurError, target: Path, pending: Path) -> None:
    """Adds to ``error`` (its kind, and so its exit status, unchanged) where both keys are, and what to do."""
    error.message = (
        f"{error.message} The event may have reached the server: the key in use stays in {target}, and the next"
        f" one it commits to is in {pending}. If `murmur device list` shows a rotation as the newest event, move"
        f" {pending.name} over {target.name}; if not, delete {pending.name} and try again."
    )
    error.args = (error.message,)


def recover(
    ctx: typer.Context,
    recovery_file: Annotated[Path, typer.Argument(help="The recovery file `murmur recovery export` wrote.")],
    name: Annotated[str, typer.Option(help="This device's name in the log.")] = "recovered",
    as_json: JsonOption = False,
) -> None:
    """Take the identity back: every device is revoked, this one added, and the rotation key rotated, in one
    event signed by the rotation key. The recovery file is replaced with the next rotation key."""
    ref = profile_of(ctx)
    recovery = read_recovery(read_text_file(recovery_file, "a recovery file"))
    identity = recovery.identity
    following, seed = new_rotation()

    def make(device: Identity, view: dict[str, Any]) -> dict[str, Any]:
        if any(d["key"] == device.public_key for d in view["devices"]):
            raise ConfigError(
                "This device is already one of the identity's devices, and a recovery adds a new one (a key that"
                " was a device never comes back): settle a fork from here with `murmur key rotate --recovery FILE`,"
                " which keeps the devices current before it, or run `murmur recover FILE` on a new device."
            )
        x25519 = ke.x25519_public(device.sealing_key())
        body = ke.device_body(device.public_key, name, x25519, ke.device_proof(device, identity))
        return ke.recovery(recovery.rotation, identity, view["head"], following.public_key, body)

    result = _committing(ref, identity, seed, recovery_file, make)
    remember_identity(ref.key_path, identity)
    if as_json:
        emit_json({"identity": identity, "event": result["id"], "device": ref.identity().public_key})
        return
    say(f"Recovered {identity[:12]}: every other device is revoked; this one ({name!r}) speaks for it.")


def move(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The identity's new home server, http(s)://host[:port].")],
    as_json: JsonOption = False,
) -> None:
    """Tell everyone, in an event signed by the identity, that its home server is now URL."""
    ref = profile_of(ctx)
    identity = _identity_of(ref)

    result = _append(ref, identity, lambda device, view: ke.move(device, identity, view["head"], url.rstrip("/")))
    if as_json:
        emit_json({"identity": identity, "home": url.rstrip("/"), "event": result["id"]})
        return
    say(f"Published the move of {identity[:12]} to {url}.")
