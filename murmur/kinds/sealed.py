"""A sealed message: a direct message no server can read (docs/encryption.md §9).

Its body holds an envelope (``murmur.sealing``) as canonical JSON text and the audience the message travels to
(``visibility``, as a post's). It is signed by a one-time Ed25519 key made for it alone, never by a device, and
its ``created_at`` is coarse (a whole multiple of ``COARSE_MS``): a server learns neither who sent it nor when to
the second. It carries no tags at all, so it names no identity, counts nothing and names no other message.

Servers check what they can see: the message's shape, size and signature, and the envelope's shape (its
version, recipient devices and padded body; ``bad_value`` otherwise). They keep an index of sealed messages by
recipient device (``sealed_to``), answer each member with the messages sealed to any device of their identity
(``sealed_for``), and show them nowhere else: no timeline, thread, search, notice, count or web page
(``withheld``). What a message says is opened on the recipients' devices only (``murmur.direct``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import aiosqlite

from murmur.errors import Refused
from murmur.group_sealing import check_shape
from murmur.jcs import canonicalize
from murmur.kinds.base import Field, Kind, Tags, visibility_rule
from murmur.message import LONGEST_VISIBILITY, Message
from murmur.sealing import recipients_of

if TYPE_CHECKING:  # the store imports the registry, and so this module
    from murmur.store import Store

NAME = "sealed"
COARSE_MS = 10 * 60 * 1000
LONGEST_ENVELOPE = 16 * 1024  # the message's own cap (16384 bytes) is the real bound


Row = tuple[int, bytes, int]  # a sealed message as held: its seq, its signed bytes, when it reached this server
# A member hands a sealed message in within its coarse window and the clock skew allowed either way
# (``murmur.kinds.base.HANDED_IN_WITHIN_MS``, ``Kind.handed_in_fresh``; tests/core/test_direct.py holds the sum).


def envelope_text(envelope: Mapping[str, Any]) -> str:
    """The one spelling of an envelope inside a sealed message's body: its RFC 8785 form."""
    return canonicalize(dict(envelope)).decode("utf-8")


def _canonical_object(body: Mapping[str, Any], member: str) -> dict[str, Any]:
    """The JSON object a sealed message's body holds as text under ``member``, in its one (RFC 8785) spelling;
    ``bad_value`` otherwise."""
    text = body.get(member)
    try:
        found = json.loads(text) if isinstance(text, str) else None
        canonical = isinstance(found, dict) and envelope_text(found) == text
    except (ValueError, RecursionError, Refused) as exc:
        raise Refused("bad_value", f"{member} is not JSON text in its canonical (RFC 8785) form.") from exc
    if not canonical or not isinstance(found, dict):
        raise Refused("bad_value", f"{member} is not a JSON object in its canonical (RFC 8785) form.")
    return found


def envelope_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope a sealed message's body holds; ``bad_value`` when it is not one, in its one spelling."""
    return _canonical_object(body, "envelope")


def group_message_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The private group message a sealed message's body holds (docs/encryption.md §12, §16), checked for what a
    server can see: its version and shape; ``bad_value`` when it is not one, in its one spelling."""
    message = _canonical_object(body, "group_message")
    try:
        check_shape(message)
    except Refused as refusal:
        raise Refused("bad_value", f"group_message: {refusal.message}") from refusal
    return message


def _envelope_rule(body: Mapping[str, Any], tags: Tags) -> None:
    """A sealed message holds exactly one thing no server can read: an envelope sealed to devices (a direct
    message, a group's epoch chunk) or a private group's message (sealed under its epoch's keys)."""
    if "envelope" not in body and "group_message" not in body:
        raise Refused("missing_field", "body.envelope is required (or, for a private group, body.group_message).")
    if "envelope" in body and "group_message" in body:
        raise Refused("bad_value", "A sealed message holds an envelope or a group_message, not both.")
    if "group_message" in body:
        group_message_of(body)
        return
    try:
        recipients_of(envelope_of(body))
    except Refused as refusal:
        if refusal.code == "bad_value":
            raise
        raise Refused("bad_value", f"envelope: {refusal.message}") from refusal


def devices_of(message: Message) -> list[str]:
    """The recipient devices (X25519, 64 hex) of a sealed message that passed validation; none for a group's."""
    if "envelope" not in message.body:
        return []
    return [entry["device"] for entry in json.loads(message.body["envelope"])["to"]]


def group_of(message: Message) -> str | None:
    """The private group a validated sealed message is written to (64 hex), None for an envelope."""
    text = message.body.get("group_message")
    return str(json.loads(text)["group"]) if isinstance(text, str) else None


MIGRATIONS = (
    """
    CREATE TABLE sealed_to (device BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (device, seq));
    CREATE INDEX sealed_to_by_seq ON sealed_to (seq);
    """,
    # Private groups' messages, by the group they name in the clear (docs/encryption.md §16).
    """
    CREATE TABLE sealed_groups (grp BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (grp, seq));
    CREATE INDEX sealed_groups_by_seq ON sealed_groups (seq);
    """,
)


async def index(conn: aiosqlite.Connection, stored: list[tuple[int, Message]]) -> None:
    """Note each stored sealed message under every device it is sealed to (in the write transaction)."""
    rows = [(bytes.fromhex(device), seq) for seq, m in stored for device in devices_of(m)]
    await conn.executemany("INSERT INTO sealed_to (device, seq) VALUES (?, ?) ON CONFLICT DO NOTHING", rows)
    groups = [(bytes.fromhex(group), seq) for seq, m in stored if (group := group_of(m)) is not None]
    await conn.executemany("INSERT INTO sealed_groups (grp, seq) VALUES (?, ?) ON CONFLICT DO NOTHING", groups)


def _never_shown(row: str) -> str:
    return f"{row}.kind = '{NAME}'"


KIND = Kind(
    name=NAME,
    body={
        "envelope": Field(False, LONGEST_ENVELOPE),
        "group_message": Field(False, LONGEST_ENVELOPE),
        "visibility": Field(True, LONGEST_VISIBILITY),
    },
    tags={"identity": (0, 0), "counter": (0, 0), "previous": (0, 0)},
    rules=(visibility_rule, _envelope_rule),
    indexed=False,
    apply=index,
    migrations=MIGRATIONS,
    withheld=_never_shown,
    coarse_ms=COARSE_MS,
    one_time_author=True,
    handed_in_fresh=True,  # dated before a device was removed, it would still open there
)


# The X25519 keys of every device (current or not) of the identity whose device ``key`` is still current: what a
# member's sealed messages are addressed to. A bare key, or a removed or disputed device, has none.
_DEVICES_SQL = (
    "SELECT o.x25519 FROM identity_devices d CROSS JOIN identity_devices o ON o.identity = d.identity"
    " WHERE d.device = ? AND d.removed_at IS NULL AND d.disputed_at IS NULL"
)


async def member_devices(store: Store, key: str) -> list[bytes]:
    """The X25519 keys (32 bytes each) of every device of the identity the device ``key`` currently speaks for."""
    async with store.conn.execute(_DEVICES_SQL, (bytes.fromhex(key),)) as cursor:
        return sorted({bytes(row[0]) for row in await cursor.fetchall()})


_FOR_SQL = (
    "SELECT DISTINCT m.seq, m.raw, m.received_at FROM sealed_to s CROSS JOIN messages m ON m.seq = s.seq"
    " WHERE s.device IN ({marks}) AND s.seq > ? ORDER BY m.seq LIMIT ?"
)


async def sealed_for(store: Store, devices: Sequence[bytes], after: int, limit: int) -> list[Row]:
    """The sealed messages (``Row``) after log position ``after`` sealed to any of ``devices``, oldest first, at
    most ``limit``."""
    if not devices:
        return []
    marks = ",".join("?" * len(devices))
    async with store.conn.execute(_FOR_SQL.format(marks=marks), (*devices, after, limit)) as cursor:
        return [(int(row[0]), bytes(row[1]), int(row[2])) for row in await cursor.fetchall()]


# The member keys (a current device of an identity, as ``_DEVICES_SQL`` answers them) each sealed message in a
# stretch of the log is for: one read for every stream at once.
_MEMBERS_SQL = (
    "SELECT DISTINCT s.seq, d.device FROM sealed_to s CROSS JOIN identity_devices o ON o.x25519 = s.device"
    " CROSS JOIN identity_devices d ON d.identity = o.identity"
    " WHERE s.seq > ? AND s.seq <= ? AND d.removed_at IS NULL AND d.disputed_at IS NULL"
)


async def members_between(store: Store, after: int, upto: int) -> dict[int, frozenset[str]]:
    """The sealed messages at log positions in (``after``, ``upto``] sealed to a member, each with the keys (hex)
    of those members' current devices: whom the live stream tells of each (``member_devices``, turned around)."""
    members: dict[int, set[str]] = {}
    async with store.conn.execute(_MEMBERS_SQL, (after, upto)) as cursor:
        for row in await cursor.fetchall():
            members.setdefault(int(row[0]), set()).add(bytes(row[1]).hex())
    return {seq: frozenset(keys) for seq, keys in members.items()}


# The current devices of the group's current members each private group message in a stretch of the log is
# announced to: a member's key in the fold is an identity or a device of one, so each is taken to its identity and
# that identity's devices not removed or disputed. Narrower than the feed's rule (``in_group``): a former member
# still fetches the group's messages, but one written after their removal is nothing they can read, so their
# streams are not told of it.
_GROUP_MEMBERS_SQL = (
    "WITH m AS (SELECT g.seq, g.grp, p.key FROM sealed_groups g CROSS JOIN groups_people p ON p.grp = g.grp"
    " WHERE g.seq > ? AND g.seq <= ? AND p.status = 'member'),"
    " who AS (SELECT m.seq, m.grp, m.key AS identity FROM m"
    " UNION SELECT m.seq, m.grp, o.identity FROM m CROSS JOIN identity_devices o ON o.device = m.key)"
    " SELECT DISTINCT who.seq, who.grp, d.device FROM who CROSS JOIN identity_devices d ON d.identity = who.identity"
    " WHERE d.removed_at IS NULL AND d.disputed_at IS NULL"
)


async def group_members_between(store: Store, after: int, upto: int) -> dict[int, tuple[str, frozenset[str]]]:
    """The private group messages at log positions in (``after``, ``upto``], each with its group (hex) and the keys
    (hex) of the current devices of that group's members now: whom the live stream tells of each."""
    found: dict[int, tuple[str, set[str]]] = {}
    async with store.conn.execute(_GROUP_MEMBERS_SQL, (after, upto)) as cursor:
        for row in await cursor.fetchall():
            found.setdefault(int(row[0]), (bytes(row[1]).hex(), set()))[1].add(bytes(row[2]).hex())
    return {seq: (group, frozenset(keys)) for seq, (group, keys) in found.items()}


# Whether the device ``key`` (or another device of its identity, or that identity) has a place in the group: a
# member, or a former one (who still reads the epochs it was in, and nothing after: docs/encryption.md §13).
_IN_GROUP_SQL = (
    "SELECT 1 FROM groups_people p WHERE p.grp = ? AND p.status IN ('member', 'removed') AND (p.key = ?"
    " OR p.key IN (SELECT o.device FROM identity_devices d CROSS JOIN identity_devices o ON o.identity = d.identity"
    " WHERE d.device = ?) OR p.key IN (SELECT d.identity FROM identity_devices d WHERE d.device = ?))"
)


async def in_group(store: Store, key: str, group: str) -> bool:
    """Whether the device ``key`` speaks for someone who is or was a member of ``group``."""
    me = bytes.fromhex(key)
    async with store.conn.execute(_IN_GROUP_SQL, (bytes.fromhex(group), me, me, me)) as cursor:
        return await cursor.fetchone() is not None


async def readable_by(store: Store, key: str, msg_id: str) -> bool:
    """Whether the device ``key`` may fetch the stored message ``msg_id`` by its id, by the sealed feeds' rule: any
    message that is not sealed; a private group's only to its members and former members (``in_group``); any other
    sealed message only to the identity of a device it is sealed to (``member_devices``)."""
    async with store.conn.execute(_PLACE_SQL, (bytes.fromhex(msg_id),)) as cursor:
        row = await cursor.fetchone()
    if row is None or row[0] != NAME:
        return True
    if row[1] is not None:
        return await in_group(store, key, bytes(row[1]).hex())
    async with store.conn.execute(_TO_SQL, (int(row[2]),)) as cursor:
        addressed = {bytes(r[0]) for r in await cursor.fetchall()}
    return bool(addressed & set(await member_devices(store, key)))


_PLACE_SQL = "SELECT m.kind, g.grp, m.seq FROM messages m LEFT JOIN sealed_groups g ON g.seq = m.seq WHERE m.id = ?"
_TO_SQL = "SELECT device FROM sealed_to WHERE seq = ?"
_IN_SQL = (
    "SELECT m.seq, m.raw, m.received_at FROM sealed_groups g CROSS JOIN messages m ON m.seq = g.seq"
    " WHERE g.grp = ? AND g.seq > ? ORDER BY g.seq LIMIT ?"
)


async def sealed_in(store: Store, group: str, after: int, limit: int) -> list[Row]:
    """A private group's sealed messages (``Row``) after log position ``after``, oldest first."""
    async with store.conn.execute(_IN_SQL, (bytes.fromhex(group), after, limit)) as cursor:
        return [(int(row[0]), bytes(row[1]), int(row[2])) for row in await cursor.fetchall()]
