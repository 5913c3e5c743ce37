"""A home server's public content, written straight into its store, and an outsider reading its web view."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from murmur.keys import Identity
from murmur.kinds.group_drafts import about_post_draft, create_draft, membership_draft
from murmur.kinds.letter import letter_draft
from murmur.store import Store
from tests.store.store_people import T0, Person

Message = dict[str, Any]


def people(count: int, clock: Iterator[int] | None = None) -> list[Person]:
    clock = clock or itertools.count(T0, 1000)
    return [Person(Identity.from_seed(bytes([60 + n]) * 32), clock) for n in range(count)]


def group_of(owner: Person, name: str, **kw: Any) -> Message:
    draft = create_draft(name, **kw)
    return owner.sign("group", draft["body"], draft["tags"], None)


def joins(person: Person, group: Message) -> Message:
    draft = membership_draft("group_join", group["id"])
    return person.sign("group_join", draft["body"], draft["tags"], None)


def in_group(person: Person, group: Message, text: str, *, reply: Message | None = None) -> Message:
    tags: list[list[str]] = [["group", group["id"]]]
    if reply is not None:
        root = next((v for n, v in reply["tags"] if n == "root"), reply["id"])
        tags += [["reply", reply["id"]], ["root", root]]
    return person.sign("post", {"text": text, "visibility": "public"}, tags, None)


def about_post(moderator: Person, kind: str, group: Message, post: Message, reason: str = "") -> Message:
    draft = about_post_draft(kind, group["id"], post["id"], reason=reason)
    return moderator.sign(kind, draft["body"], draft["tags"], None)


def open_letter(author: Person, title: str, to: str, text: str, **kw: Any) -> Message:
    draft = letter_draft(title, to, text, **kw)
    return author.sign("letter", draft["body"], draft["tags"], None)


def signature(signer: Person, letter: Message, note: str = "", at: int | None = None) -> Message:
    body = {"note": note} if note else {}
    return signer.sign("signature", body, [["target", letter["id"]], ["subject", letter["author"]]], at)


@dataclass
class Site:
    """The store behind a server's web view, and a browser-less reader of it."""

    store: Store
    http: httpx.AsyncClient
    refused: list[Any] = field(default_factory=list)

    async def add(self, *messages: Message) -> None:
        results = await self.store.ingest(list(messages), now=None)
        assert all(r.status in ("stored", "duplicate") for r in results), [r.as_dict() for r in results]

    async def get(self, path: str, **headers: str) -> httpx.Response:
        return await self.http.get(path, headers=headers)
