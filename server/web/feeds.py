"""Feeds: Atom (RFC 4287) for a person, a hashtag and a public group, paged and archived as RFC 5005 says, and
twtxt for a person.

An Atom document is one page of the logical feed, newest first. The subscription document (no ``?before=``)
links the next, older page both as a paged feed does (``next``) and as an archived feed does (``prev-archive``);
each older page says it is an archive (``fh:archive``), links back to the subscription document (``current``) and
on to the page older still. An entry's id is the post's own id, so it stays the same through edits; its
``updated`` is the newest edit's time, and its content the newest version's text, then what peers withheld of
the post and why (``render.entry_content``); a notice coming later moves ``updated`` (``Post.entry_updated``).
twtxt carries no notices: its lines are the author's own words, with no field for anyone else's.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from murmur.message import MENTION_IN_TEXT
from murmur.server.web.answer import ATOM, TEXT, answer
from murmur.server.web.pages import PAGE, group_shown, someone
from murmur.server.web.paths import base_of, before_of, full_id, shown, store_of, tag_of
from murmur.server.web.render import render
from murmur.server.web.view import Person, Post, posts_of, rfc3339, untrusted
from murmur.store import public
from murmur.store.items import Page

TWTXT_POSTS = 200  # the newest posts a twtxt file holds


async def _atom(
    request: Request,
    *,
    feed_id: str,
    title: str,
    subtitle: str,
    path: str,
    page: Page,
    author: Person | None,
    since: int = 0,
) -> Response:
    base = base_of(request)
    # A post and its author's boost of it are one entry (RFC 4287: one id is one entry), shown where it came first.
    shown = await posts_of(store_of(request), page.items)
    items = [p for n, p in enumerate(shown) if all(q.id != p.id for q in shown[:n])]
    before = before_of(request)
    current = f"{base}{path}/feed.atom"
    body = render(
        "feed.atom",
        feed_id=feed_id,
        title=title,
        subtitle=subtitle,
        updated=max((p.entry_updated for p in items), default=since),
        self_url=f"{current}?before={before}" if before else current,
        current_url=current,
        page_url=f"{base}{path}",
        archive=before is not None,
        older_url=f"{current}?before={page.next_cursor}" if page.next_cursor is not None else None,
        author=author,
        items=items,
        base=base,
    )
    return answer(request, body, ATOM)


@shown
async def person_feed(request: Request) -> Response:
    found = await someone(request)
    return await _atom(
        request,
        feed_id=f"urn:murmur:person:{found.key}",
        title=found.who.name or found.who.fingerprint,
        subtitle=untrusted(found.profile.bio, width=200) if found.profile else "",
        path=f"/@{found.key}",
        page=found.page,
        author=found.who,
        since=found.profile.created_at if found.profile else 0,
    )


@shown
async def tag_feed(request: Request) -> Response:
    name = tag_of(request.path_params["name"])
    page = await public.tagged(store_of(request), name, limit=PAGE, before=before_of(request))
    return await _atom(
        request, feed_id=f"urn:murmur:tag:{name}", title=f"#{name}", subtitle="", path=f"/tags/{name}", page=page,
        author=None,
    )


@shown
async def group_feed(request: Request) -> Response:
    store = store_of(request)
    row, page = await group_shown(store, full_id(request.path_params["id"]), before_of(request))
    return await _atom(
        request,
        feed_id=f"urn:murmur:group:{row.id}",
        title=untrusted(row.name, width=100),
        subtitle=untrusted(row.description, width=200),
        path=f"/g/{row.id}",
        page=page,
        author=None,
        since=row.created_at,
    )


def _twtxt_text(post: Post, base: str) -> str:
    """One line of text: newlines folded to spaces (a tab never reaches it: ``inert`` made tabs spaces), mentions
    written as twtxt writes them, ``@<name url>``."""
    text = " ".join(post.plain.split("\n"))
    for key in set(MENTION_IN_TEXT.findall(text)):
        text = text.replace(f"@{key}", f"@<{key[:12]} {base}/@{key}/twtxt.txt>")
    return text


@shown
async def person_twtxt(request: Request) -> Response:
    """``twtxt.txt``: metadata comments, then one line per post, oldest first: an RFC 3339 time, a tab, the text."""
    found = await someone(request, limit=TWTXT_POSTS, paged=False)
    key, profile = found.key, found.profile
    posts = [p for p in await posts_of(store_of(request), found.page.items) if p.boosted_by is None]
    base = base_of(request)
    head = [
        f"# nick = {_comment(found.who.name) or found.who.fingerprint}",
        f"# url = {base}/@{key}/twtxt.txt",
        f"# key = {key}",
    ]
    if profile and profile.bio:
        head.append(f"# description = {_comment(profile.bio)}")
    head.append(f"# page = {base}/@{key}")
    lines = [f"{rfc3339(p.created_at)}\t{_twtxt_text(p, base)}" for p in reversed(posts)]
    return answer(request, ("\n".join([*head, "", *lines]) + "\n").encode("utf-8"), TEXT)


def _comment(text: str) -> str:
    """A value on one comment line: inert, newlines folded."""
    return " ".join(untrusted(text).split())
