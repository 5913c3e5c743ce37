"""A reaction: an emoji on a message. Counted and told once per (person, emoji); its author may delete it."""

from __future__ import annotations

from murmur.kinds.base import VISIBILITY_FIELD, Field, Kind, visibility_rule
from murmur.kinds.tallied import TARGET_HELD, tally_notices
from murmur.message import Message


def _emoji(m: Message) -> str:
    return str(m.body["emoji"])


KIND = Kind(
    name="reaction",
    body={"emoji": Field(True, 32), **VISIBILITY_FIELD},
    rules=(visibility_rule,),
    tags={"target": (1, 1), "mention": (0, 1)},
    removable=True,
    tally=_emoji,
    notices=tally_notices("reaction"),
    notice_about={"reaction": "target"},
    notice_holds={"reaction": TARGET_HELD},
)
