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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

from murmur.client.api import ApiError, MurmurClient
from murmur.errors import Refused
from murmur.keys import KEY_HEX
from murmur.message import now_ms
from murmur.store.inbox import Cursor

CURSOR_MOVED = "cursor_moved"
UNREADABLE = "unreadable"
log = logging.getLogger("murmur.client.sealed_feed")

__all__ = ["CURSOR_MOVED", "UNREADABLE", "Cursor", "Page", "arrival", "pages", "unreadable"]


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
    """One page of a sealed feed, and the cursor past it: keep the cursor once the page's messages are kept.
    ``since``: when this device last read the feed to its end before this walk (``Cursor.through``)."""

    items: list[dict[str, Any]]
    cursor: Cursor
    since: int | None = None

    def arrived(self, item: dict[str, Any]) -> int | None:
        """When ``item`` is known to have reached the home server after (``arrival``)."""
        said = item.get("received_at")
        return arrival(said if type(said) is int else None, self.since)


def arrival(said: int | None, since: int | None) -> int | None:
    """The latest time a sealed message is known to have reached the home server after: the server's word
    (``received_at``, None when it left it out) or this device's own bound, the later. A message first seen in a
    walk of a feed was not in it when this device last read it to its end (``since``): the home server held it
    only after. So a home server that leaves out, or backdates, when a removed device's or member's message came
    cannot have it judged by the time its writer claims alone (docs/encryption.md §9.5, §16.3). The one rule for
    direct messages, group messages and epoch chunks; kept with what waits, so a retry judges it the same."""
    known = [t for t in (said, since) if t is not None]
    return max(known) if known else None


async def pages(
    api: MurmurClient, cursor: Cursor, *, group: str | None = None, clock: Callable[[], int] = now_ms
) -> AsyncIterator[Page]:
    """The pages of the feed after ``cursor`` (with ``group``, that private group's), until none is waiting. When
    the server says the cursor moved, the feed starts again from position 0, once per walk: a second move means the
    log is being rewritten under us, and that ``ApiError`` is for the caller (its cursor, kept page by page, picks
    up from there next time). The last page's cursor says when this walk read the feed to its end (``through``:
    ``clock`` before asking for it), the others carry the walk's ``since`` on."""
    restarted, since = False, cursor.through
    while True:
        asked = clock()
        try:
            page = await api.sealed(cursor.seq, at=cursor.at, group=group)
        except ApiError as exc:
            if exc.code != CURSOR_MOVED or restarted:
                raise
            restarted, cursor = True, Cursor(through=since)
            continue
        items: list[dict[str, Any]] = page["sealed"]
        last = not page["more"] or not items
        cursor = replace(_past(cursor, items, int(page["next_cursor"])), through=asked if last else since)
        yield Page(items, cursor, since)
        if last:
            return


def _past(cursor: Cursor, items: list[dict[str, Any]], seq: int) -> Cursor:
    """The cursor at ``seq``, naming the message the page held there (none named: the position goes unchecked)."""
    if seq == cursor.seq:
        return cursor
    last = next((i for i in reversed(items) if i.get("seq") == seq), {})
    message = last.get("message")
    found = message.get("id") if isinstance(message, dict) else None
    return Cursor(seq, found if isinstance(found, str) and KEY_HEX.fullmatch(found) else None, cursor.through)
