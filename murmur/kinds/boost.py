"""A boost: sharing a post with one's followers. Counted and told once per person; its author may delete it."""

from __future__ import annotations

from murmur.kinds.base import VISIBILITY_FIELD, Kind, visibility_rule
from murmur.kinds.tallied import TARGET_HELD, tally_notices


def _nothing(_: object) -> str:
    return ""


KIND = Kind(
    name="boost",
    body=VISIBILITY_FIELD,
    rules=(visibility_rule,),
    tags={"target": (1, 1), "mention": (0, 1)},
    removable=True,
    tally=_nothing,
    notices=tally_notices("boost"),
    shown_as="target",
    notice_about={"boost": "target"},
    notice_holds={"boost": TARGET_HELD},
)
