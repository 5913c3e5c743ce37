"""A profile: a person's display name and bio. The latest (by created_at, then id) replaces the others.

The store keeps the current one per author in ``profiles`` (and ``profiles_fts`` for search by name or bio),
with the name as it is compared (``murmur.names.name_key``) for finding another key using the same name, and the
handle a mention names the person by (``murmur.mentions.handle_key``).
"""

from __future__ import annotations

import aiosqlite

from murmur.kinds.base import Field, Kind, later, newest, select_in
from murmur.mentions import handle_key
from murmur.message import Message
from murmur.names import name_key


async def _apply(conn: aiosqlite.Connection, stored: list[tuple[int, Message]]) -> None:
    profiles = {bytes.fromhex(a): m for a, m in newest((m for _, m in stored), lambda m: m.author).items()}
    rows = await select_in(
        conn, "SELECT author, created_at, msg_id FROM profiles WHERE author IN ({marks})", list(profiles)
    )
    current = {r[0]: (r[1], r[2]) for r in rows}
    for author, m in profiles.items():
        if author in current and not later(m, *current[author]):
            continue
        name, bio = str(m.body.get("name", "")), str(m.body.get("bio", ""))
        await conn.execute(
            "INSERT INTO profiles (author, created_at, msg_id, name, bio, name_key, handle) VALUES (?,?,?,?,?,?,?)"
            " ON CONFLICT (author) DO UPDATE SET created_at = excluded.created_at, msg_id = excluded.msg_id,"
            " name = excluded.name, bio = excluded.bio, name_key = excluded.name_key, handle = excluded.handle",
            (author, m.created_at, bytes.fromhex(m.id), name, bio, name_key(name), handle_key(name)),
        )
        await conn.execute("DELETE FROM profiles_fts WHERE author = ?", (author.hex(),))
        await conn.execute("INSERT INTO profiles_fts (author, name, bio) VALUES (?, ?, ?)", (author.hex(), name, bio))


KIND = Kind(name="profile", body={"name": Field(False, 64), "bio": Field(False, 2000)}, apply=_apply)
