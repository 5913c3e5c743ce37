"""What anyone may read: the reads behind the read-only web view and the feeds (``server/web``).

Every answer here is held to the one audience rule, as it lets anyone see a message
(``murmur.store.audience.for_anyone``): a local post, anything that names one, and later a scoped or a group's
private message never reach a page or a feed, and they answer exactly as an unknown id does (None). Only full
ids and keys are looked up; a prefix is a member's convenience (``murmur.store.lookup``), and offered to anyone
it would let them enumerate what a server holds.

The timelines are the members' queries with the rule's condition added (``public=True``); threads are read whole
and cut to what anyone may see, since a thread's replies are few (``murmur.store.threads.MAX_REPLIES``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from murmur.keys import KEY_HEX
from murmur.kinds import group_reads, kind, letter, shown_sql
from murmur.kinds.key_log import INCEPTION
from murmur.kinds.key_store import profile_author
from murmur.store import Store
from murmur.store.audience import for_anyone
from murmur.store.items import Page, TimelineItem, select
from murmur.store.threads import Thread, ThreadNode, thread
from murmur.store.timelines import author, hashtag

CHUNK = 500  # ids per IN (...) query

# A message some kind withholds from readers (murmur.kinds.shown_sql: a device's message waiting for its
# identity's log) is no more anyone's to read as signed than it is shown in a timeline.
_VISIBLE_SQL = f"SELECT m.id FROM messages m WHERE m.id IN ({{marks}}) AND {for_anyone('m')} AND {shown_sql('m')}"
_HELD_SQL = f"SELECT m.kind, m.raw FROM messages m WHERE m.id = ? AND {for_anyone('m')} AND {shown_sql('m')}"
_PROFILE_SQL = (
    "SELECT p.name, p.bio, p.msg_id, p.created_at FROM profiles p CROSS JOIN messages m ON m.id = p.msg_id"
    f" WHERE p.author = ? AND {for_anyone('m')}"
)


@dataclass(frozen=True, slots=True)
class Held:
    """A message anyone may see, as signed."""

    kind: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class PublicProfile:
    key: str
    name: str
    bio: str
    message: str  # the id of the profile message shown
    created_at: int


def _full(value: str) -> bytes | None:
    """The 32 bytes of a full lowercase id or key; None for anything else (a prefix, another case, garbage)."""
    return bytes.fromhex(value) if KEY_HEX.fullmatch(value) else None


async def visible(store: Store, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` (full ids) name a held message that anyone may see."""
    wanted = sorted({raw for i in ids if (raw := _full(i)) is not None})
    shown: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        rows = await select(store.conn, _VISIBLE_SQL.format(marks=",".join("?" * len(part))), part)
        shown.update(bytes(r[0]).hex() for r in rows)
    return shown


async def held(store: Store, msg_id: str) -> Held | None:
    """The message ``msg_id`` names, of any kind, as signed, if it is held and anyone may see it."""
    key = _full(msg_id)
    if key is None:
        return None
    rows = await select(store.conn, _HELD_SQL, (key,))
    return Held(str(rows[0][0]), bytes(rows[0][1])) if rows else None


async def profile(store: Store, key: str) -> PublicProfile | None:
    """The person's current profile, if they have one that anyone may see: a key's own, or for an identity the
    newest any of its devices set (``key_store.profile_author``), as the member API shows it."""
    raw = _full(key)
    if raw is None:
        return None
    if kind(INCEPTION) is not None and (device := await profile_author(store, key)) is not None:
        raw = bytes.fromhex(device)
    rows = await select(store.conn, _PROFILE_SQL, (raw,))
    if not rows:
        return None
    name, bio, msg, created_at = rows[0]
    return PublicProfile(key, str(name), str(bio), bytes(msg).hex(), int(created_at))


def _is_post(item: TimelineItem) -> bool:
    return orjson.loads(item.raw).get("kind") == "post"


def _posts_only(page: Page) -> Page:
    """The entries of a page that show a post. The members' timelines also carry polls and meetups (and boosts of
    them), which the pages and feeds do not draw: left out, the page keeps its cursor (a page may hold fewer items
    than asked, as ``Page`` says)."""
    return Page([i for i in page.items if _is_post(i)], page.next_cursor)


async def posts_by(store: Store, key: str, *, limit: int = 20, before: str | None = None) -> Page:
    """A person's posts and boosts that anyone may see, newest first (``timelines.author``)."""
    return _posts_only(await author(store, key, limit=limit, before=before, public=True))


async def tagged(store: Store, tag: str, *, limit: int = 20, before: str | None = None) -> Page:
    """Posts carrying a hashtag that anyone may see, newest first (``timelines.hashtag``)."""
    return _posts_only(await hashtag(store, tag, limit=limit, before=before, public=True))


async def group(store: Store, group_id: str) -> group_reads.GroupRow | None:
    """A group whose creation message anyone may see."""
    found = await held(store, group_id)
    return await group_reads.group(store, group_id) if found and found.kind == "group" else None


async def group_posts(store: Store, group_id: str, *, limit: int = 20, before: str | None = None) -> Page:
    """The group's posts that anyone may see (its timeline also carries polls and meetups: left out here)."""
    return _posts_only(await group_reads.timeline(store, group_id, limit=limit, before=before, public=True))


async def group_pinned(store: Store, group_id: str) -> list[TimelineItem]:
    return [i for i in await group_reads.pinned(store, group_id, public=True) if _is_post(i)]


async def group_hidden(store: Store, group_id: str, post_ids: Sequence[str]) -> set[str]:
    """Which of ``post_ids`` a moderator hid in the group: its page and feed leave them out."""
    return set(await group_reads.hidden(store, group_id, post_ids))


async def public_thread(store: Store, msg_id: str) -> Thread | None:
    """The thread of the post ``msg_id``, cut to what anyone may see; None unless that post itself is one.

    A reply goes wherever its thread's root and its parent go (the rule follows ``root`` and ``reply``), so
    cutting a hidden reply cuts no visible one below it; a placeholder (a parent not held) stays only while it
    has something to show. A root that is not a post (a poll, a meetup: the pages draw posts only) stands as a
    placeholder for what it is about.
    """
    asked = await held(store, msg_id)
    if asked is None or asked.kind != "post":
        return None
    found = await thread(store, msg_id, public=True)
    if found is None:
        return None
    nodes = walk(found.root)
    shown = await visible(store, [n.item.id for n in nodes if n.item is not None])
    kept: dict[int, ThreadNode | None] = {}
    for node in reversed(nodes):  # children before their parents
        children = [c for c in (kept[id(child)] for child in node.children) if c is not None]
        hidden = node.item is not None and node.item.id not in shown
        empty = node.item is None and not children and node is not found.root
        item = node.item if node.item is None or _is_post(node.item) else None
        kept[id(node)] = None if hidden or empty else ThreadNode(item, node.id, children)
    root = kept[id(found.root)]
    if root is None:
        return None
    size = sum(1 for n in walk(root) if n.item is not None) - (root.item is not None)
    return Thread(root=root, size=size, truncated=found.truncated)


def walk(root: ThreadNode) -> list[ThreadNode]:
    """Every node of a tree, each before its children (no recursion: reply chains run long)."""
    out: list[ThreadNode] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


async def open_letter(store: Store, letter_id: str) -> letter.Standing | None:
    """An open letter's count and signers, if anyone may see the letter. Its signatures name it, so under the
    rule they go wherever it goes."""
    found = await held(store, letter_id)
    return await letter.standing(store, letter_id) if found and found.kind == "letter" else None


async def signed_letter(store: Store, letter_id: str) -> letter.Signed | None:
    """The letter, its signatures and their withdrawals as signed, if anyone may see the letter."""
    found = await held(store, letter_id)
    return await letter.signed(store, letter_id) if found and found.kind == "letter" else None
