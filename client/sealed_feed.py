"""Reading a sealed feed (the direct messages sealed to my identity, or a private group's messages) page by page
from a cursor that outlives its server being restored from a backup (docs/api.md, ``GET /api/v1/sealed``).

A cursor is a log position and the outer id of the message there, the last one read. A server restored from an
older backup hands its positions out again, so a bare position could point past messages never read; the server
checks the id and answers ``cursor_moved`` when the position holds another message or none. The feed is then read
again from the start, and the caller skips what it holds by outer id (it must: that is what makes this safe).

One message never stops a feed: whatever reading it meets is its own refusal, kept with its reason, and the cursor
moves past it (``unreadable`` names a fault no rule foresaw), so a crafted message cannot make every later sync
fail at it for good.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from murmur.client.api import ApiError, MurmurClient
from murmur.errors import Refused
from murmur.keys import KEY_HEX
from murmur.store.inbox import Cursor

CURSOR_MOVED = "cursor_moved"
UNREADABLE = "unreadable"
log = logging.getLogger("murmur.client.sealed_feed")

__all__ = ["CURSOR_MOVED", "UNREADABLE", "Cursor", "Page", "pages", "unreadable"]


def unreadable(exc: Exception) -> Refused:
    """The refusal of a message whose reading met ``exc``, a fault no refusal rule names (a bug its bytes reach):
    the detail goes to the log, the message is kept with this reason, and the feed reads on past it. Faults of
    this device or its server (``MurmurError``: a store that cannot write, a server not answering) are not the
    message's, and are never passed here."""
    log.error("a sealed message could not be read; it is kept unread and the feed reads on", exc_info=exc)
    return Refused(UNREADABLE, "This device met a fault reading it (the detail is in its log): kept unread, not"
                   " tried again.")  # fmt: skip


@dataclass(frozen=True)
class Page:
    """One page of a sealed feed, and the cursor past it: keep the cursor once the page's messages are kept."""

    items: list[dict[str, Any]]
    cursor: Cursor


async def pages(api: MurmurClient, cursor: Cursor, *, group: str | None = None) -> AsyncIterator[Page]:
    """The pages of the feed after ``cursor`` (with ``group``, that private group's), until none is waiting. When
    the server says the cursor moved, the feed starts again from position 0, once per walk: a second move means the
    log is being rewritten under us, and that ``ApiError`` is for the caller (its cursor, kept page by page, picks
    up from there next time)."""
    restarted = False
    while True:
        try:
            page = await api.sealed(cursor.seq, at=cursor.at, group=group)
        except ApiError as exc:
            if exc.code != CURSOR_MOVED or restarted:
                raise
            restarted, cursor = True, Cursor()
            continue
        items: list[dict[str, Any]] = page["sealed"]
        cursor = _past(cursor, items, int(page["next_cursor"]))
        yield Page(items, cursor)
        if not page["more"] or not items:
            return


def _past(cursor: Cursor, items: list[dict[str, Any]], seq: int) -> Cursor:
    """The cursor at ``seq``, naming the message the page held there (none named: the position goes unchecked)."""
    if seq == cursor.seq:
        return cursor
    last = next((i for i in reversed(items) if i.get("seq") == seq), {})
    message = last.get("message")
    found = message.get("id") if isinstance(message, dict) else None
    return Cursor(seq, found if isinstance(found, str) and KEY_HEX.fullmatch(found) else None)
