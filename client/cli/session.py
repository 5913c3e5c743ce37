"""Running a command against the profile's home server: identity, server URL, the signed client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer

from murmur.client.api import MurmurClient
from murmur.client.cli.common import globals_of
from murmur.client.devices import count_published, counted, counter_path, speaks_for
from murmur.client.mentions import key_for
from murmur.client.profiles import ProfileRef, resolve
from murmur.console import checked_argument
from murmur.errors import ConfigError, Refused
from murmur.keys import Identity
from murmur.kinds.key_log import EVENT_KINDS
from murmur.mentions import KEY_PREFIX
from murmur.message import complete_draft, sign_envelope
from murmur.prefixes import checked_prefix
from murmur.validate import check, check_key

T = TypeVar("T")


def profile_of(ctx: typer.Context) -> ProfileRef:
    g = globals_of(ctx)
    return resolve(g.home, g.profile)


def server_url(ref: ProfileRef) -> str:
    url = ref.config().profiles.get(ref.name, {}).get("server")
    if not isinstance(url, str) or not url:
        raise ConfigError(
            f"Profile {ref.name!r} has no home server yet; join one with `murmur join URL --invite CODE`."
        )
    return url


def joined_server_key(ref: ProfileRef) -> str | None:
    """The key of the server this profile joined, which every answer must come from (None: not recorded)."""
    key = ref.config().profiles.get(ref.name, {}).get("server_key")
    return key if isinstance(key, str) and key else None


def client_for(ref: ProfileRef, identity: Identity) -> MurmurClient:
    """A signed client for the profile's home server that refuses answers from any other server."""
    api = MurmurClient(server_url(ref), identity, server_key=joined_server_key(ref))
    api.speaks_for = speaks_for(ref.key_path)
    api.counter_file = counter_path(ref.key_path) if api.speaks_for else None
    return api


def with_api(ctx: typer.Context, work: Callable[[MurmurClient, Identity], Awaitable[T]]) -> T:
    """Run ``work`` with a signed client for this profile's server, then close it."""
    ref = profile_of(ctx)
    identity = ref.identity()
    api = client_for(ref, identity)

    async def go() -> T:
        async with api:
            return await work(api, identity)

    return asyncio.run(go())


async def publish_draft(api: MurmurClient, identity: Identity, draft: dict[str, Any]) -> dict[str, Any]:
    """Sign a draft here, check it as a server would, and publish it. The private key never leaves."""
    envelope = for_identity(complete_draft(draft, identity.public_key), api.speaks_for)
    if api.counter_file is not None and envelope["kind"] not in EVENT_KINDS:
        envelope = counted(envelope, api.counter_file)
    message = sign_envelope(identity, envelope)
    try:
        check(message)
    except Refused:
        raise
    result = await api.publish(message)
    if api.counter_file is not None and result.get("status") in ("stored", "duplicate"):
        count_published(message, api.counter_file)
    result.setdefault("id", message["id"])
    return result


def for_identity(envelope: dict[str, Any], identity: str | None) -> dict[str, Any]:
    """The envelope naming the identity this device speaks for (docs/protocol.md §13.5), unless it is a key event
    (which names its identity itself) or names one already."""
    tags = envelope["tags"]
    if identity is None or envelope["kind"] in EVENT_KINDS or not isinstance(tags, list):
        return envelope
    if any(isinstance(t, list) and t[:1] == ["identity"] for t in tags):
        return envelope
    return {**envelope, "tags": [*tags, ["identity", identity]]}


def run(coro: Awaitable[T]) -> T:
    async def wrap() -> T:
        return await coro

    return asyncio.run(wrap())


async def publish_name(api: MurmurClient, identity: Identity, name: str) -> str | None:
    """Publish a signed profile with the display name the profile remembers, unless the server already holds a
    name for this key (set since, perhaps from another device: never overwritten). Returns the profile's id.

    Without it, a name given to ``murmur init --name`` stays on this machine and the person is nameless to
    everyone else; ``join`` and ``up`` both call it right after becoming a member.
    """
    if not name or (await api.profile(identity.public_key)).get("name"):
        return None
    result = await publish_draft(api, identity, {"kind": "profile", "body": {"name": name, "bio": ""}})
    return str(result["id"])


async def person_key(api: MurmurClient, typed: str) -> str:
    """A person's full key from what was typed: a key or 8 or more of its hex digits, or ``@handle``.

    A malformed key is a usage error, before anything is sent; a prefix or a handle is resolved by the server,
    refused when it is nobody's or several people's, and the answer checked against what was typed."""
    token, whole = typed_person(typed)
    return token if whole else await key_for(api, token)


def typed_person(typed: str) -> tuple[str, bool]:
    """What was typed for a person, checked for its form alone: a malformed key is a usage error (exit 2) before
    any profile, key file or server is consulted. Gives the key or prefix (lowercase) or the handle (no ``@``),
    and whether it is a whole key already."""
    token = typed.strip()
    by_name = token.startswith("@")
    token = token.removeprefix("@")
    if not by_name or KEY_PREFIX.fullmatch(token):
        token = checked_argument(lambda: checked_prefix(token, "key"))
        if len(token) == 64:
            checked_argument(lambda: check_key(token, "key"))
            return token, True
    return token, False
