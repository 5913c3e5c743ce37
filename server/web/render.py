"""The templates: one Jinja2 environment, autoescaping every value in HTML and in Atom alike.

Jinja2 because escaping must not depend on each template remembering it: with ``autoescape=True`` every ``{{ }}``
is escaped unless it is markup this package built from escaped parts (``view.rich_text``), and a misspelt name
fails loudly (``StrictUndefined``) instead of printing nothing.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from murmur.server.web.view import Post, rfc3339, shown_time

TITLE_CHARS = 80

def entry_title(post: Post) -> str:
    """An Atom entry's title: the content warning when there is one, else the text's first line, cut short."""
    first = post.cw or (post.readable.strip().split("\n", 1)[0] if post.readable.strip() else "")
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


def entry_content(post: Post) -> str:
    """An Atom entry's text: the post's, then, after a blank line, what peers withheld of it and why, one notice a
    line in the words every other view uses (``Post.withheld``), so a feed reader is told rather than left with
    silence. Atom has no element for a third party's note on an entry, and one in a namespace of our own would be
    dropped by every reader."""
    return "\n\n".join([post.readable, "\n".join(post.withheld)]) if post.withheld else post.readable


@cache
def environment() -> Environment:
    """Made on the first page asked for, not at import (it finds the templates in the installed package)."""
    env = Environment(
        loader=PackageLoader("murmur.server.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
    )
    env.filters["rfc3339"] = rfc3339
    env.filters["shown"] = shown_time
    env.filters["entry_title"] = entry_title
    env.filters["entry_content"] = entry_content
    return env


def render(template: str, **context: Any) -> bytes:
    return environment().get_template(template).render(**context).encode("utf-8")
