"""The read-only web view and feeds of public content (docs/web.md).

Server-rendered HTML, Atom and twtxt for people who read in a browser or a feed reader: a person, a post with its
thread, a hashtag, a public group, an open letter. Every read asks the one audience rule
(``murmur.store.public``); nothing is written, no one signs in, and no script runs.
"""

from __future__ import annotations

from starlette.routing import Route

from murmur.kinds import kind
from murmur.server.web import feeds, pages


def routes() -> list[Route]:
    """The web view's routes; a group's and a letter's pages only when this program knows those kinds."""
    found = [
        Route("/static/{name}", pages.static),
        Route("/@{identity}", pages.person),
        Route("/@{identity}/feed.atom", feeds.person_feed),
        Route("/@{identity}/twtxt.txt", feeds.person_twtxt),
        Route("/m/{id}", pages.message),
        Route("/m/{id}/signed.json", pages.signed),
        Route("/tags/{name}", pages.tag),
        Route("/tags/{name}/feed.atom", feeds.tag_feed),
    ]
    if kind("group"):
        found += [Route("/g/{id}", pages.group), Route("/g/{id}/feed.atom", feeds.group_feed)]
    if kind("letter"):
        found += [Route("/letters/{id}", pages.letter), Route("/letters/{id}/signed.json", pages.letter_signed)]
    return found
