"""Finding a message or a person from what someone typed: an id or key prefix, or a handle (``@ada``).

People read 12-hex short ids and fingerprints; every command accepts any unique prefix of 8 hex digits or more
(``murmur.prefixes``). A prefix is a range on the 32-byte BLOB (the prefix padded with 0s to the prefix padded
with fs), so a look-up is one index range read, however large the log. A prefix that matches more than one
message or key is refused with the candidates, never guessed.

These serve a member's client API only: a peer never asks which ids a prefix could be.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from murmur.errors import Refused
from murmur.keys import fingerprint
from murmur.kinds import kind
from murmur.kinds.key_log import INCEPTION
from murmur.mentions import MAX_HANDLE, handle_key, handle_of
from murmur.prefixes import checked_prefix
from murmur.store import Store
from murmur.store.items import select

CANDIDATES = 5  # shown when a prefix or a name is ambiguous

_IDS_SQL = "SELECT id, kind, author FROM messages WHERE id BETWEEN :lo AND :hi ORDER BY id LIMIT :n"
# Keys this server knows: its members, everyone whose profile it holds, every author of a message it holds.
# Identities are named as keys are (a profile, a mention, a follow), so their prefixes are looked up with keys.
_IDENTITIES = (
    "\n    UNION SELECT * FROM (SELECT identity FROM identities WHERE identity BETWEEN :lo AND :hi"
    " ORDER BY identity LIMIT :n)"
    if kind(INCEPTION)
    else ""
)
_KEYS_SQL = f"""
SELECT /* bounded sort: at most 4 * :n keys */ k FROM (
    SELECT * FROM (SELECT key AS k FROM members WHERE key BETWEEN :lo AND :hi ORDER BY key LIMIT :n)
    UNION SELECT * FROM (SELECT author FROM profiles WHERE author BETWEEN :lo AND :hi ORDER BY author LIMIT :n)
    UNION SELECT * FROM (
        SELECT DISTINCT author FROM messages WHERE author BETWEEN :lo AND :hi ORDER BY author LIMIT :n){_IDENTITIES}
) ORDER BY k LIMIT :n
"""

# People by the handle of their current display name (``profiles.handle``: ``mentions.handle_key``, bytes, which
# both engines compare byte by byte). A handle is read by equality; a prefix as the range from it to it followed
# by 0xff (no byte of UTF-8), in byte order, where the handle equal to the prefix comes first. Never the full-text
# index: it ranks "ann ann ann" above "Ann", so what it reads first could hide the one person a handle names.
_NAMED_SQL = "SELECT author, name, bio FROM profiles WHERE handle = :lo ORDER BY handle, author LIMIT :n"
_STARTING_SQL = (
    "SELECT author, name, bio FROM profiles WHERE handle >= :lo AND handle < :hi ORDER BY handle, author LIMIT :n"
)
NAME_CANDIDATES = 50  # people read per handle or prefix look-up: a bound on the answer, however many share it


@dataclass(frozen=True, slots=True)
class Named:
    key: str
    name: str
    bio: str = ""


@dataclass(frozen=True, slots=True)
class IdMatch:
    id: str
    kind: str
    author: str


def hex_range(prefix: str) -> dict[str, bytes]:
    """The BLOB bounds of every 32-byte value whose hex starts with ``prefix`` (hex digits, any case)."""
    prefix = prefix.lower()
    return {"lo": bytes.fromhex(prefix.ljust(64, "0")), "hi": bytes.fromhex(prefix.ljust(64, "f"))}


async def message_ids(store: Store, prefix: str, *, limit: int = CANDIDATES + 1) -> list[IdMatch]:
    """Messages held whose id starts with ``prefix``, in id order, at most ``limit``."""
    rows = await select(store.conn, _IDS_SQL, {**hex_range(prefix), "n": limit})
    return [IdMatch(bytes(r[0]).hex(), str(r[1]), bytes(r[2]).hex()) for r in rows]


async def known_keys(store: Store, prefix: str, *, limit: int = CANDIDATES + 1) -> list[str]:
    """Keys this server knows that start with ``prefix``, in order, at most ``limit``."""
    rows = await select(store.conn, _KEYS_SQL, {**hex_range(prefix), "n": limit})
    return [bytes(r[0]).hex() for r in rows]


async def resolve_message_id(store: Store, text: str) -> str:
    """The full id of the one message ``text`` names (all 64 hex digits, or a unique prefix).

    A full id is returned as it is, held or not (the caller says "not found" in its own words).
    """
    return await _one(store, text, "message id", _messages, "No message here has an id starting with {}.")


async def resolve_key(store: Store, text: str) -> str:
    """The full key of the one person ``text`` names (all 64 hex digits, or a unique prefix of a known key)."""
    return await _one(store, text, "key", _keys, "Nobody this server knows has a key starting with {}.")


Candidates = Callable[[Store, str], Awaitable[list[tuple[str, str]]]]
"""What a prefix could be: (full value, how to show it when it is one of several)."""


async def _one(store: Store, text: str, what: str, candidates: Candidates, missing: str) -> str:
    prefix = checked_prefix(text, what)
    if len(prefix) == 64:
        return prefix
    found = await candidates(store, prefix)
    if not found:
        raise Refused("not_found", missing.format(prefix))
    if len(found) > 1:
        more = " and more" if len(found) > CANDIDATES else ""
        shown = ", ".join(label for _, label in found[:CANDIDATES])
        raise Refused("ambiguous_id", f"{prefix} could be {shown}{more}; give more digits of the one you mean.")
    return found[0][0]


async def _messages(store: Store, prefix: str) -> list[tuple[str, str]]:
    found = await message_ids(store, prefix)
    names = await store.display_names([m.author for m in found]) if len(found) > 1 else {}
    return [(m.id, f"{m.id[:16]} ({m.kind} by {_person(m.author, names)})") for m in found]


async def _keys(store: Store, prefix: str) -> list[tuple[str, str]]:
    found = await known_keys(store, prefix)
    names = await store.display_names(found) if len(found) > 1 else {}
    return [(key, _person(key, names, digits=16)) for key in found]


def _person(key: str, names: dict[str, str], *, digits: int = 0) -> str:
    label = key[:digits] if digits else fingerprint(key)
    name = names.get(key)
    return f"{name!r} {label}" if name else label


async def _by_handle(store: Store, sql: str, handle: str) -> list[Named]:
    wanted = handle_key(handle) if len(handle) <= MAX_HANDLE else None
    if wanted is None:
        return []
    rows = await select(store.conn, sql, {"lo": wanted, "hi": wanted + b"\xff", "n": NAME_CANDIDATES})
    return [Named(bytes(r[0]).hex(), str(r[1]), str(r[2])) for r in rows]


async def people_named(store: Store, handle: str) -> list[Named]:
    """Everyone this server knows whose handle is ``handle`` (any case), by name then key; at most
    ``NAME_CANDIDATES`` of them, enough to tell that a handle is several people's."""
    found = await _by_handle(store, _NAMED_SQL, handle)
    return sorted(found, key=lambda p: (p.name, p.key))


async def people_starting(store: Store, prefix: str, *, limit: int = CANDIDATES) -> list[Named]:
    """People whose handle starts with ``prefix``, for completing a mention as it is typed: shortest handle first,
    among the first ``NAME_CANDIDATES`` in handle order, so the person whose handle is ``prefix`` comes first."""
    found = await _by_handle(store, _STARTING_SQL, prefix)
    return sorted(found, key=lambda p: (len(handle_of(p.name)), p.name, p.key))[:limit]
