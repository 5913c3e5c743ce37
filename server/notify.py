"""Whether a new message is a notification for a member, and of which kind."""

from __future__ import annotations

from murmur.message import Message
from murmur.store import Store
from murmur.store.notifications import notice_kind


async def notification_for(store: Store, message: Message, me: str, seq: int) -> str | None:
    """'reply', 'mention', 'reaction', 'boost', 'follow' or 'edit' when the message stored at ``seq`` concerns ``me``.

    Read from the notices ingest derived (``schema.NOTICE_RULES``), so the live stream tells exactly what the
    notifications list holds: a second identical reaction or boost, told nowhere, is not told live either.
    """
    if message.author == me:
        return None
    return await notice_kind(store, me, seq)
