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
from datetime import datetime
from types import MappingProxyType
from typing import Any

from murmur.kinds.meetup import zone_of
from murmur.terminal import one_line
from murmur.text import ago, left

UNKNOWN = "a message of a kind this version does not show"

Body = Mapping[str, Any]


def _nothing(_: Body) -> str:
    return ""


def _emoji(body: Body) -> str:
    return f" {one_line(str(body.get('emoji', '')), 40)}"


def local_time(ms: object, zone_name: object) -> str:
    """``2026-12-01 18:30 Europe/Paris``: a meetup's time in the zone its organiser gave (UTC when this machine's
    zone database lacks it, as ``murmur.kinds.meetup.zone_of`` says)."""
    zone = zone_of(str(zone_name))
    moment = datetime.fromtimestamp((ms if isinstance(ms, int) else 0) / 1000, tz=zone)
    return f"{moment.strftime('%Y-%m-%d %H:%M')} {zone.key}"


def since(moment: int, now_ms: int) -> str:
    """``just now``, ``5m ago``, or ``on 2026-01-01`` beyond a month: how long ago a moment was."""
    text = ago(moment, now_ms)
    return "just now" if text == "now" else f"on {text}" if "-" in text else f"{text} ago"


def closing(closes_at: int, now_ms: int) -> str:
    """``closes in 3h`` or ``closed 2d ago``, by the reader's clock."""
    return f"closed {since(closes_at, now_ms)}" if now_ms >= closes_at else f"closes in {left(closes_at, now_ms)}"


def _digits(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def _poll_card(body: Body, now_ms: int) -> list[str]:
    options = str(body.get("options", "")).split("\n")
    choice = "several choices" if body.get("multiple") == "yes" else "one choice"
    closes = _digits(body.get("closes"))
    state = closing(closes, now_ms) if closes is not None else "closing time unreadable"
    return [
        f"Poll: {one_line(str(body.get('question', '')), 200)}",
        *(f"  {n}) {one_line(option, 100)}" for n, option in enumerate(options[:10], start=1)),
        f"{choice} · {state} · ballots are open (signed): who voted what is public",
    ]


def _meetup_card(body: Body, now_ms: int) -> list[str]:
    start, end = _digits(body.get("start")), _digits(body.get("end"))
    when = f"{local_time(start, body.get('tz'))} to {local_time(end, body.get('tz'))}" if start and end else "?"
    place = one_line(str(body.get("place") or ""), 100) or "no place given"
    places = _digits(body.get("capacity"))
    capacity = f" · {places} place{'' if places == 1 else 's'}" if places else ""
    lines = [f"Meetup: {one_line(str(body.get('title', '')), 200)}", f"{when} · {place}{capacity}"]
    if body.get("description"):
        lines.append(one_line(str(body["description"]), 200))
    return lines


Card = Callable[[Body, int], list[str]]
"""The lines of an entry that is not a post (a poll, a meetup): from its body as signed and the reader's clock."""


@dataclass(frozen=True, slots=True)
class View:
    """How one kind of message is drawn.

    ``full``: with its text, content warning and counts (a post). ``card``: a timeline entry of another kind (a
    poll, a meetup), drawn as the lines ``card`` gives; its own screen shows the figures. Otherwise it is one
    line naming the kind, what ``detail`` adds (a reaction's emoji) and the short id of what its ``about`` tag
    names.
    """

    full: bool = False
    detail: Callable[[Body], str] = _nothing
    about: str | None = "target"
    card: Card | None = None


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
        "poll": View(
            detail=lambda body: f" {one_line(str(body.get('question', '')), 80)}", about=None, card=_poll_card
        ),
        "ballot": View(detail=lambda body: f" {one_line(str(body.get('choices', '')), 30)}"),
        "meetup": View(
            detail=lambda body: f" {one_line(str(body.get('title', '')), 80)}", about=None, card=_meetup_card
        ),
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
        # A direct message is never an item (servers show it nowhere); were one shown, nothing of it is readable.
        "sealed": View(detail=lambda body: " (a direct message: `murmur dm list`)", about=None),
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
        "move": lambda body: f"moved home to {one_line(str(body.get('home', '')), 80)} (their profile says if this"
        " server trusts it)",
        "move_disputed": lambda body: f"claims a move home to {one_line(str(body.get('home', '')), 80)} on one branch"
        " of a fork in their identity's log: disputed, not settled",
        "edit": lambda _: "edited a post you replied to, reacted to or boosted",
        "group_join": lambda _: "asked to join a group you moderate",
        "group_approve": lambda _: "let you into a group",
        "group_remove": lambda _: "removed you from a group",
        "group_mod": lambda _: "made you a moderator of a group",
        "signature": lambda body: "signed your open letter" + (f": {one_line(str(body['note']), 60)}" if body.get(
            "note"
        ) else ""),
        "meetup_update": lambda body: (
            "cancelled a meetup you answered" if body.get("status") == "cancelled" else "updated a meetup you answered"
        ),
    }
)


def card(message: Mapping[str, Any], now_ms: int) -> list[str] | None:
    """The lines of a timeline entry that is not a post (a poll, a meetup), None for any other kind."""
    view = VIEWS.get(str(message.get("kind")))
    body = message.get("body")
    if view is None or view.card is None:
        return None
    return view.card(body if isinstance(body, Mapping) else {}, now_ms)


def is_entry(kind: object) -> bool:
    """Whether a kind is a timeline entry of its own (a post, a poll, a meetup), as the server's registry says."""
    view = VIEWS.get(str(kind))
    return view is not None and (view.full or view.card is not None)


def shows_counts(message: Mapping[str, Any], counts: Mapping[str, Any]) -> bool:
    """Whether an entry shows its replies, reactions and boosts: a post always; a poll or a meetup once it has any
    (its card stays short until people answer it)."""
    return is_full(message) or (card(message, 0) is not None and any(counts.get(k) for k in COUNTED))


COUNTED = ("replies", "reactions", "boosts")


def not_answerable(message: Mapping[str, Any]) -> str | None:
    """Why a message takes no reply, reaction or boost (it is not a post, a poll or a meetup: a reaction, a ballot,
    a follow...), said for a person; None when it takes them."""
    kind = message.get("kind")
    if is_entry(kind):
        return None
    return f"That is a {one_line(str(kind), 32)}: only posts, polls and meetups take replies, reactions and boosts."


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


def my_answer(meetup: Mapping[str, Any], me: str) -> str | None:
    """``going``, ``waiting``, ``maybe`` or ``no``: my answer to a meetup as the server counts it, None if none."""
    answers = meetup.get("answers") if isinstance(meetup.get("answers"), Mapping) else {}
    return next((name for name in ("going", "waiting", "maybe", "no") if me in (answers.get(name) or [])), None)


def reminder_line(meetup: Mapping[str, Any], me: str, now_ms: int) -> str:
    """A reminder of a meetup I answered: ``Soon: Picnic starts in 45m (2026-12-01 18:00 UTC) · Park · you: going``."""
    start = meetup.get("start") if isinstance(meetup.get("start"), int) else 0
    when = f"starts in {left(start, now_ms)}" if now_ms < start else f"started {since(start, now_ms)}"
    place = one_line(str(meetup.get("place") or ""), 60) or "no place given"
    mine = my_answer(meetup, me) or "?"
    title = one_line(str(meetup.get("title", "")), 80)
    return f"Soon: {title} {when} ({local_time(start, meetup.get('tz'))}) · {place} · you: {mine}"


def group_facts(group: Mapping[str, Any]) -> str:
    """How many members a group has and how one joins it: ``4 members · joining needs a moderator's approval``."""
    count = group.get("members", 0)
    join = {"open": "anyone may join", "invite": "private: by invitation, sealed for its members"}.get(
        str(group.get("join")), "joining needs a moderator's approval"
    )
    return f"{count} member{'' if count == 1 else 's'} · {join}"
