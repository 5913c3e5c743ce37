"""Running a command against the profile's home server: identity, server URL, the signed client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer

from murmur.client.api import MurmurClient
from murmur.client.cli.common import globals_of
from murmur.client.devices import counter_path, publish_as_device, speaks_for
from murmur.client.mentions import key_for
from murmur.client.profiles import ProfileRef, resolve
from murmur.console import checked_argument
from murmur.errors import ConfigError
from murmur.keys import Identity
from murmur.mentions import KEY_PREFIX
from murmur.prefixes import checked_prefix
from murmur.validate import check_key

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
    """What every writing command publishes through: signed here, never a plain draft into a private group (by its
    signed creation message, ``refuse_plain``), whatever the home server says of the group."""
    # Imported here: it brings the group and identity checks and their stores, which `murmur tui` (built with this
    # module) does not need before its first paint.
    from murmur.client.group_authority import refuse_plain

    await refuse_plain(api, draft)
    return await publish_as_device(api, identity, draft)


def run(coro: Awaitable[T]) -> T:
    async def wrap() -> T:
        return await coro

    return asyncio.run(wrap())


async def publish_name(api: MurmurClient, identity: Identity, name: str) -> str | None:
    """Publish a signed profile with the display name the profile remembers, unless the server already holds a
    name for whom this device speaks (its identity, else its key; set since, perhaps from another device: never
    overwritten). Returns the profile's id. A name set before the key became an identity's device is not the
    identity's (docs/protocol.md §13.5), so it is published again once it is.

    Without it, a name given to ``murmur init --name`` stays on this machine and the person is nameless to
    everyone else; ``join`` and ``up`` both call it right after becoming a member.
    """
    if not name or (await api.profile(api.speaks_for or identity.public_key)).get("name"):
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
