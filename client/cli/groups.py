"""``murmur group ...``: groups around a cause. Every change is a message signed on this machine.

``create`` prints ``{"id": GROUP_ID}`` with ``--json``; the id is that of the signed creation message. A
moderator's command (approve, remove, pin, hide, ...) is checked against the group's state first, so a person
without the role is told so instead of publishing a message that every server would store and ignore.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from murmur.client.api import MurmurClient, verified
from murmur.client.cli.common import EXIT_USAGE, emit_json, fail
from murmur.client.cli.private import (
    group_named,
    is_private,
    local_only,
    person_named,
    post_json,
    run_private,
    say_skipped,
    with_groups,
)
from murmur.client.cli.reading import emit_verified_json
from murmur.client.cli.session import publish_draft, typed_person, with_api
from murmur.client.kinds import group_facts
from murmur.client.private_groups import Change, PrivateGroups
from murmur.client.render import Context, author_label, render_page
from murmur.console import checked_argument
from murmur.keys import Identity, fingerprint
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, create_draft, membership_draft
from murmur.prefixes import checked_prefix
from murmur.terminal import inert, one_line, say
from murmur.text import ago

group_app = typer.Typer(help="Groups around a cause: create, find, join, and moderate.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
GroupArg = Annotated[str, typer.Argument(metavar="GROUP_ID", help="The group (its id, or 8+ hex digits of it).")]
PersonArg = Annotated[str, typer.Argument(metavar="RECIPIENT", help="Whom: a key, 8+ of its hex digits, or @name.")]
PostArg = Annotated[str, typer.Argument(metavar="POST_ID", help="The post (its id, or 8+ hex digits of it).")]


def _group_id(typed: str) -> str:
    return checked_argument(lambda: checked_prefix(typed, "group id"))


def _read(ctx: typer.Context, group_id: str, call: Callable[[MurmurClient, str], Awaitable[dict[str, Any]]]) -> Any:
    """What ``call`` reads of the group ``group_id`` names (its id or a prefix, checked before any request)."""
    wanted = _group_id(group_id)

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return await call(api, wanted)

    return with_api(ctx, go)


def _published(result: dict[str, Any], as_json: bool, done: str) -> None:
    if as_json:
        emit_json(result)
    else:
        say(f"{done} ({result['id'][:12]})")


@group_app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The group's name.")],
    description: Annotated[str, typer.Option("--description", help="What the group is for.")] = "",
    rules: Annotated[str, typer.Option("--rules", help="The group's rules, shown to everyone who looks at it.")] = "",
    approval: Annotated[bool, typer.Option("--approval", help="People ask to join and a moderator approves.")] = False,
    private: Annotated[
        bool, typer.Option("--private", help="Members by invitation; what they write is sealed for them alone.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a group; you are its owner. Prints its id."""
    if not name.strip():
        fail("a group needs a name.", EXIT_USAGE)
    if private:
        if approval:
            fail("a private group is joined by invitation: --private goes without --approval.", EXIT_USAGE)
        made = run_private(ctx, lambda groups, api: groups.create(name, description=description, rules=rules))
        if as_json:
            emit_json({"id": made})
        else:
            say(f"Created private group {one_line(name, 80)}: {made}")
        return
    draft = create_draft(name, description=description, rules=rules, approval=approval)

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return await publish_draft(api, identity, draft)

    result = with_api(ctx, go)
    if as_json:
        emit_json({"id": result["id"]})
    else:
        say(f"Created group {one_line(name, 80)}: {result['id']}")


@group_app.command()
def info(ctx: typer.Context, group_id: GroupArg, as_json: JsonOption = False) -> None:
    """A group: description, rules, how to join, owner, moderators, your place in it, pinned announcements."""
    found = _read(ctx, group_id, lambda api, wanted: api.group(wanted))
    if as_json:
        emit_verified_json(found, False)
        return
    say("\n".join(render_group(found)))


def render_group(g: dict[str, Any]) -> list[str]:
    context = Context.of(g)
    you = g.get("you") or {}
    lines = [f"{one_line(str(g['name']), 100)}  ·  {g['id']}"]
    if g.get("description"):
        lines.append(inert(str(g["description"])))
    lines.append(f"{group_facts(g)} · owner {author_label(str(g['owner']), context)}")
    mods = [author_label(str(k), context) for k in g.get("moderators") or []]
    if mods:
        lines.append(f"moderators: {', '.join(mods)}")
    if g.get("rules"):
        lines += ["rules:", *(f"  {line}" for line in inert(str(g["rules"])).split("\n"))]
    lines.append(f"you: {_your_place(you)}")
    pinned = g.get("pinned") or []
    if pinned:
        lines += ["", "pinned:", render_page({"items": pinned}, context)]
    return lines


def _your_place(you: dict[str, Any]) -> str:
    status, role = you.get("status"), you.get("role")
    if status == "member":
        return str(role or "member")
    return {"pending": "asked to join, waiting for a moderator", "removed": "removed by a moderator"}.get(
        str(status), "not a member"
    )


@group_app.command("list")
def list_groups(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Argument(help="Words to find in names and descriptions.")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only the groups you are in (or asked to join).")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many groups (1-100).")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The directory of groups on your server, newest first; with words, the groups matching them."""

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return await api.groups(query=query, mine=mine, limit=limit)

    found = with_api(ctx, go)
    if as_json:
        emit_json(found)
        return
    if not found["groups"]:
        say("No groups found." if query or mine else "No groups yet: `murmur group create NAME` starts one.")
    for g in found["groups"]:
        about = one_line(str(g.get("description") or ""), 60)
        say(f"{g['id'][:12]}  {one_line(str(g['name']), 40)}  ({group_facts(g)})  {about}")


@group_app.command()
def members(ctx: typer.Context, group_id: GroupArg, as_json: JsonOption = False) -> None:
    """Who is in the group, with their roles (owner, moderator, member); then requests waiting for approval
    (pending) and people removed."""
    found = _read(ctx, group_id, lambda api, wanted: api.group_members(wanted))
    if as_json:
        emit_json(found)
        return
    context = Context.of(found)
    rows = [(str(p["role"]), p) for p in found["members"]]
    rows += [("pending", p) for p in found["pending"]] + [("removed", p) for p in found["removed"]]
    for what, p in rows:
        say(f"{what:9}  {author_label(str(p['key']), context)}  {p['key']}")


def _membership(ctx: typer.Context, group_id: str, kind: str, as_json: bool) -> None:
    wanted = _group_id(group_id)

    async def go(api: MurmurClient, identity: Identity) -> tuple[dict[str, Any], dict[str, Any]]:
        found = await api.group(wanted)
        status = (found.get("you") or {}).get("status")
        if kind == "group_join" and status == "member":
            fail(f"you are already a member of {one_line(str(found['name']), 60)}.")
        if kind == "group_leave" and status not in ("member", "pending"):
            fail(f"you are not a member of {one_line(str(found['name']), 60)}.")
        if kind == "group_leave" and (found.get("you") or {}).get("role") == "owner":
            fail("the owner cannot leave their group.")
        return found, await publish_draft(api, identity, membership_draft(kind, str(found["id"])))

    found, result = with_api(ctx, go)
    name = one_line(str(found["name"]), 60)
    if kind == "group_leave":
        done = f"Left {name}"
    elif found.get("join") == "open" and (found.get("you") or {}).get("status") != "removed":
        done = f"Joined {name}"
    else:
        done = f"Asked to join {name}; a moderator will approve"
    _published(result, as_json, done)


@group_app.command()
def join(ctx: typer.Context, group_id: GroupArg, as_json: JsonOption = False) -> None:
    """Join a group (or ask to, when it needs approval)."""
    _membership(ctx, group_id, "group_join", as_json)


@group_app.command()
def leave(ctx: typer.Context, group_id: GroupArg, as_json: JsonOption = False) -> None:
    """Leave a group (or withdraw your request to join)."""
    _membership(ctx, group_id, "group_leave", as_json)


async def _authority(api: MurmurClient, group_id: str, *, owner: bool = False) -> dict[str, Any]:
    """The group, once it is clear the signer may moderate it (or own it); a clear refusal otherwise."""
    found = await api.group(group_id)
    you = found.get("you") or {}
    name = one_line(str(found["name"]), 60)
    if owner and you.get("role") != "owner":
        fail(f"only the owner of {name} appoints and dismisses moderators.")
    if you.get("status") != "member" or you.get("role") not in ("owner", "moderator"):
        fail(f"you are not a moderator of {name}; only its moderators and owner can do that.")
    return found


def _about_person(ctx: typer.Context, group_id: str, who: str, kind: str, as_json: bool, done: str) -> None:
    wanted = _group_id(group_id)
    typed_person(who)

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        found = await _authority(api, wanted, owner=kind in ("group_mod", "group_unmod"))
        group = str(found["id"])
        if not await is_private(api, found):  # as its signed creation message says, not its server
            # the person (their identity, every device of it), resolved and pinned here as a private group's are
            person = await person_named(ctx, api, who)
            return await publish_draft(api, identity, about_person_draft(kind, group, person))
        # a private group's act names the person as pinned on this device, and is kept here too, so its server can
        # neither answer for the name nor take the act back by leaving it out
        return await with_groups(ctx, api, identity, lambda groups: groups.about_person(group, kind, who))

    _published(with_api(ctx, go), as_json, done)


@group_app.command()
def approve(ctx: typer.Context, group_id: GroupArg, who: PersonArg, as_json: JsonOption = False) -> None:
    """Let someone who asked to join in (moderators)."""
    _about_person(ctx, group_id, who, "group_approve", as_json, "Approved")


@group_app.command()
def remove(ctx: typer.Context, group_id: GroupArg, who: PersonArg, as_json: JsonOption = False) -> None:
    """Remove a member, or turn down a request (moderators). Their later posts stay out of the group; in a private
    group, their devices cannot read anything written after."""
    if _private(ctx, group_id):
        _change(ctx, group_id, [who], as_json, "Removed")
        return
    _about_person(ctx, group_id, who, "group_remove", as_json, "Removed")


@group_app.command()
def invite(
    ctx: typer.Context,
    group_id: GroupArg,
    who: Annotated[list[str], typer.Argument(metavar="RECIPIENT...", help="Identities, keys or @names.")],
    as_json: JsonOption = False,
) -> None:
    """Invite people into a private group (moderators): a new epoch is sealed to every member device."""
    if not _private(ctx, group_id):
        fail("only a private group takes invitations; people join a public one with `murmur group join`.")
    _change(ctx, group_id, who, as_json, "Invited")


def _private(ctx: typer.Context, group_id: str) -> bool:
    async def private(api: MurmurClient, wanted: str) -> dict[str, Any]:
        return {"private": await is_private(api, await group_named(ctx, api, wanted))}

    return bool(_read(ctx, group_id, private)["private"])


def _change(ctx: typer.Context, group_id: str, typed: list[str], as_json: bool, done: str) -> None:
    """Invite (``done`` "Invited") or remove people in a private group, starting the epoch the change needs."""
    wanted = _group_id(group_id)
    for who in typed:
        typed_person(who)

    async def go(groups: PrivateGroups, api: MurmurClient) -> Change:
        # resolved and pinned on this device as a direct message's recipients are (`murmur dm forget NAME`)
        if done == "Removed":
            return await groups.remove(wanted, typed[0])
        return await groups.invite(wanted, typed)

    change = run_private(ctx, go)
    if as_json:
        emit_json({"ids": change.published, "epoch": change.epoch, "devices": change.devices,
                   "skipped": change.skipped})  # fmt: skip
    else:
        say_skipped(change.skipped)
        say(f"{done}; epoch {change.epoch} sealed to {change.devices} member devices.")


@group_app.command()
def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Words to find; every word must be there.")],
    as_json: JsonOption = False,
) -> None:
    """Search the private groups' messages this device read: here, never on a server."""
    groups = local_only(ctx)
    try:
        found = groups.search(text)
    finally:
        groups.close()
    if as_json:
        emit_json({"messages": [post_json(p) for p in found]})
        return
    if not found:
        say("No private group message on this device holds those words.")
    for p in found:
        say(f"{p.group[:12]}  {fingerprint(p.sender)}, {ago(p.created_at)}: {one_line(p.text, 80)}")


@group_app.command()
def mod(ctx: typer.Context, group_id: GroupArg, who: PersonArg, as_json: JsonOption = False) -> None:
    """Appoint a moderator (the owner)."""
    _about_person(ctx, group_id, who, "group_mod", as_json, "Appointed a moderator")


@group_app.command()
def unmod(ctx: typer.Context, group_id: GroupArg, who: PersonArg, as_json: JsonOption = False) -> None:
    """Dismiss a moderator; they stay a member (the owner)."""
    _about_person(ctx, group_id, who, "group_unmod", as_json, "Dismissed a moderator")


def _about_post(ctx: typer.Context, group_id: str, post_id: str, kind: str, as_json: bool, *, reason: str = "") -> None:
    wanted = _group_id(group_id)
    post = checked_argument(lambda: checked_prefix(post_id, "post id"))

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        found = await _authority(api, wanted)
        target = await api.message(post)
        if not verified(target) or not str(target["id"]).startswith(post):
            fail(f"the server answered {post!r} with a message that is not it; nothing was published.")
        if target.get("kind") != "post":
            fail(f"{post} is a {target.get('kind')}, not a post.")
        if ["group", found["id"]] not in target.get("tags", []):
            fail(f"that post is not addressed to {one_line(str(found['name']), 60)}.")
        draft = about_post_draft(kind, str(found["id"]), str(target["id"]), reason=reason)
        return await publish_draft(api, identity, draft)

    done = {"group_pin": "Pinned", "group_unpin": "Unpinned", "group_hide": "Hidden", "group_unhide": "Shown again"}
    _published(with_api(ctx, go), as_json, done[kind])


@group_app.command()
def pin(ctx: typer.Context, group_id: GroupArg, post_id: PostArg, as_json: JsonOption = False) -> None:
    """Pin a post of the group as an announcement (moderators)."""
    _about_post(ctx, group_id, post_id, "group_pin", as_json)


@group_app.command()
def unpin(ctx: typer.Context, group_id: GroupArg, post_id: PostArg, as_json: JsonOption = False) -> None:
    """Take a pinned announcement down (moderators)."""
    _about_post(ctx, group_id, post_id, "group_unpin", as_json)


@group_app.command()
def hide(
    ctx: typer.Context,
    group_id: GroupArg,
    post_id: PostArg,
    reason_arg: Annotated[str | None, typer.Argument(metavar="REASON", help="Why (shown with the post).")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (shown with the post).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Hide a post from the group's timeline, saying why (moderators). Readers see who hid it and why."""
    why = (reason if reason is not None else reason_arg or "").strip()
    if not why:
        fail("say why the post is hidden: `murmur group hide GROUP_ID POST_ID REASON`.", EXIT_USAGE)
    if reason is not None and reason_arg is not None:
        fail("give the reason once, as REASON or --reason.", EXIT_USAGE)
    _about_post(ctx, group_id, post_id, "group_hide", as_json, reason=why)


@group_app.command()
def unhide(ctx: typer.Context, group_id: GroupArg, post_id: PostArg, as_json: JsonOption = False) -> None:
    """Show a hidden post in the group's timeline again (moderators)."""
    _about_post(ctx, group_id, post_id, "group_unhide", as_json)
