"""What a device keeps of the identity it speaks for, the pairing request a new device hands an existing one,
and the recovery file (docs/cli.md, "Devices and recovery"). Plain functions; the commands are in
``murmur.client.cli.devices``.

Files in the profile's folder, each 0600: ``identity.json`` (the identity this device speaks for) and, until it is
exported, ``rotation.pem`` (the rotation key the log committed to: whoever holds it can take the identity back from
a thief, so it belongs offline). The device's encryption key is its signing key's X25519 form, kept in no file of
its own (docs/encryption.md §1); an ``x25519.pem`` an earlier version made is no longer read.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur.client.api import MurmurClient
from murmur.client.audience import narrowed
from murmur.errors import ConfigError, Refused
from murmur.key_events import device_body, device_proof, x25519_public
from murmur.keys import KEY_HEX, Identity, load_identity, verify_signature, write_private_file
from murmur.kinds.acting import acts_for
from murmur.kinds.key_log import EVENT_KINDS, proof_bytes, x25519_unheld
from murmur.message import complete_draft, sign_envelope
from murmur.validate import check, parse_json

REQUEST_TAG = "murmur device request v1"
RECOVERY_HEADER = "murmur recovery v1"


def _folder(key_path: Path) -> Path:
    return key_path.parent


def speaks_for(key_path: Path) -> str | None:
    """The identity this profile's device speaks for, None for a bare key."""
    path = _folder(key_path) / "identity.json"
    if not path.exists():
        return None
    try:
        value = parse_json(path.read_bytes(), limit=None, strict=False).get("identity")
    except (OSError, Refused, AttributeError) as exc:
        raise ConfigError(f"{path} is not an identity file ({exc}); move it aside to speak as the bare key.") from exc
    if not isinstance(value, str) or not KEY_HEX.fullmatch(value):
        raise ConfigError(f"{path} names no identity (64 lowercase hex digits).")
    return value


def remember_identity(key_path: Path, identity: str) -> None:
    data = json.dumps({"identity": identity}).encode()
    write_private_file(_folder(key_path) / "identity.json", data, force=True)


def encryption_key(key_path: Path) -> X25519PrivateKey:
    """The device's X25519 key: the X25519 form of its signing key (``key_path``), the one its identity's log may
    list for it (docs/protocol.md §13.3, ``x25519_not_derived``)."""
    return load_identity(key_path).sealing_key()


def counter_path(key_path: Path) -> Path:
    return _folder(key_path) / "counter.json"


def counted(envelope: dict[str, Any], path: Path) -> dict[str, Any]:
    """The envelope with this device's next counter and previous id (docs/protocol.md §13.8), if it is public;
    a message for a narrower audience is never counted, so that gaps betray nothing."""
    body, tags = envelope.get("body"), envelope.get("tags")
    if not isinstance(body, dict) or body.get("visibility", "public") != "public" or not isinstance(tags, list):
        return envelope
    last = json.loads(path.read_text()) if path.exists() else {"counter": 0, "previous": None}
    tags = [*tags, ["counter", str(int(last["counter"]) + 1)]]
    if last["previous"] is not None:
        tags.append(["previous", last["previous"]])
    return {**envelope, "tags": tags}


def count_published(message: dict[str, Any], path: Path) -> None:
    """Remember a counted message once its home server holds it: the next one follows it."""
    counter = next((v for n, v in message["tags"] if n == "counter"), None)
    if counter is not None:
        write_private_file(path, json.dumps({"counter": int(counter), "previous": message["id"]}).encode(), force=True)


def rotation_path(key_path: Path) -> Path:
    return _folder(key_path) / "rotation.pem"


# -- pairing -----------------------------------------------------------------------------------------------------
def device_request(device: Identity, identity: str, name: str, server: str | None) -> dict[str, Any]:
    """What a new device hands an existing one: its public keys, its name, and its proof, for ``identity``."""
    body = device_body(device.public_key, name, x25519_public(device.sealing_key()), device_proof(device, identity))
    return {"request": REQUEST_TAG, "identity": identity, **body, "server": server}


def short_code(request: dict[str, Any]) -> str:
    """Eight hex digits both devices show: the same code on both screens means the file was not swapped."""
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    return f"{digest[:4]}-{digest[4:8]}"


def read_request(text: str) -> dict[str, Any]:
    """A pairing request read back, its proof checked; ``ConfigError`` with the reason otherwise."""
    try:
        request = parse_json(text, limit=None, strict=False)
    except Refused as exc:
        raise ConfigError(
            f"This is not a device request: {exc.message} Use the file `murmur device add` wrote, unchanged."
        ) from exc
    if not isinstance(request, dict) or request.get("request") != REQUEST_TAG:
        raise ConfigError("This is not a murmur device request (made by `murmur device add`).")
    for member in ("identity", "key", "name", "x25519", "proof"):
        if not isinstance(request.get(member), str):
            raise ConfigError(f"The device request lacks {member!r}.")
    if not verify_signature(request["key"], request["proof"], proof_bytes(request["identity"], request["key"])):
        raise ConfigError("The device request's proof does not verify: it was altered, or made for another identity.")
    unheld = x25519_unheld(request["key"], request["x25519"])
    if unheld is not None:
        raise ConfigError(f"{unheld.reason} The request was altered, or made by a version before this rule.")
    return request


# -- recovery ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recovery:
    identity: str
    rotation: Identity
    seed: bytes


def words(seed: bytes) -> str:
    """The seed as 16 groups of four hex digits and a check group: something to print and type back."""
    text = seed.hex()
    groups = [text[i : i + 4] for i in range(0, len(text), 4)]
    return " ".join([*groups, hashlib.sha256(seed).hexdigest()[:4]])


def recovery_text(identity: str, seed: bytes, *, as_words: bool) -> str:
    secret = words(seed) if as_words else seed.hex()
    return f"{RECOVERY_HEADER}\nidentity {identity}\nrotation {secret}\n"


def read_recovery(text: str) -> Recovery:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines or lines[0] != RECOVERY_HEADER:
        raise ConfigError(f"This is not a recovery file (its first line is not {RECOVERY_HEADER!r}).")
    fields = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
    identity, secret = fields.get("identity", ""), fields.get("rotation", "").split()
    if not KEY_HEX.fullmatch(identity):
        raise ConfigError("The recovery file names no identity (64 lowercase hex digits).")
    if len(secret) == 17:  # the printable form: 16 groups and a check group
        seed_hex, check = "".join(secret[:16]), secret[16]
    elif len(secret) == 1:
        seed_hex, check = secret[0], None
    else:
        raise ConfigError("The recovery file's rotation key is neither 64 hex digits nor 17 groups of four.")
    try:
        seed = bytes.fromhex(seed_hex)
    except ValueError as exc:
        raise ConfigError("The recovery file's rotation key is not hex digits; check what was typed.") from exc
    if len(seed) != 32 or (check is not None and hashlib.sha256(seed).hexdigest()[:4] != check):
        raise ConfigError("The recovery file's rotation key does not check out; a group was mistyped.")
    return Recovery(identity, Identity.from_seed(seed), seed)


def new_rotation() -> tuple[Identity, bytes]:
    """A fresh rotation key and its seed (what the recovery file holds)."""
    seed = secrets.token_bytes(32)
    return Identity.from_seed(seed), seed


def keep_rotation(key_path: Path, seed: bytes) -> None:
    write_private_file(rotation_path(key_path), seed.hex().encode(), force=True)


def local_rotation(key_path: Path) -> Identity | None:
    path = rotation_path(key_path)
    if not path.exists():
        return None
    return Identity.from_seed(bytes.fromhex(path.read_text().strip()))


def for_identity(envelope: dict[str, Any], identity: str | None) -> dict[str, Any]:
    """The envelope naming the identity this device speaks for (docs/protocol.md §13.5), unless it is a key event
    (which names its identity itself) or names one already."""
    tags = envelope["tags"]
    if identity is None or envelope["kind"] in EVENT_KINDS or not isinstance(tags, list):
        return envelope
    if any(isinstance(t, list) and t[:1] == ["identity"] for t in tags):
        return envelope
    return {**envelope, "tags": [*tags, ["identity", identity]]}


def device_envelope(envelope: dict[str, Any], identity: str | None, counter_file: Path | None) -> dict[str, Any]:
    """What this device signs for a completed draft: the identity named and, for a public message, counted.
    Every client door that publishes (the CLI's ``publish_draft``, the TUI's ``publish``) signs this."""
    envelope = for_identity(envelope, identity)
    if counter_file is not None and envelope["kind"] not in EVENT_KINDS:
        envelope = counted(envelope, counter_file)
    return envelope


def mine_to_act_for(api: MurmurClient, message: dict[str, Any]) -> bool:
    """Whether this device may act for the author of ``message`` (delete, edit or update it, make a new version of
    it): it signed it, or it names the identity this device speaks for (another device of the same person wrote
    it; the servers judge each against the identity's log at its time: ``murmur.kinds.acting``)."""
    named = next((v for n, v in message.get("tags", []) if n == "identity"), None)
    return acts_for(api.identity.public_key, api.speaks_for, str(message.get("author")), named)


# The kinds that go where their target goes, and so sign their target's audience when it is narrower than public.
SIGNS_TARGET_AUDIENCE = frozenset({"reaction", "boost", "delete"})


async def with_target_audience(api: MurmurClient, draft: dict[str, Any]) -> dict[str, Any]:
    """A reaction, boost or delete about a local or scoped message signs that audience, as a reply does: a server
    that never held the target (it was deleted, or has not arrived) still narrows it, and it is never counted
    among the device's public messages, whose gaps anyone may see."""
    body = draft.get("body")
    target = next((v for n, v in draft.get("tags", []) if n == "target"), None)
    if draft.get("kind") not in SIGNS_TARGET_AUDIENCE or target is None or not isinstance(body, dict):
        return draft
    if "visibility" in body:
        return draft
    visibility = narrowed("public", str((await api.audience("public", [target]))["audience"]))
    return draft if visibility == "public" else {**draft, "body": {**body, "visibility": visibility}}


async def publish_as_device(api: MurmurClient, device: Identity, draft: dict[str, Any]) -> dict[str, Any]:
    """Sign a draft here (naming the identity, counted when public), check it as a server would, and publish it.
    The private key never leaves. The one way the CLI and the TUI publish what a person writes."""
    return await publish_signed(api, await signed_as_device(api, device, draft))


# The tags whose value is a message id (murmur.message): what a message's audience is narrowed by.
_NAMING_TAGS = ("reply", "root", "target")


async def _named_public(api: MurmurClient, draft: dict[str, Any]) -> bool:
    """Whether a draft signing no audience (an edit, a ballot, an RSVP, a letter's signature cannot sign one)
    names only what is public, as its home server knows it: only then is it counted among the device's public
    messages (``counted``). An edit of a scoped or local post goes no further than its post, so numbering it
    would show every other server's readers a gap for it, and name it in the next public message's ``previous``."""
    body = draft.get("body")
    if isinstance(body, dict) and "visibility" in body:
        return True  # it signs its audience: ``counted`` reads that
    names = [str(v) for n, v in draft.get("tags", []) if n in _NAMING_TAGS]
    return not names or (await api.audience("public", names))["audience"] == "public"


async def signed_as_device(api: MurmurClient, device: Identity, draft: dict[str, Any]) -> dict[str, Any]:
    """A draft signed here as ``publish_as_device`` signs it, checked as a server would, not sent yet."""
    draft = await with_target_audience(api, draft)
    counter_file = api.counter_file if api.counter_file is not None and await _named_public(api, draft) else None
    message = sign_envelope(device, device_envelope(complete_draft(draft, device.public_key), api.speaks_for,
                                                    counter_file))  # fmt: skip
    check(message)
    return message


async def publish_signed(api: MurmurClient, message: dict[str, Any]) -> dict[str, Any]:
    """Publish a message ``signed_as_device`` made, counting it when its server took it."""
    result = await api.publish(message)
    if api.counter_file is not None and result.get("status") in ("stored", "duplicate"):
        count_published(message, api.counter_file)
    result.setdefault("id", message["id"])
    return result
