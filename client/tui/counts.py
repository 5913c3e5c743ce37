"""Keeping the reply, reaction and boost counts on screen true as messages arrive and go.

Counts are the server's: the TUI never adds or subtracts, since a message seen twice, or a reaction the server
does not count, would make them drift. A message that may change a post's counts names the post to ask about
again: a reply its parent, a reaction or a boost its target, a delete whatever its target referred to. A
delete names only its target, so what that referred to is looked up in the rows on screen and in what this
session saw arrive; a delete of something never seen asks again about every post on screen with a count to lose.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from murmur.client.api import MurmurClient
from murmur.client.tui.net import attempt
from murmur.client.tui.present import tag_value
from murmur.client.tui.widgets.entries import PostEntry
from murmur.client.tui.widgets.postlist import PostList

REMEMBERED = 10_000  # messages whose referent is kept for a later delete of them
PER_REQUEST = 100  # the most posts one GET /api/v1/counts may name


def refers_to(message: dict[str, Any]) -> str | None:
    """The post whose counts ``message`` adds to: a reply's parent, a reaction's or a boost's target."""
    kind = message.get("kind")
    if kind == "post":
        return tag_value(message, "reply")
    if kind == "delete":
        return None  # a delete takes away from what its target referred to: see ``Referrals.of_delete``
    return tag_value(message, "target")


class Referrals:
    """What each message seen in this session referred to, for when a delete of it arrives."""

    def __init__(self, limit: int = REMEMBERED) -> None:
        self.limit = limit
        self._posts: OrderedDict[str, str | None] = OrderedDict()

    def learn(self, message: dict[str, Any]) -> None:
        msg_id = message.get("id")
        if isinstance(msg_id, str):
            self._posts[msg_id] = refers_to(message)
            while len(self._posts) > self.limit:
                self._posts.popitem(last=False)

    def of_delete(self, target: str, shown: Iterable[dict[str, Any]]) -> set[str] | None:
        """The posts whose counts a delete of ``target`` changes: one, none (a top-level post), or None when
        ``target`` was never seen, so every shown post with a count to lose must be asked about."""
        if target in self._posts:
            post = self._posts[target]
            return {post} if post else set()
        for item in shown:
            for message in (item.get("message"), item.get("boost")):
                if isinstance(message, dict) and message.get("id") == target:
                    post = refers_to(message)
                    return {post} if post else set()
        return None


def posts_shown(lists: Iterable[PostList]) -> dict[str, list[PostEntry]]:
    """Every row drawing a post's counts, by the post's id."""
    rows: dict[str, list[PostEntry]] = {}
    for posts in lists:
        for entry in posts.entries:
            if isinstance(entry, PostEntry) and entry.message_id:
                rows.setdefault(entry.message_id, []).append(entry)
    return rows


async def recount(api: MurmurClient, lists: list[PostList], wanted: set[str] | None) -> None:
    """Ask the server for the counts of the ``wanted`` posts that are shown (None: every shown post with a
    count above zero) and redraw the rows that show them."""
    rows = posts_shown(lists)
    if wanted is None:
        ids = [i for i, entries in rows.items() if any(_counted(e) for e in entries)]
    else:
        ids = [i for i in rows if i in wanted]
    for start in range(0, len(ids), PER_REQUEST):
        chunk = ids[start : start + PER_REQUEST]
        fresh = await attempt(lists[0], api.counts(chunk))
        if fresh is None:
            return
        for msg_id in chunk:
            counts = fresh.get(msg_id)
            if isinstance(counts, dict):
                for entry in rows[msg_id]:
                    entry.item["counts"] = counts
                    entry.refresh()


def _counted(entry: PostEntry) -> bool:
    return any(int(n or 0) > 0 for n in (entry.item.get("counts") or {}).values())
