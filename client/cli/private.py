"""Private groups from the command line: what ``murmur group create --private``, ``group invite``, ``group
remove``, ``group search``, ``post --group`` and ``timeline group:ID`` run for a private group (docs/cli.md,
"Private groups"). The work is in ``murmur.client.private_groups``; this module parses and prints."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import typer

from murmur.client.api import MurmurClient
from murmur.client.cli.common import emit_json
from murmur.client.cli.passphrase import current_passphrase
from murmur.client.cli.session import client_for, profile_of
from murmur.client.conversations import Conversations, inbox_path
from murmur.client.group_authority import is_private as signed_private
from murmur.client.group_checks import no_key_note, one_by_one
from murmur.client.identity_check import held_back_note
from murmur.client.private_groups import GroupPost, PrivateGroups, Unread, answered_group, groups_path
from murmur.keys import KEY_HEX, Identity, fingerprint
from murmur.store.group_inbox import MemberChange
from murmur.terminal import one_line, say
from murmur.text import ago

T = TypeVar("T")


def run_private(ctx: typer.Context, work: Callable[[PrivateGroups, MurmurClient], Awaitable[T]]) -> T:
    """Run ``work`` with this profile's private groups and a signed client for its home server."""
    ref = profile_of(ctx)
    device = ref.identity()
    api = client_for(ref, device)

    async def go() -> T:
        async with api:
            return await with_groups(ctx, api, device, lambda groups: work(groups, api))

    return asyncio.run(go())


async def with_groups(
    ctx: typer.Context, api: MurmurClient, device: Identity, work: Callable[[PrivateGroups], Awaitable[T]]
) -> T:
    """Run ``work`` with this profile's private groups over ``api`` (a command already talking to its server)."""
    groups = _of_profile(ctx, api, device)
    try:
        return await work(groups)
    finally:
        groups.close()


async def person_named(ctx: typer.Context, api: MurmurClient, typed: str) -> str:
    """The person ``typed`` names, resolved and pinned on this device as a private group's members are
    (``Conversations.person``): what a public group's act about someone names."""
    key_path = profile_of(ctx).key_path
    talks = Conversations.of_profile(api, key_path, current_passphrase(inbox_path(key_path)))
    try:
        return await talks.person(typed)
    finally:
        talks.close()


def local_only(ctx: typer.Context) -> PrivateGroups:
    """This profile's private groups as this device holds them, without the network (search)."""
    return _of_profile(ctx, None, profile_of(ctx).identity())


def _of_profile(ctx: typer.Context, api: MurmurClient | None, device: Identity) -> PrivateGroups:
    key_path = profile_of(ctx).key_path
    return PrivateGroups.of_profile(api, key_path, device, current_passphrase(inbox_path(key_path)))


async def group_named(ctx: typer.Context, api: MurmurClient, typed: str) -> dict[str, Any]:
    """The group ``typed`` (an id or a prefix) names: a private group this device knows by it first, never the home
    server's pick among groups sharing the prefix (``PrivateGroups.resolve``); the server's answer checked against
    it. So a look-alike group a server made cannot take what was meant for a private one."""
    wanted = typed
    if not KEY_HEX.fullmatch(typed) and groups_path(profile_of(ctx).key_path).exists():
        groups = local_only(ctx)
        try:
            wanted = groups.resolve(typed)
        finally:
            groups.close()
    return await answered_group(api, wanted, typed)


async def is_private(api: MurmurClient, found: dict[str, Any]) -> bool:
    """Whether the group the home server answered (``found``) is private, by its signed creation message: a server
    saying a private group is open would otherwise have its posts published in the clear."""
    return await signed_private(api, str(found["id"]))


async def post_private(groups: PrivateGroups, group: str, text: str, reply_to: str | None) -> dict[str, Any]:
    """Seal a post (a reply: ``reply_to``, an id or 8+ hex digits of one read here) for a private group's members."""
    post = await groups.post(group, text, reply_to=reply_to)
    return {"id": post.id, "status": "stored"}


async def react_private(groups: PrivateGroups, group: str, target: str, reaction: str) -> dict[str, Any]:
    """Seal a reaction to a private group's message (its id, or 8+ hex digits of one read here) for its members."""
    post = await groups.post(group, reaction, react_to=target)
    return {"id": post.id, "status": "stored"}


def post_json(p: GroupPost) -> dict[str, Any]:
    return {"id": p.id, "kind": p.kind, "author": p.sender, "device": p.device, "text": p.text,
            "created_at": p.created_at, "reply_to": p.reply_to, "target": p.target, "epoch": p.epoch,
            "group": p.group}  # fmt: skip


def unread_json(items: list[Unread]) -> list[dict[str, Any]]:
    return [{"id": u.outer_id, "code": u.code, "reason": u.reason} for u in one_by_one(items)]


def say_unread(items: list[Unread], no_key: tuple[int, int] = (0, 0)) -> None:
    """What could not be read, with its reason: inert, one line each, on stderr; those naming an epoch this device
    holds no key for (anyone can send any number) in one line, counted."""
    for u in one_by_one(items):
        say(f"not read: sealed message {u.outer_id[:12]}: {u.code}: {one_line(u.reason, 160)}", err=True)
    note = no_key_note(*no_key)
    if note is not None:
        say(f"not read: {note}", err=True)


def say_member_changes(changes: list[MemberChange]) -> None:
    """Each change in the group's members this device saw since it first pinned them (who reads the group)."""
    for c in changes:
        what = f"now {c.role}" if c.change == "role" else f"{c.change} ({c.role})"
        say(f"members changed: {fingerprint(c.key)} {what}, seen {ago(c.seen_at)}", err=True)


def show_posts(posts: list[GroupPost], me: str | None) -> None:
    """A private group's messages, newest first, as the public timelines print theirs."""
    if not posts:
        say("Nothing here yet that this device can read.")
    for p in posts:
        who = "you" if p.sender == me else fingerprint(p.sender)
        what = f"reacted {one_line(p.text, 32)} to {p.target[:12]}" if p.kind == "reaction" and p.target else ""
        answer = f" (reply to {p.reply_to[:12]})" if p.reply_to else ""
        say(f"{who}, {ago(p.created_at)}{answer} · {p.id[:12]}:")
        say("  " + (what or p.text.replace("\n", "\n  ")))


@dataclass(frozen=True)
class Page:
    """A private group's timeline as this device reads it, and what it could not read."""

    group: str
    posts: list[GroupPost]
    unread: list[Unread]
    me: str | None
    changes: list[MemberChange] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # member devices left out (signing key: why)
    no_key: tuple[int, int] = (0, 0)  # messages naming an epoch this device holds no key for: kept, dropped
    failed: dict[str, str] = field(default_factory=dict)  # groups not read at this sync (id: why), tried at the next
    held_back: dict[str, int] = field(default_factory=dict)  # messages read here, shown nowhere now (code: count)


async def private_timeline(groups: PrivateGroups, group: str, limit: int) -> Page:
    """Fetch and read what is new, then the group's messages as this device holds them, newest first."""
    report = await groups.sync(group)
    return Page(group, groups.timeline(group, limit), report.unread, groups.talks.identity,
                groups.store.member_changes(group), report.skipped, groups.store.no_key(group),
                report.failed, groups.store.held_back(group))  # fmt: skip


def emit_private_timeline(page: Page, as_json: bool) -> None:
    if as_json:
        items = [post_json(p) for p in page.posts]
        changes = [{"key": c.key, "change": c.change, "role": c.role, "seen_at": c.seen_at} for c in page.changes]
        no_key = dict(zip(("kept", "dropped"), page.no_key, strict=True))
        emit_json({"group": page.group, "items": items, "unread": unread_json(page.unread), "member_changes": changes,
                   "skipped": page.skipped, "no_key": no_key, "failed": page.failed,
                   "held_back": page.held_back})  # fmt: skip
        return
    say_member_changes(page.changes)
    say_failed(page.failed)
    say_unread(page.unread, page.no_key)
    say_skipped(page.skipped)
    for code, count in page.held_back.items():
        say(held_back_note(code, count), err=True)
    show_posts(page.posts, page.me)


def say_failed(failed: dict[str, str]) -> None:
    """Each private group this sync could not read (its server did not answer for it, or its log or a member's
    does not resolve here), with why, on stderr: what came for it waits, tried at the next sync."""
    for group, why in failed.items():
        say(f"not read: group {group[:16]}: {one_line(why, 160)}", err=True)


def say_skipped(skipped: dict[str, str]) -> None:
    """Each member or device left out of the group's epochs, with why, on stderr."""
    for why in skipped.values():
        say(f"skipped: {one_line(why, 160)}", err=True)
