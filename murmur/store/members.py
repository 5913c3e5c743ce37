"""Membership of this server and the invites that grant it.

An invite is a random code (192 bits, URL-safe) that one key can redeem once before it expires. Redeeming
checks and consumes the code and adds the member in one write transaction, and the consuming UPDATE only
matches an unused code, so two people racing with the same code cannot both get in, even from two
processes on the same file. Times are milliseconds since the epoch, like messages' ``created_at``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from murmur.errors import Refused
from murmur.kinds import kind
from murmur.kinds.key_log import INCEPTION
from murmur.kinds.key_store import DEVICE_STANDING, standing_role
from murmur.message import now_ms
from murmur.store import Store
from murmur.store.items import select
from murmur.validate import check_key

ROLES = ("admin", "member")
INVITE_TTL_S = 7 * 86400
CODE_BYTES = 24  # 192 bits of randomness


@dataclass(frozen=True, slots=True)
class Member:
    key: str
    role: str
    joined_at: int
    name: str  # from the member's latest profile; '' if none is held
    invited_by: str | None = None


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    created_at: int
    expires_at: int
    used_by: str | None
    used_at: int | None
    note: str


def _key(key_hex: str) -> bytes:
    check_key(key_hex, "member key")
    return bytes.fromhex(key_hex)


def _role(role: str) -> str:
    if role not in ROLES:
        raise Refused("bad_value", f"A member's role is one of {', '.join(ROLES)}; got {role[:20]!r}.")
    return role


async def add_member(
    store: Store, key_hex: str, role: str = "member", invited_by: str | None = None, *, now: int | None = None
) -> bool:
    """Add the key as a member; False (and nothing changed) when it already is one. See ``set_role``."""
    key, role = _key(key_hex), _role(role)
    async with store.writer.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO members (key, role, joined_at, invited_by) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (key, role, now_ms() if now is None else now, invited_by),
        )
        return cursor.rowcount == 1


async def set_role(store: Store, key_hex: str, role: str) -> bool:
    """Change a member's role; False when the key is not a member."""
    key, role = _key(key_hex), _role(role)
    async with store.writer.transaction() as conn:
        cursor = await conn.execute("UPDATE members SET role = ? WHERE key = ?", (role, key))
        return cursor.rowcount == 1


async def remove_member(store: Store, key_hex: str) -> bool:
    """Remove a member; False when the key was not one. Their messages stay (they are signed, public)."""
    key = _key(key_hex)
    async with store.writer.transaction() as conn:
        cursor = await conn.execute("DELETE FROM members WHERE key = ?", (key,))
        return cursor.rowcount == 1


# The members row and, when key events are kept, what the identity logs say of the key as a device, in one
# statement: the member look-up comes before every signed request's work, and each round trip costs the event loop.
_OWN_ROLE = "SELECT 1 AS own, NULL AS removed, role FROM members WHERE key = ?"
_ROLE_AND_STANDING = f"{_OWN_ROLE} UNION ALL SELECT 0, removed, role FROM ({DEVICE_STANDING}) AS standing"


async def member_role(store: Store, key_hex: str) -> str | None:
    try:
        key = _key(key_hex)
    except Refused:
        return None
    if kind(INCEPTION) is None:
        rows = await select(store.conn, _OWN_ROLE, (key,))
        return str(rows[0][2]) if rows else None
    rows = await select(store.conn, _ROLE_AND_STANDING, (key, key))
    by_identity = standing_role([r[1:] for r in rows if r[0] == 0])
    if by_identity == "":  # a device removed from its identity: it no longer speaks here, whatever it joined as
        return None
    own = [str(r[2]) for r in rows if r[0] == 1]
    return own[0] if own else by_identity


async def count_members(store: Store) -> int:
    rows = await select(store.conn, "SELECT count(*) FROM members", ())
    return int(rows[0][0])


async def list_members(store: Store) -> list[Member]:
    """Members in the order they joined."""
    rows = await select(
        store.conn,
        "SELECT /* bounded sort: members are few */ mem.key, mem.role, mem.joined_at, coalesce(p.name, ''),"
        " mem.invited_by FROM members mem LEFT JOIN profiles p ON p.author = mem.key ORDER BY mem.joined_at, mem.key",
        (),
    )
    return [Member(bytes(r[0]).hex(), r[1], r[2], r[3], r[4]) for r in rows]


async def create_invite(store: Store, *, ttl_s: int = INVITE_TTL_S, note: str = "", now: int | None = None) -> Invite:
    if ttl_s <= 0:
        raise Refused("bad_value", f"An invite must live a positive number of seconds; got {ttl_s}.")
    created = now_ms() if now is None else now
    invite = Invite(secrets.token_urlsafe(CODE_BYTES), created, created + ttl_s * 1000, None, None, note)
    async with store.writer.transaction() as conn:
        await conn.execute(
            "INSERT INTO invites (code, created_at, expires_at, note) VALUES (?, ?, ?, ?)",
            (invite.code, invite.created_at, invite.expires_at, invite.note),
        )
    return invite


async def redeem_invite(store: Store, code: str, key_hex: str, *, now: int | None = None) -> None:
    """Consume the invite and make the key a member, both or neither.

    Refused codes: ``invite_unknown``, ``invite_used``, ``invite_expired``, and ``already_member`` (the
    code is then left unused for someone else).
    """
    key = _key(key_hex)
    at = now_ms() if now is None else now
    async with store.writer.transaction() as conn:
        async with conn.execute("SELECT 1 FROM members WHERE key = ?", (key,)) as cursor:
            if await cursor.fetchone() is not None:
                raise Refused("already_member", "This key is already a member here; keep the invite for someone else.")
        async with conn.execute("SELECT expires_at, used_by FROM invites WHERE code = ?", (code,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise Refused("invite_unknown", "No such invite here; check the code, or ask for a new one.")
        if row[1] is not None:
            raise Refused("invite_used", "This invite has already been used; ask for a new one.")
        if row[0] <= at:
            raise Refused("invite_expired", "This invite has expired; ask for a new one.")
        # The guard in WHERE is what makes the code single-use; the checks above only choose the sentence.
        cursor = await conn.execute(
            "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL AND expires_at > ?",
            (key, at, code, at),
        )
        if cursor.rowcount != 1:
            raise Refused("invite_used", "This invite has already been used; ask for a new one.")
        await conn.execute(
            "INSERT INTO members (key, role, joined_at, invited_by) VALUES (?, 'member', ?, ?)", (key, at, code)
        )
