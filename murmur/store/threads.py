"""Threads: a root entry (a post, a poll, a meetup: the kinds shown as themselves) and its replies as a tree,
whatever order they arrived in. Replies are posts.

Every reply names its thread's root (tag ``root``) and the post it answers (tag ``reply``), so one index
read (messages_by_root) finds the whole thread. A reply whose parent is missing (not arrived yet, or
deleted) hangs under a placeholder node for that parent, and the placeholder under the root, so nothing
held is hidden. Children are ordered by (sort_at, id): the authors' clocks, not arrival order, clamped to
arrival as in timelines, so a clock running ahead cannot put a reply after replies that answered it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from murmur.store import Store
from murmur.store.items import (
    CANDIDATE_COLUMNS,
    ITSELF_SQL,
    SHOWN_ITSELF,
    Candidate,
    TimelineItem,
    key_bytes,
    resolve,
    select,
)
from murmur.store.together import reads_together

MAX_REPLIES = 1000  # a thread shows at most this many replies (the oldest in the log)

_ROOT_OF_SQL = "SELECT kind, root FROM messages WHERE id = ?"
# The root and the replies read the root's id from the message asked about themselves, so that all three
# statements are asked at once (one round trip on PostgreSQL): the message's root, else the message itself.
_ROOT_ID = "coalesce((SELECT a.root FROM messages a WHERE a.id = :asked), :asked)"
_REPLIES_SQL = (
    f"SELECT {CANDIDATE_COLUMNS}, m.reply_to FROM messages m"
    f" WHERE m.root = {_ROOT_ID} AND m.kind = 'post' ORDER BY m.seq LIMIT :n"
)
_ONE_SQL = f"SELECT {CANDIDATE_COLUMNS} FROM messages m WHERE m.id = {_ROOT_ID} AND m.kind IN ({ITSELF_SQL})"


@dataclass(frozen=True, slots=True)
class ThreadNode:
    """A post (or the poll or meetup at the root) in the tree; ``item`` is None when it is not held (missing or
    deleted)."""

    item: TimelineItem | None
    id: str
    children: list[ThreadNode]


@dataclass(frozen=True, slots=True)
class Thread:
    root: ThreadNode
    size: int  # replies shown (the root not counted)
    truncated: bool  # True when more than MAX_REPLIES replies are held


async def thread(
    store: Store, msg_id_hex: str, *, max_replies: int = MAX_REPLIES, public: bool = False
) -> Thread | None:
    """The thread the message belongs to, or None when nothing of it is held; with ``public``, its items counted
    as anyone may see them (``murmur.store.items.resolve``)."""
    msg_id = key_bytes(msg_id_hex, "message id")
    with reads_together():  # one round trip on PostgreSQL
        rows, root_rows, reply_rows = await asyncio.gather(
            select(store.conn, _ROOT_OF_SQL, (msg_id,)),
            select(store.conn, _ONE_SQL, {"asked": msg_id}),
            select(store.conn, _REPLIES_SQL, {"asked": msg_id, "n": max_replies + 1}),
        )
    if rows and rows[0][0] not in SHOWN_ITSELF:  # a reaction, a ballot, a follow...: in no thread
        return None
    root_id = rows[0][1] if rows and rows[0][1] is not None else msg_id
    truncated = len(reply_rows) > max_replies
    reply_rows = reply_rows[:max_replies]
    if not root_rows and not reply_rows:
        return None
    candidates = [Candidate.from_row(r) for r in root_rows] + [Candidate.from_row(r[:9]) for r in reply_rows]
    items = {item.seq: item for item in await resolve(store.conn, candidates, public=public)}

    root_item = items.get(root_rows[0][0]) if root_rows else None
    held = {row[1]: items.get(row[0]) for row in reply_rows}
    children: dict[bytes, list[bytes]] = {root_id: []}
    for row in reply_rows:
        parent_id = row[9]
        if parent_id is None or parent_id == row[1]:
            parent_id = root_id
        children.setdefault(parent_id, []).append(row[1])
    # A parent that is neither the root nor a held reply gets a placeholder, hung under the root.
    for parent_id in list(children):
        if parent_id != root_id and parent_id not in held:
            children[root_id].append(parent_id)
    # A reply some kind withholds from readers (a device's, waiting for its identity's log or disputed by a fork in
    # it) hangs as a placeholder, as a missing one does, and is not counted: the size is of the replies shown.
    shown = sum(1 for item in held.values() if item is not None)
    return Thread(root=_build(root_id, root_item, held, children), size=shown, truncated=truncated)


def _build(
    node_id: bytes,
    item: TimelineItem | None,
    held: dict[bytes, TimelineItem | None],
    children: dict[bytes, list[bytes]],
) -> ThreadNode:
    # Iterative rather than recursive: a long chain of replies must not hit Python's recursion limit.
    built: dict[bytes, ThreadNode] = {}
    order: list[bytes] = []
    stack, seen = [node_id], {node_id}
    while stack:
        current = stack.pop()
        order.append(current)
        for child in children.get(current, ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    for current in reversed(order):
        kids = [built[c] for c in children.get(current, ()) if c in built]
        kids.sort(key=_sort_key)
        built[current] = ThreadNode(item if current == node_id else held.get(current), current.hex(), kids)
    return built[node_id]


def _sort_key(n: ThreadNode) -> tuple[int, str]:
    if n.item is not None:
        return (n.item.sort_at, n.id)
    # A placeholder goes where its earliest child would.
    return (min((_sort_key(c)[0] for c in n.children), default=0), n.id)
