"""How the clients show each kind of message and each kind of notification: one entry per kind, read by the CLI
(``murmur.client.render``) and the TUI (``murmur.client.tui.present``) alike.

The server's registry (``murmur.kinds``) says which kinds are timeline entries; this table says how a client
draws them, since the core never imports client code. A new kind adds its entry here (and its screens, when it
has more to show than a line). A kind this table lacks, such as one a newer server knows, is shown as
``UNKNOWN``, never as an error: servers carry kinds they do not know (docs/protocol.md §7.3), and so may a
newer home server hand an older client one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from murmur.terminal import one_line

UNKNOWN = "a message of a kind this version does not show"

Body = Mapping[str, Any]


def _nothing(_: Body) -> str:
    return ""


def _emoji(body: Body) -> str:
    return f" {one_line(str(body.get('emoji', '')), 40)}"


@dataclass(frozen=True, slots=True)
class View:
    """How one kind of message is drawn.

    ``full``: with its text, content warning and counts (a post); otherwise it is one line naming the kind, what
    ``detail`` adds (a reaction's emoji) and the short id of what its ``about`` tag names.
    """

    full: bool = False
    detail: Callable[[Body], str] = _nothing
    about: str | None = "target"


VIEWS: Mapping[str, View] = MappingProxyType(
    {
        "post": View(full=True, about=None),
        "reaction": View(detail=_emoji),
        "boost": View(),
        "delete": View(),
        "follow": View(about="subject"),
        "unfollow": View(about="subject"),
        "profile": View(about=None),
        "edit": View(),
        "group": View(detail=lambda body: f" {one_line(str(body.get('name', '')), 60)}", about=None),
        "group_join": View(about="group"),
        "group_leave": View(about="group"),
        "group_approve": View(about="subject"),
        "group_remove": View(about="subject"),
        "group_mod": View(about="subject"),
        "group_unmod": View(about="subject"),
        "group_hide": View(detail=lambda body: f" {one_line(str(body.get('reason', '')), 60)}"),
        "group_unhide": View(),
        "group_pin": View(),
        "group_unpin": View(),
        "poll": View(detail=lambda body: f" {one_line(str(body.get('question', '')), 80)}", about=None),
        "ballot": View(detail=lambda body: f" {one_line(str(body.get('choices', '')), 30)}"),
        "meetup": View(detail=lambda body: f" {one_line(str(body.get('title', '')), 80)}", about=None),
        "meetup_update": View(detail=lambda body: " cancelled" if body.get("status") == "cancelled" else ""),
        "rsvp": View(detail=lambda body: f" {one_line(str(body.get('answer', '')), 10)}"),
        "letter": View(detail=lambda body: f" {one_line(str(body.get('title', '')), 80)}", about=None),
        "signature": View(detail=lambda body: f" {one_line(str(body.get('note', '')), 60)}"),
        # Key events (docs/protocol.md §13): which device, or where the identity moved, after which event.
        "key_inception": View(detail=lambda body: f" first {one_line(str(body.get('name', '')), 40)}", about=None),
        "key_device_add": View(detail=lambda body: f" {one_line(str(body.get('name', '')), 40)}", about="prior"),
        "key_device_remove": View(detail=lambda body: f" {str(body.get('key', ''))[:12]}", about="prior"),
        "key_rotation": View(about="prior"),
        "key_recovery": View(detail=lambda body: f" {one_line(str(body.get('name', '')), 40)}", about="prior"),
        "key_move": View(detail=lambda body: f" {one_line(str(body.get('home', '')), 80)}", about="prior"),
    }
)

# What the actor did, for each kind of notification (murmur.store.notifications).
NOTICES: Mapping[str, Callable[[Body], str]] = MappingProxyType(
    {
        "mention": lambda _: "mentioned you",
        "reply": lambda _: "replied",
        "reaction": lambda body: f"reacted{_emoji(body)}",
        "boost": lambda _: "boosted your post",
        "follow": lambda _: "followed you",
        "edit": lambda _: "edited a post you replied to, reacted to or boosted",
        "group_join": lambda _: "asked to join a group you moderate",
        "group_approve": lambda _: "let you into a group",
        "group_remove": lambda _: "removed you from a group",
        "group_mod": lambda _: "made you a moderator of a group",
        "meetup_update": lambda body: (
            "cancelled a meetup you answered" if body.get("status") == "cancelled" else "updated a meetup you answered"
        ),
    }
)


def is_full(message: Mapping[str, Any]) -> bool:
    """Whether the message is drawn whole (text, warning, counts) rather than as one line."""
    view = VIEWS.get(str(message.get("kind")))
    return view is not None and view.full


def summary(message: Mapping[str, Any]) -> str:
    """The one line for a message that is not drawn whole: ``[reaction 👍] 1a2b3c4d5e6f``, or ``UNKNOWN``."""
    kind = str(message.get("kind"))
    view = VIEWS.get(kind)
    if view is None:
        return f"({UNKNOWN}: {one_line(kind, 32)})"
    body = message.get("body")
    about = next((v for n, v in message.get("tags", []) if n == view.about), "") if view.about else ""
    return f"[{kind}{view.detail(body if isinstance(body, Mapping) else {})}] {one_line(str(about)[:12])}"


def notice_verb(kind: str, body: Body) -> str:
    """What the actor did, for a notification of ``kind``; a kind this client does not know is named as it is."""
    verb = NOTICES.get(kind)
    return verb(body) if verb is not None else one_line(kind, 40)


def group_facts(group: Mapping[str, Any]) -> str:
    """How many members a group has and how one joins it: ``4 members · joining needs a moderator's approval``."""
    count = group.get("members", 0)
    join = "anyone may join" if group.get("join") == "open" else "joining needs a moderator's approval"
    return f"{count} member{'' if count == 1 else 's'} · {join}"
