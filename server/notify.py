"""Whether a new message is a notification for a member, and of which kind."""

from __future__ import annotations

from murmur.message import Message
from murmur.store import Store


async def notification_for(store: Store, message: Message, me: str) -> str | None:
    """'reply', 'mention', 'reaction', 'boost' or 'follow' when ``message`` concerns ``me``; else None."""
    if message.author == me:
        return None
    if message.kind == "post":
        parent_id = message.tag("reply")
        if parent_id is not None:
            parent = await store.get(parent_id)
            if parent is not None and parent.author == me:
                return "reply"
        return "mention" if me in message.tag_values("mention") else None
    if message.kind in ("reaction", "boost"):
        target_id = message.tag("target")
        target = await store.get(target_id) if target_id else None
        return message.kind if target is not None and target.author == me else None
    if message.kind == "follow" and message.tag("subject") == me:
        return "follow"
    return None
