"""Reacting and boosting once, and taking it back: the one rule the CLI and the TUI share.

A person reacts once per emoji and boosts once per post. Asking again publishes nothing (servers would store
the twin and count it once anyway). Taking it back signs a delete for every one of the person's matching
messages (two devices may each have sent one), each checked here first: a home server cannot make anyone
sign a delete of something else.
"""

from __future__ import annotations

from typing import Any, Literal

from murmur.client.api import MurmurClient, verified
from murmur.client.tui.drafts import boost_draft, delete_draft, publish, reaction_draft
from murmur.errors import MurmurError

Kind = Literal["reaction", "boost"]


class NothingToUndo(MurmurError):
    """There is no reaction (with that emoji) or boost of the message by this person to take back."""

    exit_code = 1


def _matches(message: Any, me: str, target_id: str, kind: Kind, emoji: str | None) -> bool:
    if not isinstance(message, dict) or not verified(message):
        return False
    if message.get("author") != me or message.get("kind") != kind or ["target", target_id] not in message["tags"]:
        return False
    return kind == "boost" or message["body"].get("emoji") == emoji


async def own(api: MurmurClient, target_id: str, kind: Kind, emoji: str | None = None) -> list[dict[str, Any]]:
    """My reactions with ``emoji`` (or my boosts) of the message (id or prefix), as held, each checked here."""
    answer = await api.own_responses(target_id)
    full = answer.get("target") if isinstance(answer, dict) else None
    if not isinstance(full, str) or not full.startswith(target_id.strip().lower()):
        return []  # an answer about some other message says nothing about this one
    me = api.identity.public_key
    return [m for m in answer.get("messages") or [] if _matches(m, me, full, kind, emoji)]


async def respond(api: MurmurClient, target: dict[str, Any], kind: Kind, emoji: str | None = None) -> dict[str, Any]:
    """React with ``emoji`` to (or boost) ``target`` unless already done: then ``{"status": "already"}``."""
    done = await own(api, target["id"], kind, emoji)
    if done:
        return {"status": "already", "id": done[0]["id"]}
    draft = reaction_draft(target, emoji or "") if kind == "reaction" else boost_draft(target)
    return await publish(api, api.identity, draft)


async def undo(api: MurmurClient, target_id: str, kind: Kind, emoji: str | None = None) -> list[dict[str, Any]]:
    """Delete every one of my matching reactions or boosts of the message; the server's answer to each delete."""
    done = await own(api, target_id, kind, emoji)
    if not done:
        what = "boosted that post" if kind == "boost" else f"reacted {emoji!r} to that message"
        raise NothingToUndo(f"You have not {what}; nothing to take back.")
    return [await publish(api, api.identity, delete_draft(message)) for message in done]
