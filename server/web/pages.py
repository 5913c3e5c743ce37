"""The pages: a person, a post with its thread, a hashtag, a public group, an open letter, and the signed JSON
behind each. Every read goes through ``murmur.store.public``, which holds it to the audience rule."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import orjson
from starlette.requests import Request
from starlette.responses import Response

from murmur.kinds.group_reads import GroupRow
from murmur.kinds.letter import Standing
from murmur.message import now_ms
from murmur.server.responses import JSONBytes
from murmur.server.routes.letters import signed_json
from murmur.server.web.answer import CSS, HTML, JSON, STYLE_MAX_AGE, SVG, answer
from murmur.server.web.paths import before_of, full_id, identity_of, not_found, shown, store_of, tag_of
from murmur.server.web.render import render
from murmur.server.web.view import (
    People,
    Person,
    Post,
    keys_of,
    missing,
    post_of,
    posts_of,
    untrusted,
    with_withheld,
)
from murmur.store import Store, public
from murmur.store.items import Page
from murmur.store.threads import ThreadNode

PAGE = 20  # posts on a page


@dataclass(frozen=True, slots=True)
class Feed:
    type: str
    title: str
    href: str


def atom(href: str, title: str = "Atom feed") -> Feed:
    return Feed("application/atom+xml", title, href)


def older(path: str, page: Page) -> str | None:
    return f"{path}?before={page.next_cursor}" if page.next_cursor is not None else None


@dataclass(frozen=True, slots=True)
class Someone:
    """A person as their page and feeds show them: who, their public profile, a page of their public posts."""

    key: str
    who: Person
    profile: public.PublicProfile | None
    page: Page


async def someone(request: Request, *, limit: int = PAGE, paged: bool = True) -> Someone:
    """The person an ``/@IDENTITY`` path names and a page of their posts; not found when they have neither a
    public profile nor a public post."""
    store = store_of(request)
    key = await identity_of(store, request.path_params["identity"])
    before = before_of(request) if paged else None
    profile = await public.profile(store, key)
    page = await public.posts_by(store, key, limit=limit, before=before)
    if profile is None and not page.items and (before is None or not (await public.posts_by(store, key)).items):
        raise not_found()
    return Someone(key, (await People.of(store, [key])).person(key), profile, page)


@shown
async def person(request: Request) -> Response:
    found = await someone(request)
    key, who, profile = found.key, found.who, found.profile
    body = render(
        "person.html",
        title=who.name or who.fingerprint,
        person=who,
        bio=untrusted(profile.bio) if profile else "",
        profile_id=profile.message if profile else None,
        items=await posts_of(store_of(request), found.page.items),
        older=older(f"/@{key}", found.page),
        feeds=[atom(f"/@{key}/feed.atom"), Feed("text/plain", "twtxt", f"/@{key}/twtxt.txt")],
    )
    return answer(request, body, HTML)


def _flatten(root: ThreadNode, people: People, asked: str) -> list[Post]:
    """A thread in reading order, each post with its depth (no recursion: reply chains run long)."""
    out: list[Post] = []
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if node.item is None:
            out.append(missing(node.id, depth))
        else:
            out.append(post_of(node.item, people, depth=depth, asked=node.id == asked))
        stack.extend((child, depth + 1) for child in reversed(node.children))
    return out


@shown
async def message(request: Request) -> Response:
    store = store_of(request)
    msg_id = full_id(request.path_params["id"])
    found = await public.public_thread(store, msg_id)
    if found is None:
        raise not_found()
    people = await People.of(store, keys_of(n.item for n in public.walk(found.root) if n.item is not None))
    posts = await with_withheld(store, _flatten(found.root, people, msg_id))
    asked = next(p for p in posts if p.asked)
    body = render(
        "thread.html",
        title=f"Post by {asked.author.name or asked.author.fingerprint}",
        items=posts,
        size=found.size,
        truncated=found.truncated,
        feeds=[atom(f"/@{asked.author.key}/feed.atom", "Atom feed of the author")],
    )
    return answer(request, body, HTML)


@shown
async def signed(request: Request) -> Response:
    """One message anyone may see, exactly as its author signed it: the bytes a reader checks."""
    found = await public.held(store_of(request), full_id(request.path_params["id"]))
    if found is None:
        raise not_found()
    return answer(request, found.raw, JSON)


@shown
async def tag(request: Request) -> Response:
    store = store_of(request)
    name = tag_of(request.path_params["name"])
    page = await public.tagged(store, name, limit=PAGE, before=before_of(request))
    body = render(
        "tag.html",
        tag=name,
        items=await posts_of(store, page.items),
        older=older(f"/tags/{name}", page),
        feeds=[atom(f"/tags/{name}/feed.atom")],
    )
    return answer(request, body, HTML)


async def group_shown(store: Store, group_id: str, before: str | None) -> tuple[GroupRow, Page]:
    """A public group and a page of its posts anyone may see, without those its moderators hid."""
    row = await public.group(store, group_id)
    if row is None:
        raise not_found()
    page = await public.group_posts(store, row.id, limit=PAGE, before=before)
    hidden = await public.group_hidden(store, row.id, [i.id for i in page.items])
    return row, Page([i for i in page.items if i.id not in hidden], page.next_cursor)


@shown
async def group(request: Request) -> Response:
    store = store_of(request)
    row, page = await group_shown(store, full_id(request.path_params["id"]), before_of(request))
    pins = await public.group_pinned(store, row.id)
    hidden = await public.group_hidden(store, row.id, [i.id for i in pins])
    pinned = await posts_of(store, [i for i in pins if i.id not in hidden])
    owner = (await People.of(store, [row.owner])).person(row.owner)
    body = render(
        "group.html",
        title=untrusted(row.name, width=80),
        group=row,
        name=untrusted(row.name, lines=False),
        owner=owner,
        description=untrusted(row.description),
        rules=untrusted(row.rules),
        pinned=pinned,
        items=await posts_of(store, page.items),
        older=older(f"/g/{row.id}", page),
        feeds=[atom(f"/g/{row.id}/feed.atom")],
    )
    return answer(request, body, HTML)


@dataclass(frozen=True, slots=True)
class Signer:
    person: Person
    signed_at: int
    note: str


@dataclass(frozen=True, slots=True)
class LetterShown:
    id: str
    title: str
    to: str
    text: str


async def letter_page(store: Store, found: Standing, now: int) -> bytes:
    spec = found.spec
    people = await People.of(store, [spec.author, *(s.key for s in found.count.signers)])
    signers = [
        Signer(people.person(s.key), s.signed_at, untrusted(s.note, lines=False)) for s in found.count.signers
    ]
    held = await public.held(store, spec.id)
    created_at = _created_at(held.raw) if held else 0
    return render(
        "letter.html",
        title=untrusted(spec.title, width=80),
        letter=LetterShown(
            spec.id, untrusted(spec.title, lines=False), untrusted(spec.to, lines=False), untrusted(spec.text)
        ),
        author=people.person(spec.author),
        created_at=created_at,
        deadline=spec.deadline,
        closed=not spec.open_at(now),
        previous=spec.previous,
        newer=found.newer,
        count=found.count.count,
        signers=signers,
        feeds=[atom(f"/@{spec.author}/feed.atom", "Atom feed of the author")],
    )


def _created_at(raw: bytes) -> int:
    return int(orjson.loads(raw)["created_at"])


@shown
async def letter(request: Request) -> Response:
    store = store_of(request)
    found = await public.open_letter(store, full_id(request.path_params["id"]))
    if found is None:
        raise not_found()
    return answer(request, await letter_page(store, found, now_ms()), HTML)


@shown
async def letter_signed(request: Request) -> Response:
    """The letter, every signature on it and their withdrawals, as signed: what a recount needs."""
    held = await public.signed_letter(store_of(request), full_id(request.path_params["id"]))
    if held is None:
        raise not_found()
    return answer(request, bytes(JSONBytes(signed_json(held)).body), JSON)


# The files under /static/: the stylesheet and the icon a browser asks for, nothing else.
STATIC = {"web.css": CSS, "icon.svg": SVG}


@cache
def _static(name: str) -> bytes:
    return files("murmur.server.web").joinpath("static", name).read_bytes()


@shown
async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        raise not_found()
    return answer(request, _static(name), STATIC[name], max_age=STYLE_MAX_AGE)
