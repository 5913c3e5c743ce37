"""A post: text with an optional content warning, public or local, maybe a reply in a thread.

Its author may delete it. Replies tell the parent's author; mentions tell whom they name. Search indexes its
text and content warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from murmur.errors import Refused
from murmur.kinds.base import Field, Kind, Tags, visibility_rule
from murmur.kinds.batch import batch
from murmur.message import LONGEST_VISIBILITY, Message


def _reply_names_root(body: Mapping[str, Any], tags: Tags) -> None:
    names = {name for name, _ in tags}
    if ("reply" in names) != ("root" in names):
        raise Refused("bad_tag", "A reply names both the post it answers (reply) and its thread's root (root).")


def _group_is_public(body: Mapping[str, Any], tags: Tags) -> None:
    if body.get("visibility") != "public" and any(name == "group" for name, _ in tags):
        raise Refused("bad_value", "A post in a group is public: groups here are public, and so are their posts.")


def _text(m: Message) -> tuple[str, str]:
    return m.body["text"], m.body.get("cw", "")


# A parent can arrive after its reply, so the reply is looked at from both ends. A reply that also mentions its
# parent's author is told as a reply. CROSS JOIN fixes the join order: the batch's seq range first, then an
# index look-up on the other side; left to itself the planner may start from every post instead. From the
# parent's end the batch is ``murmur.kinds.batch``'s subquery, so that PostgreSQL probes the reply index too.
NOTICES = (
    "INSERT INTO notices (key, seq, kind) SELECT p.author, r.seq, 'reply' FROM messages r"
    " CROSS JOIN messages p ON p.id = r.reply_to WHERE r.seq BETWEEN :lo AND :hi AND r.kind = 'post'"
    " AND p.author != r.author ON CONFLICT (key, seq) DO UPDATE SET kind = 'reply'",
    f"INSERT INTO notices (key, seq, kind) SELECT p.author, r.seq, 'reply' FROM {batch('id', 'author')} p"
    " CROSS JOIN messages r ON r.reply_to = p.id WHERE r.kind = 'post'"
    " AND p.author != r.author ON CONFLICT (key, seq) DO UPDATE SET kind = 'reply'",
    "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT x.key, x.seq, 'mention' FROM mentions x"
    " CROSS JOIN messages m ON m.seq = x.seq WHERE x.seq BETWEEN :lo AND :hi AND m.kind = 'post'"
    " AND m.author != x.key",
)

KIND = Kind(
    name="post",
    body={"text": Field(True, 5000), "cw": Field(False, 500), "visibility": Field(True, LONGEST_VISIBILITY)},
    tags={"reply": (0, 1), "root": (0, 1), "mention": (0, 50), "hashtag": (0, 20), "group": (0, 1)},
    rules=(visibility_rule, _reply_names_root, _group_is_public),
    removable=True,
    text=_text,
    notices=NOTICES,
    shown_as="itself",
    notice_about={"reply": "reply"},
)
