"""What a page shows of a post or a person, made from store rows, and the one way text becomes HTML.

Other people's text is untrusted. It is first made inert as it is for a terminal (``murmur.terminal.inert``:
control and bidi characters, and what prints as nothing, become visible stand-ins), then escaped: the templates
autoescape everything, and the one piece of markup made here (``rich_text``: hashtags and mentions as links) is
built from escaped parts, so no character of a post can open a tag, an attribute or an entity. Every user
string also sits in its own ``<bdi>`` in the templates, so a right-to-left name cannot reorder what is around it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson
from markupsafe import Markup, escape

from murmur.keys import fingerprint
from murmur.manifest import OUTSIDE
from murmur.message import HASHTAG_IN_TEXT, MENTION_IN_TEXT
from murmur.receipts import Signers, mark_signer, withheld_notes
from murmur.store import Store, receipts
from murmur.store.items import TimelineItem
from murmur.store.peers import list_peers
from murmur.terminal import inert, one_line, visible_name

# Hashtags and full-key mentions, as the message format finds them in a post's text (murmur.message).
_LINKS = re.compile(f"{HASHTAG_IN_TEXT.pattern}|{MENTION_IN_TEXT.pattern}")
NAME_WIDTH = 64
MAX_INDENT = 8


# Code points XML 1.0 does not allow even escaped (a feed carries the same text as a page); ``inert`` has already
# made C0 controls and lone surrogates visible.
_NOT_XML = {0xFFFE: "\ufffd", 0xFFFF: "\ufffd"}


def untrusted(text: str, *, lines: bool = True, width: int | None = None) -> str:
    """Text from elsewhere (a post, a bio, a group's rules, a letter, a note) as a page or a feed shows it:
    inert (``murmur.terminal.inert``), on one line unless ``lines`` (and cut to ``width``, when given), with
    nothing XML cannot carry."""
    shown = one_line(text, width) if width is not None else inert(text, keep_newlines=lines)
    return shown.translate(_NOT_XML)


def rfc3339(ms: int) -> str:
    """A time in ms since the epoch as RFC 3339 in UTC, to the millisecond: ``2026-11-30T10:00:00.123Z``."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def shown_time(ms: int) -> str:
    """A time for people: ``2026-11-30 10:00 UTC`` (absolute, so a page is the same whenever it is read)."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms // 1000))


@dataclass(frozen=True, slots=True)
class Person:
    key: str
    name: str  # the display name as shown (invisibles made visible), "" when none is held
    fingerprint: str
    shared: bool  # another key here uses the same name


@dataclass(frozen=True, slots=True)
class Post:
    id: str
    author: Person
    text: Markup
    plain: str  # the text made inert
    readable: str  # and its mentions as the names (or fingerprints) they name, for feeds
    cw: str
    created_at: int
    updated_at: int  # the newest edit's time, else created_at
    edit_id: str | None  # the newest edit shown in the post's place
    boosted_by: Person | None
    replies: int
    reactions: int
    boosts: int
    depth: int = 0  # in a thread: how far below the root
    missing: bool = False  # a thread's placeholder for a parent not held here (or deleted)
    asked: bool = False  # the post the thread page was asked for
    withheld: tuple[str, ...] = ()  # "withheld by X: reason" per peer that refused it, signed (murmur.receipts)
    withheld_at: int = 0  # when the newest of those notices was kept here

    @property
    def entry_updated(self) -> int:
        """A feed entry's ``updated``: a notice arriving changes what the entry says (its content carries it), so
        a feed reader that keeps entries by id and ``updated`` shows it again."""
        return max(self.updated_at, self.withheld_at)

    @property
    def indent(self) -> int:
        """How far a thread's page indents the post: its depth, up to 8 (deeper replies line up at 8)."""
        return min(self.depth, MAX_INDENT)


class People:
    """Display names and their shared flags for every key a page shows, read once per page."""

    def __init__(self, names: dict[str, str], shared: set[str]) -> None:
        self.names = names
        self.shared = shared
        self._made: dict[str, Person] = {}

    @classmethod
    async def of(cls, store: Store, keys: Iterable[str]) -> People:
        wanted = sorted(set(keys))
        return cls(await store.display_names(wanted), await store.shared_names(wanted))

    def person(self, key: str) -> Person:
        if key not in self._made:
            name = self.names.get(key, "")
            shown = visible_name(name, NAME_WIDTH) if name else ""
            self._made[key] = Person(key, shown, fingerprint(key), key in self.shared)
        return self._made[key]


def rich_text(text: str, people: People) -> Markup:
    """A post's text (already inert) escaped, with its hashtags and full-key mentions as links."""
    out: list[str] = []
    at = 0
    for match in _LINKS.finditer(text):
        out.append(escape(text[at : match.start()]))
        tag, key = match.group(1), match.group(2)
        if tag is not None:
            out.append(Markup('<a class="tag" href="/tags/{}">#{}</a>').format(tag.lower(), tag))
        else:
            who = people.person(key)
            label = f"@{who.name}" if who.name else f"@{who.fingerprint}"
            out.append(Markup('<a class="mention" href="/@{}"><bdi>{}</bdi></a>').format(key, label))
        at = match.end()
    out.append(escape(text[at:]))
    return Markup("").join(out)


def readable_text(text: str, people: People) -> str:
    """A post's text (already inert) with each full-key mention written as the name or fingerprint it names."""

    def name(match: re.Match[str]) -> str:
        who = people.person(match.group(1))
        return f"@{who.name or who.fingerprint}"

    return MENTION_IN_TEXT.sub(name, text)


def mentioned(raw: bytes) -> list[str]:
    return [v for n, v in orjson.loads(raw).get("tags", []) if n == "mention"]


def _body(item: TimelineItem) -> dict[str, Any]:
    """The body readers see: the newest edit's, or the post's as signed."""
    body: dict[str, Any] = orjson.loads(item.edit_raw or item.raw)["body"]
    return body


def keys_of(items: Iterable[TimelineItem]) -> list[str]:
    """Every key a list of items shows: authors, boosters, mentions."""
    keys: list[str] = []
    for item in items:
        keys.append(item.author)
        if item.boosted_by:
            keys.append(item.boosted_by)
        keys.extend(mentioned(item.edit_raw or item.raw))
    return keys


def post_of(item: TimelineItem, people: People, *, depth: int = 0, asked: bool = False) -> Post:
    body = _body(item)
    plain = untrusted(str(body.get("text", "")))
    edit_id = str(orjson.loads(item.edit_raw)["id"]) if item.edit_raw else None
    return Post(
        id=item.id,
        author=people.person(item.author),
        text=rich_text(plain, people),
        plain=plain,
        readable=readable_text(plain, people),
        cw=untrusted(str(body.get("cw", "")), lines=False),
        created_at=item.created_at,
        updated_at=item.edited_at if item.edited_at is not None else item.created_at,
        edit_id=edit_id,
        boosted_by=people.person(item.boosted_by) if item.boosted_by else None,
        replies=item.replies,
        reactions=item.reactions,
        boosts=item.boosts,
        depth=depth,
        asked=asked,
    )


async def posts_of(store: Store, items: Sequence[TimelineItem]) -> list[Post]:
    people = await People.of(store, keys_of(items))
    return await with_withheld(store, [post_of(item, people) for item in items])


async def with_withheld(store: Store, posts: list[Post]) -> list[Post]:
    """The posts, each saying what peers withheld of it and why, as the API and the terminal say it; but a peer
    trusted with a scope (a label besides `outside`) is not named: these pages are for anyone."""
    found = await receipts.withheld_among(store, [p.id for p in posts if not p.missing])
    if not found:
        return posts
    peers = await list_peers(store)
    signers = Signers(peers={p.key: p.name for p in peers})
    trusted = {p.key for p in peers if p.labels - {OUTSIDE}}
    # Through ``untrusted`` as every other string of a page or feed: a note is already one inert line, but may
    # still hold what XML cannot carry.
    notes = {
        k: withheld_notes(k, [_marked(r.as_dict(), signers) for r in v], unnamed=trusted) for k, v in found.items()
    }
    shown = {k: tuple(untrusted(n, lines=False) for n in v) for k, v in notes.items()}
    return [
        replace(p, withheld=shown[p.id], withheld_at=max(r.at for r in found[p.id])) if p.id in notes else p
        for p in posts
    ]


def _marked(notice: dict[str, Any], signers: Signers) -> dict[str, Any]:
    """A notice as this server, its readers' home, knows its signer: one of its peers, or unknown."""
    mark_signer(notice, signers)
    return notice


def missing(node_id: str, depth: int) -> Post:
    """A thread's placeholder: a post its replies answer that is not held here (not arrived, or deleted)."""
    nobody = Person("", "", "", False)
    return Post(node_id, nobody, Markup(""), "", "", "", 0, 0, None, None, 0, 0, 0, depth=depth, missing=True)
