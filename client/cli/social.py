"""A person's writing commands: join, post, react, boost, delete, follow, unfollow, profile."""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from murmur.client.api import MurmurClient, ServerUnreachable, verified
from murmur.client.audience import held_back_line
from murmur.client.cli.audience import print_delete_status, print_signed_preview, signed_visibility
from murmur.client.cli.common import EXIT_USAGE, emit_json, fail
from murmur.client.cli.private import group_named, is_private, post_private, react_private, with_groups
from murmur.client.cli.session import person_key, profile_of, publish_draft, publish_name, typed_person, with_api
from murmur.client.devices import mine_to_act_for
from murmur.client.editor_files import default_editor, drafts_folder, edited
from murmur.client.kinds import not_answerable
from murmur.client.mentions import resolve_text
from murmur.client.responses import Kind, respond, undo
from murmur.console import checked_argument
from murmur.keys import Identity
from murmur.message import TEXT_TAG_LIMITS, text_tags, visibility_for
from murmur.prefixes import checked_prefix
from murmur.terminal import say

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _report(result: dict[str, Any], as_json: bool, what: str) -> None:
    if as_json:
        emit_json(result)
    elif result.get("status") == "duplicate":
        say(f"{what} was already stored: {result['id']}")
    elif result.get("status") == "already":
        say(f"Already done; nothing new was published: {result['id']}")
    else:
        say(f"{what} {result['id']}")
    held = held_back_line(result)
    if not as_json and held is not None:
        say(f"murmur: {held[0].lower()}{held[1:]}", err=True)


def join(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The home server's URL, e.g. http://box.example:8470")],
    invite: Annotated[str | None, typer.Option(help="The invite code an admin gave you.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Join a home server with your key and make it this profile's server."""
    ref = profile_of(ctx)
    identity = ref.identity()
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        fail(f"{url!r} is not a URL; give it as http://host:port or https://host.", EXIT_USAGE)

    config = ref.config()
    section = config.section(ref.name)
    name = str(section.get("name") or "")

    async def go() -> dict[str, Any]:
        async with MurmurClient(url, identity) as api:
            info = await api.info()
            joined = await api.join(invite)
            # From here on, only the server that answered the join is trusted to answer for it.
            api.server_key = info.get("server_key")
            published = await publish_name(api, identity, name)
            return {
                **joined,
                "server": url,
                "server_key": info.get("server_key"),
                "server_name": info.get("name"),
                "profile_published": published,
            }

    result = asyncio.run(go())
    section["server"] = url
    section["server_key"] = result["server_key"]
    config.save()
    if as_json:
        emit_json(result)
    elif result.get("already_member"):
        say(f"Already a member of {result['server_name']} at {url}; it is now profile {ref.name!r}'s server.")
    else:
        say(f"Joined {result['server_name']} at {url} as {identity.fingerprint}.")
    if result["profile_published"] and not as_json:
        say(f"Published your display name {name!r} (change it with `murmur profile --name`).")


def compose_text(text: str | None, folder: Path, current: str = "") -> str:
    """The text: the argument, else stdin when piped, else $EDITOR on a draft holding ``current`` (a post being
    edited) or nothing, in the profile's ``folder`` for drafts (murmur.client.editor_files)."""
    if text is not None and text != "-":
        return text
    if text == "-" or not sys.stdin.isatty():
        return sys.stdin.read().rstrip("\n")
    editor = default_editor()
    if not editor:
        fail("give the text as an argument, pipe it in, or set $EDITOR.", EXIT_USAGE)
    return edited(folder, current, lambda path: subprocess.run([*shlex.split(editor), str(path)],
                                                                    check=False)).strip()  # fmt: skip


def post(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="The text; '-' or a pipe reads stdin; none opens $EDITOR.")] = None,
    reply_to: Annotated[
        str | None, typer.Option("--reply-to", help="The post, poll or meetup this one answers (id or 8+ hex prefix).")
    ] = None,
    cw: Annotated[str | None, typer.Option("--cw", help="Content warning shown before the text.")] = None,
    local: Annotated[bool, typer.Option("--local", help="Keep this post on this server (never federated).")] = False,
    audience: Annotated[
        str | None,
        typer.Option(
            "--audience",
            metavar="NAME",
            help="public, local, or a label such as inside (the peers labelled so); a reply's default is its thread's.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print who would receive it (by label, outside flagged); send nothing.")
    ] = False,
    group: Annotated[
        str | None, typer.Option("--group", metavar="GROUP_ID", help="Post in a group (its id or 8+ hex digits).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign a post on this machine and publish it."""
    if local and audience not in (None, "local"):
        fail(f"--local and --audience {audience} do not go together.", EXIT_USAGE)
    chosen = "local" if local else audience
    if chosen is not None:
        checked_argument(lambda: visibility_for(chosen))
    if group is not None and chosen not in (None, "public"):
        fail("a group's posts are public; --group goes with no other audience.", EXIT_USAGE)
    group_prefix = checked_argument(lambda: checked_prefix(group, "group id")) if group is not None else None
    body_text = "" if dry_run and text is None else compose_text(text, drafts_folder(profile_of(ctx).key_path))
    if not dry_run and not body_text.strip():
        fail("the post is empty; nothing was published.")

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        if group_prefix is not None and await is_private(api, found := await group_named(ctx, api, group_prefix)):
            if dry_run or cw:
                fail("a private group's posts go sealed to its members only: no --dry-run or --cw.", EXIT_USAGE)
            return await with_groups(ctx, api, identity, lambda g: post_private(g, str(found["id"]), body_text,
                                                                               reply_to))  # fmt: skip
        names: list[str] = []
        if reply_to:
            parent = await checked_message(api, reply_to)
            if (why := not_answerable(parent)) is not None:
                fail(f"{why[0].lower()}{why[1:]} Nothing was published.")
            names = sorted({parent["id"], next((v for n, v in parent["tags"] if n == "root"), parent["id"])})
        if dry_run:
            await print_signed_preview(api, visibility_for(chosen) if chosen else None, names, as_json)
            raise typer.Exit(0)
        visibility = await signed_visibility(api, visibility_for(chosen) if chosen else None, names)
        text = await resolve_text(api, body_text)  # @handle -> @<key>, or refused with the candidates
        body: dict[str, Any] = {"text": text, "visibility": visibility}
        if cw:
            body["cw"] = cw
        derived = text_tags(text)
        say_left_out(derived.left_out)
        tags = derived.tags
        if reply_to:
            root = next((v for n, v in parent["tags"] if n == "root"), None) or parent["id"]
            tags = [["reply", parent["id"]], ["root", root], *tags]
            if parent["author"] != identity.public_key and ["mention", parent["author"]] not in tags:
                tags.append(["mention", parent["author"]])
            if group_prefix is None:  # a reply in a group stays in it
                tags += [["group", v] for n, v in parent["tags"] if n == "group"]
        if group_prefix is not None:
            tags.append(["group", await group_id_of(api, group_prefix)])
        return await publish_draft(api, identity, {"kind": "post", "body": body, "tags": tags})

    _report(with_api(ctx, go), as_json, "Posted")


def say_left_out(left_out: dict[str, int]) -> None:
    """A post may carry only so many tags (the protocol refuses more); say which were not tagged, never silently."""
    for name, count in left_out.items():
        limit = TEXT_TAG_LIMITS[name]
        say(
            f"murmur: only the first {limit} {name}s are tagged; {count} more stay in the text untagged"
            f" (a post may carry at most {limit}).",
            err=True,
        )


async def group_id_of(api: MurmurClient, typed: str) -> str:
    """The full id of the group ``typed`` (an id or a prefix) names, as this server knows it."""
    found = await api.group(typed)
    if not str(found["id"]).startswith(typed):
        fail(f"the server answered group {typed!r} with another group; nothing was published.")
    you = found.get("you") or {}
    if you.get("status") != "member":
        fail(f"you are not a member of {found['name']!r}; `murmur group join {typed}` first.")
    return str(found["id"])


async def checked_message(api: MurmurClient, msg_id: str) -> dict[str, Any]:
    """The message an id (or a unique prefix of one) names, checked here: a server cannot swap in another."""
    msg_id = checked_argument(lambda: checked_prefix(msg_id, "message id"))
    message = await api.message(msg_id)
    if not verified(message) or not message["id"].startswith(msg_id):
        fail(f"the server answered {msg_id!r} with a message that is not it; nothing was published.")
    return message


def react(
    ctx: typer.Context,
    msg_id: Annotated[
        str, typer.Argument(metavar="ID", help="The message to react to (id, or its first 8+ hex digits).")
    ],
    emoji: Annotated[str, typer.Argument(help="The reaction, e.g. 👍")],
    group: Annotated[
        str | None,
        typer.Option("--group", metavar="GROUP_ID", help="A private group's message: the reaction is sealed in it."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """React to a message."""
    group_prefix = checked_argument(lambda: checked_prefix(group, "group id")) if group is not None else None

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        if group_prefix is not None:
            if not await is_private(api, found := await group_named(ctx, api, group_prefix)):
                fail("--group is for a private group's messages; react to a public group's post by its id alone.")
            return await with_groups(ctx, api, identity, lambda g: react_private(g, str(found["id"]), msg_id, emoji))
        return await respond(api, await checked_message(api, msg_id), "reaction", emoji)

    _report(with_api(ctx, go), as_json, "Reacted")


def boost(
    ctx: typer.Context,
    msg_id: Annotated[str, typer.Argument(metavar="ID", help="The post to boost (id, or its first 8+ hex digits).")],
    as_json: JsonOption = False,
) -> None:
    """Boost (share) a post to your followers."""

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return await respond(api, await checked_message(api, msg_id), "boost")

    _report(with_api(ctx, go), as_json, "Boosted")


def _undo(ctx: typer.Context, msg_id: str, kind: Kind, emoji: str | None, as_json: bool) -> None:
    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        target = await checked_message(api, msg_id)
        deletes = await undo(api, target["id"], kind, emoji)
        return {"target": target["id"], "deletes": deletes}

    result = with_api(ctx, go)
    if as_json:
        emit_json(result)
    else:
        what = "boost" if kind == "boost" else f"reaction {emoji}"
        say(f"Took back your {what} of {result['target'][:12]} ({len(result['deletes'])} signed delete(s)).")


def unboost(
    ctx: typer.Context,
    msg_id: Annotated[str, typer.Argument(metavar="ID", help="The post you boosted (id, or its first 8+ hex digits).")],
    as_json: JsonOption = False,
) -> None:
    """Take back your boost of a post (a signed delete of it, everywhere it has reached)."""
    _undo(ctx, msg_id, "boost", None, as_json)


def unreact(
    ctx: typer.Context,
    msg_id: Annotated[
        str, typer.Argument(metavar="ID", help="The message you reacted to (id, or its first 8+ hex digits).")
    ],
    emoji: Annotated[str, typer.Argument(help="The reaction to take back, e.g. 👍")],
    as_json: JsonOption = False,
) -> None:
    """Take back your reaction to a message (a signed delete of it, everywhere it has reached)."""
    _undo(ctx, msg_id, "reaction", emoji, as_json)


def delete(
    ctx: typer.Context,
    msg_id: Annotated[
        str, typer.Argument(metavar="ID", help="Your message to delete (id, or its first 8+ hex digits).")
    ],
    status: Annotated[
        bool, typer.Option("--status", help="Show which peers confirmed the delete (signed receipts); send nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete one of your own messages everywhere it has reached (a signed tombstone)."""
    if status:
        print_delete_status(with_api(ctx, lambda api, _: api.delete_status(msg_id)), as_json)
        return

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        target = await checked_message(api, msg_id)
        if not mine_to_act_for(api, target):
            fail("that message is someone else's; you can only delete your own (any of your devices').")
        return await publish_draft(api, identity, {"kind": "delete", "body": {}, "tags": [["target", target["id"]]]})

    _report(with_api(ctx, go), as_json, "Deleted with")


def _follow(ctx: typer.Context, key: str, kind: str, as_json: bool) -> None:
    typed_person(key)

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        subject = await person_key(api, key)
        return await publish_draft(api, identity, {"kind": kind, "body": {}, "tags": [["subject", subject]]})

    _report(with_api(ctx, go), as_json, "Followed with" if kind == "follow" else "Unfollowed with")


def follow(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Whom to follow: a key, 8+ of its hex digits, or @name.")],
    as_json: JsonOption = False,
) -> None:
    """Follow a person by key: their posts and boosts join your home timeline."""
    _follow(ctx, key, "follow", as_json)


def unfollow(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Whom to unfollow: a key, 8+ of its hex digits, or @name.")],
    as_json: JsonOption = False,
) -> None:
    """Stop following a person."""
    _follow(ctx, key, "unfollow", as_json)


def profile(
    ctx: typer.Context,
    key: Annotated[
        str | None, typer.Argument(help="Whose profile (a key, 8+ of its hex digits, or @name); yours when absent.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Set your display name.")] = None,
    bio: Annotated[str | None, typer.Option(help="Set your bio.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a profile, or set your name and bio (a signed profile message)."""

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        whose = await person_key(api, key) if key else identity.public_key
        if name is None and bio is None:
            return await api.profile(whose)
        if whose != identity.public_key:
            fail("you can only set your own profile.")
        current = await api.profile(identity.public_key)
        body = {"name": current.get("name", "") if name is None else name}
        body["bio"] = current.get("bio", "") if bio is None else bio
        result = await publish_draft(api, identity, {"kind": "profile", "body": body})
        return {**result, **body}

    try:
        result = with_api(ctx, go)
    except ServerUnreachable:
        raise
    if name is not None:
        ref = profile_of(ctx)
        config = ref.config()
        config.section(ref.name)["name"] = name
        config.save()
    if as_json:
        emit_json(result)
    elif "status" in result:
        say(f"Profile updated {result['id']}")
    else:
        from murmur.client.render import render_profile

        say(render_profile(result))
