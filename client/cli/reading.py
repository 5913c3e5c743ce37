"""A person's reading commands: timeline, thread, search, notifications, members."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from murmur.client.api import MurmurClient
from murmur.client.cli.common import EXIT_USAGE, emit_json, fail
from murmur.client.cli.session import with_api
from murmur.client.render import author_label, render_notification, render_page, render_thread
from murmur.keys import Identity
from murmur.text import one_line

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LimitOption = Annotated[int, typer.Option(min=1, max=100, help="How many items (1-100).")]
BeforeOption = Annotated[int | None, typer.Option(help="Cursor from a previous page: show older items.")]


def timeline(
    ctx: typer.Context,
    which: Annotated[
        str, typer.Argument(help="home, local, federated, mentions, tag:NAME or @KEY.", metavar="[TIMELINE]")
    ] = "home",
    limit: LimitOption = 20,
    before: BeforeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a timeline, newest first."""
    named = ("home", "local", "federated", "mentions")
    if which not in named and not which.startswith(("tag:", "#", "@")):
        fail(f"unknown timeline {which!r}; use one of {', '.join(named)}, tag:NAME or @KEY.", EXIT_USAGE)

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return await api.timeline(which, limit=limit, before=before)

    page = with_api(ctx, go)
    if as_json:
        emit_json(page)
    else:
        typer.echo(render_page(page))


def thread(
    ctx: typer.Context,
    msg_id: Annotated[str, typer.Argument(metavar="ID", help="Any post in the thread.")],
    as_json: JsonOption = False,
) -> None:
    """Show a whole thread as a tree."""

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return await api.thread(msg_id)

    result = with_api(ctx, go)
    if as_json:
        emit_json(result)
    else:
        typer.echo("\n".join(render_thread(result["root"], result.get("names"))))


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words to find in posts, names and bios.")],
    kind: Annotated[str, typer.Option("--type", help="posts, people or all.")] = "all",
    limit: LimitOption = 20,
    as_json: JsonOption = False,
) -> None:
    """Search posts and people."""

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return await api.search(query, kind=kind, limit=limit)

    result = with_api(ctx, go)
    if as_json:
        emit_json(result)
        return
    people = result.get("people", [])
    posts = result.get("posts", [])
    for person in people:
        typer.echo(f"@ {author_label(person['key'], {person['key']: person['name']})}  {one_line(person['bio'], 60)}")
    if people and posts:
        typer.echo("")
    if posts:
        typer.echo(render_page({"items": posts}))
    if not people and not posts:
        typer.echo("No matches.")


def notifications(
    ctx: typer.Context,
    limit: LimitOption = 20,
    before: BeforeOption = None,
    mark_read: Annotated[bool, typer.Option("--mark-read", help="Mark everything shown as read.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Mentions, replies, reactions, boosts and new followers."""

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        page = await api.notifications(limit=limit, before=before)
        if mark_read and page["items"]:
            page["unread"] = (await api.mark_read(max(item["seq"] for item in page["items"])))["unread"]
        return page

    page = with_api(ctx, go)
    if as_json:
        emit_json(page)
        return
    typer.echo(f"{page.get('unread', 0)} unread")
    for item in page["items"]:
        typer.echo(render_notification(item, page.get("names")))


def members(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the members of your home server."""

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return await api.members()

    result = with_api(ctx, go)
    if as_json:
        emit_json(result)
        return
    for m in result["members"]:
        typer.echo(f"{m['key']}  {m['role']:6}  {one_line(m['name'], 40)}")
