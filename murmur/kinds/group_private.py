"""A private group takes nothing written in the clear (docs/encryption.md §16).

What members write in a private group (``join`` ``invite``) travels sealed for them. A plain entry addressed to
such a group (a post, a poll, a meetup: any kind but the group's own membership and moderation steps, which
servers must read to route and authorise) would hand its text to every server it reaches, so a store refuses it
(``private_group``) whenever it holds the group, or the group's creation comes earlier in the same batch. One
that came before the group's creation did (a relay's order) is held but never shown (``withheld``), so every
store ends up showing the same thing whatever the order.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from murmur.errors import Refused
from murmur.kinds.base import select_in
from murmur.kinds.group_fold import INVITE, STEPS
from murmur.message import Message

GROUP_KIND = "group"
SEALED_KIND = "sealed"  # a sealed message names no group in the clear; its group_message is for members only
_INVITE_SQL = "SELECT id FROM groups WHERE join_mode = 'invite' AND id IN ({marks})"


def _plain_entry(m: Message) -> str | None:
    """The group a message would write into in the clear, if any."""
    if m.kind in STEPS or m.kind in (GROUP_KIND, SEALED_KIND):
        return None
    return m.tag("group")


async def refuse_plain(conn: aiosqlite.Connection, batch: Sequence[tuple[int, Message]]) -> dict[int, Refused]:
    """Refusals, by position, of the plain entries of ``batch`` addressed to a private group held or created in
    the batch."""
    named = {index: group for index, m in batch if (group := _plain_entry(m)) is not None}
    if not named:
        return {}
    private = {m.id for _, m in batch if m.kind == GROUP_KIND and m.body.get("join") == INVITE}
    asked = sorted({bytes.fromhex(g) for g in named.values() if g not in private})
    private |= {bytes(row[0]).hex() for row in await select_in(conn, _INVITE_SQL, asked)}
    return {
        index: Refused(
            "private_group",
            f"Group {group[:8]} is private: what is written in it is sealed for its members on the author's"
            " device (murmur post --group ID does it). In the clear, every server would read it.",
        )
        for index, group in named.items()
        if group in private
    }


def plain_in_private(row: str) -> str:
    """SQL: true when the held message ``row`` is a plain entry of a private group (one that came before its group
    did); a sealed message is never an entry (``groups_posts`` holds only plain ones)."""
    return (
        "EXISTS (SELECT 1 FROM groups_posts gp CROSS JOIN groups g ON g.id = gp.grp"
        f" WHERE gp.seq = {row}.seq AND g.join_mode = 'invite')"
    )
