"""A person's reading commands: timeline, thread, search, notifications, members.

What people wrote is folded until asked for: a post under a content warning until ``--show-cw``, a long post
until ``--full``. ``--json`` leaves out every message that failed verification on this machine (and says on
stderr how many) unless ``--include-unverified`` asks for them, flagged ``"verified": false``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from murmur.client.api import ApiError, MurmurClient, verified
from murmur.client.cli.common import EXIT_USAGE, emit_json, fail
from murmur.client.cli.private import (
    Page,
    emit_private_timeline,
    group_named,
    is_private,
    private_timeline,
    with_groups,
)
from murmur.client.cli.session import person_key, with_api
from murmur.client.identity_check import checked_people
from murmur.client.kinds import reminder_line
from murmur.client.missing import absent_ids, absent_line, missing_lines, missing_of, peer_lines, repair_lines
from murmur.client.render import (
    SHARED_NAME,
    Context,
    page_parents,
    render_notification,
    render_page,
    render_person,
    render_thread,
    tag_value,
    thread_parents,
)
from murmur.console import checked_argument
from murmur.keys import Identity
from murmur.message import now_ms
from murmur.prefixes import checked_prefix
from murmur.terminal import say, visible_name

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LimitOption = Annotated[int, typer.Option(min=1, max=100, help="How many items (1-100).")]
BeforeOption = Annotated[str | None, typer.Option(help="Cursor from a previous page: show older items.")]
ShowCwOption = Annotated[bool, typer.Option("--show-cw", help="Show the text of posts under a content warning.")]
FullOption = Annotated[bool, typer.Option("--full", help="Show long posts whole instead of their first lines.")]
UnverifiedOption = Annotated[
    bool,
    typer.Option(
        "--include-unverified",
        help='With --json, include messages that failed verification here, marked "verified": false.',
    ),
]


def withhold_unverified(answer: dict[str, Any]) -> int:
    """Take every message that failed verification out of an answer; return how many were taken.

    Listings lose the item; a thread keeps the node (its replies hang from it) with ``item`` null, as for
    a post the server does not have."""
    left_out = 0
    for listing in ("items", "posts"):
        items = answer.get(listing)
        if isinstance(items, list):
            kept = [item for item in items if not isinstance(item, dict) or item.get("verified", True)]
            left_out += len(items) - len(kept)
            answer[listing] = kept
    stack = [answer["root"]] if isinstance(answer.get("root"), dict) else []
    while stack:
        node = stack.pop()
        item = node.get("item")
        if isinstance(item, dict) and not item.get("verified", True):
            node["item"] = None
            left_out += 1
        stack.extend(child for child in node.get("children", []) if isinstance(child, dict))
    return left_out


def emit_verified_json(answer: dict[str, Any], include_unverified: bool) -> None:
    """``--json`` for a listing: what failed verification is left out (and counted on stderr) unless asked for."""
    if not include_unverified:
        left_out = withhold_unverified(answer)
        if left_out:
            say(
                f"murmur: left out {left_out} message{'' if left_out == 1 else 's'} that failed verification on "
                "this machine (the id or signature does not match what the author signed: the server may have "
                'altered them); --include-unverified includes them, marked "verified": false.',
                err=True,
            )
    emit_json(answer)


# Each look-up is a request and counts against the member's rate limit: a page asks about this many at most.
MAX_PARENT_LOOKUPS = 20


async def fetch_parents(api: MurmurClient, items: list[dict[str, Any]]) -> dict[str, str | None]:
    """Who wrote each post that a reply on this page answers: from the page, else asked of the server.

    A parent the server does not have (never arrived, or deleted) maps to None; one that cannot be asked for
    (past MAX_PARENT_LOOKUPS, refused) or fails verification is left out, so the reply is marked with its
    short id alone."""
    known = page_parents(items)
    wanted = {  # a set: many replies to one post ask about it once
        parent
        for item in items
        if item.get("verified") and isinstance(item.get("message"), dict)
        for parent in [tag_value(item["message"], "reply")]
        if parent and parent not in known
    }

    async def ask(msg_id: str) -> tuple[str, str | None] | None:
        try:
            message = await api.message(msg_id)
        except ApiError as error:
            return (msg_id, None) if error.code == "not_found" else None
        return (msg_id, message["author"]) if verified(message) and message.get("id") == msg_id else None

    for found in await asyncio.gather(*(ask(msg_id) for msg_id in sorted(wanted)[:MAX_PARENT_LOOKUPS])):
        if found is not None:
            known[found[0]] = found[1]
    return known


def timeline(
    ctx: typer.Context,
    which: Annotated[
        str,
        typer.Argument(
            help="home, local, federated, mentions, tag:NAME, @KEY, @NAME or group:GROUP_ID.", metavar="[TIMELINE]"
        ),
    ] = "home",
    limit: LimitOption = 20,
    before: BeforeOption = None,
    show_cw: ShowCwOption = False,
    full: FullOption = False,
    show_hidden: Annotated[
        bool, typer.Option("--show-hidden", help="Show the text of posts a group's moderator hid.")
    ] = False,
    as_json: JsonOption = False,
    include_unverified: UnverifiedOption = False,
) -> None:
    """Show a timeline, newest first."""
    named = ("home", "local", "federated", "mentions")
    if which not in named and not which.startswith(("tag:", "#", "@", "group:")):
        fail(
            f"unknown timeline {which!r}; use one of {', '.join(named)}, tag:NAME, @KEY or group:GROUP_ID.", EXIT_USAGE
        )
    if which.startswith("group:"):
        which = "group:" + checked_argument(lambda: checked_prefix(which[6:], "group id"))

    async def go(api: MurmurClient, identity: Identity) -> tuple[dict[str, Any] | Page, dict[str, str | None]]:
        # a private group is read on this device
        if which.startswith("group:") and await is_private(api, found := await group_named(ctx, api, which[6:])):
            return await with_groups(ctx, api, identity, lambda g: private_timeline(g, str(found["id"]), limit)), {}
        whose = f"@{await person_key(api, which)}" if which.startswith("@") else which
        page = await api.timeline(whose, limit=limit, before=before)
        return page, ({} if as_json else await fetch_parents(api, page.get("items", [])))

    page, parents = with_api(ctx, go)
    if isinstance(page, Page):
        emit_private_timeline(page, as_json)
        return
    if as_json:
        emit_verified_json(page, include_unverified)
    else:
        context = Context.of(page, parents=parents, show_cw=show_cw, full=full, show_hidden=show_hidden)
        say(render_page(page, context))


def thread(
    ctx: typer.Context,
    msg_id: Annotated[str, typer.Argument(metavar="ID", help="Any post in the thread.")],
    show_cw: ShowCwOption = False,
    full: FullOption = False,
    as_json: JsonOption = False,
    include_unverified: UnverifiedOption = False,
    ask: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="First ask the server's peers for what the thread says is missing (by device, and by id).",
        ),
    ] = False,
) -> None:
    """Show a whole thread as a tree."""

    checked = checked_argument(lambda: checked_prefix(msg_id, "message id"))

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        found = await api.thread(checked)
        if not ask:
            return found
        keys, ids = [m.device for m in missing_of(found)], absent_ids(found["root"])
        for n, key in enumerate(keys or ([None] if ids else [])):  # the ids go once, with the first
            repaired = await api.repair(key, ids if n == 0 else [])
            say("\n".join(peer_lines(repaired) or ["No peer of this server could be asked."]), err=True)
        return await api.thread(checked)

    result = with_api(ctx, go)
    if as_json:
        emit_verified_json(result, include_unverified)
        return
    parents = thread_parents(result["root"])
    context = Context.of(result, parents=parents, show_cw=show_cw, full=full)
    absent = absent_ids(result["root"])
    lacking = missing_lines(result, context.names) + ([absent_line(len(absent))] if absent else [])
    say("\n".join(render_thread(result["root"], context) + lacking))


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words to find in posts, names and bios.")],
    kind: Annotated[str, typer.Option("--type", help="posts, people or all.")] = "all",
    limit: LimitOption = 20,
    show_cw: ShowCwOption = False,
    full: FullOption = False,
    before: BeforeOption = None,
    as_json: JsonOption = False,
    include_unverified: UnverifiedOption = False,
) -> None:
    """Search posts (newest first) and people."""

    async def go(api: MurmurClient, identity: Identity) -> tuple[dict[str, Any], dict[str, str | None]]:
        result = await api.search(query, kind=kind, limit=limit, before=before)
        if "people" in result:  # whose identity each is, as its signed log says here
            result["people"] = await checked_people(api, result["people"])
        return result, ({} if as_json else await fetch_parents(api, result.get("posts", [])))

    result, parents = with_api(ctx, go)
    if as_json:
        emit_verified_json(result, include_unverified)
        return
    context = Context.of(result, parents=parents, show_cw=show_cw, full=full)
    people = result.get("people", [])
    posts = result.get("posts", [])
    for person in people:
        say(render_person(person, context))
    if people and posts:
        say()
    if posts:
        say(render_page({"items": posts, "next_cursor": result.get("next_cursor")}, context))
    if not people and not posts:
        say("No matches.")


def notifications(
    ctx: typer.Context,
    limit: LimitOption = 20,
    before: BeforeOption = None,
    mark_read: Annotated[bool, typer.Option("--mark-read", help="Mark everything shown as read.")] = False,
    show_cw: ShowCwOption = False,
    as_json: JsonOption = False,
    include_unverified: UnverifiedOption = False,
) -> None:
    """Mentions, replies, reactions, boosts, new followers, signatures on your letters; first, reminders of the
    meetups you answered going or maybe that start within the hour."""

    async def go(api: MurmurClient, identity: Identity) -> tuple[dict[str, Any], str]:
        page = await api.notifications(limit=limit, before=before)
        if mark_read and page["items"]:
            page["unread"] = (await api.mark_read(max(item["seq"] for item in page["items"])))["unread"]
        return page, identity.public_key

    page, me = with_api(ctx, go)
    if as_json:
        emit_verified_json(page, include_unverified)
        return
    context = Context.of(page, show_cw=show_cw)
    now = now_ms()
    for meetup in page.get("reminders") or []:  # meetups I answered, starting within the hour
        say(reminder_line(meetup, me, now))
    say(f"{page.get('unread', 0)} unread")
    for item in page["items"]:
        say(render_notification(item, context))


def members(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the members of your home server."""

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return await api.members()

    result = with_api(ctx, go)
    if as_json:
        emit_json(result)
        return
    for m in result["members"]:
        flag = f"  {SHARED_NAME}" if m.get("name_shared") else ""
        say(f"{m['key']}  {m['role']:6}  {visible_name(str(m.get('name') or ''), 40)}{flag}")


def repair(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Whose public messages: a key, 8+ of its hex digits, or @name.")],
    as_json: JsonOption = False,
) -> None:
    """Ask your server to fetch from its peers the public messages of a person that it knows it lacks."""

    async def go(api: MurmurClient, identity: Identity) -> tuple[dict[str, Any], str]:
        whose = await person_key(api, key)
        result = await api.repair(whose)
        return result, str((await api.profile(whose)).get("name") or "")

    result, name = with_api(ctx, go)
    if as_json:
        emit_json(result)
        return
    say("\n".join(repair_lines(result, name)))
