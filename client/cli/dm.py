"""``murmur dm``: direct messages no server can read (docs/cli.md, "Direct messages").

``murmur dm RECIPIENT... TEXT`` sends (it is ``murmur dm send``: a first word that is no subcommand sends, so a
recipient literally named ``list`` is written as its key); ``list``, ``show`` and ``search`` read what this device
opened. ``list`` and ``show`` first fetch and open what the home server holds for it. The work is in
``murmur.client.conversations``; this module parses and prints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer
import typer.core

from murmur.client.api import MurmurClient
from murmur.client.cli.common import EXIT_USAGE, emit_json, fail
from murmur.client.cli.passphrase import current_passphrase, passphrase_app
from murmur.client.cli.session import client_for, profile_of, typed_person
from murmur.client.conversations import (
    Conversation,
    Conversations,
    DeviceChange,
    Refusal,
    Stored,
    SyncReport,
    inbox_path,
    remembered_as,
)
from murmur.client.identity_check import held_back_note
from murmur.keys import fingerprint
from murmur.terminal import one_line, say
from murmur.text import ago

T = TypeVar("T")
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


class DmGroup(typer.core.TyperGroup):
    """``murmur dm`` with subcommands, where a first word that is none of them starts ``send``'s recipients."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["send", *args]
        return super().parse_args(ctx, args)


dm_app = typer.Typer(
    cls=DmGroup,
    help="Direct messages, sealed on this device for each recipient's devices: no server can read them.",
    no_args_is_help=True,
)
dm_app.add_typer(passphrase_app, name="passphrase")


def _conversations(api: MurmurClient | None, key_path: Path) -> Conversations:
    """The profile's conversations, the passphrase asked for when its store is sealed."""
    return Conversations.of_profile(api, key_path, current_passphrase(inbox_path(key_path)))


def _run(ctx: typer.Context, work: Callable[[Conversations, MurmurClient], Awaitable[T]]) -> T:
    ref = profile_of(ctx)
    api = client_for(ref, ref.identity())
    talks = _conversations(api, ref.key_path)

    async def go() -> T:
        try:
            async with api:
                return await work(talks, api)
        finally:
            talks.close()

    return asyncio.run(go())


def _said_refused(refused: list[Refusal]) -> None:
    for r in refused:
        say(f"refused a sealed message {r.outer_id[:12]}: {r.code}: {one_line(r.reason, 160)}", err=True)


def _refused_json(refused: list[Refusal]) -> list[dict[str, str]]:
    return [{"id": r.outer_id, "code": r.code, "reason": r.reason} for r in refused]


def _message_json(m: Stored) -> dict[str, Any]:
    return {"id": m.id, "author": m.sender, "device": m.device, "text": m.text, "created_at": m.created_at,
            "reply_to": m.reply_to, "unread": m.unread}  # fmt: skip


def _with(c: Conversation, me: str | None) -> list[str]:
    return [p for p in c.participants if p != me]


@dm_app.command("send")
def send(
    ctx: typer.Context,
    words: Annotated[list[str], typer.Argument(help="RECIPIENT... TEXT: identities, keys or @names, then the text.")],
    audience: Annotated[
        str | None, typer.Option("--audience", help="Where it travels: local, public or a scope (default: narrowest).")
    ] = None,
    reply_to: Annotated[str | None, typer.Option("--reply-to", help="The id of the direct message it answers.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Seal TEXT for every device of each RECIPIENT and your other devices, and send it."""
    if len(words) < 2:
        fail('Give at least one recipient and the text: murmur dm @ada "hello".', EXIT_USAGE)
    *typed, text = words
    for who in typed:
        typed_person(who)  # a malformed key is a usage error, before anything is read or sent

    async def go(talks: Conversations, api: MurmurClient) -> Any:
        keys = [(await talks.named(who)).identity for who in typed]
        return await talks.send(keys, text, audience=audience, reply_to=reply_to)

    sent = _run(ctx, go)
    if as_json:
        emit_json({"id": sent.id})
        return
    say(f"Sealed for {sent.devices} devices ({sent.audience}): {sent.id}")
    say(f"  conversation {sent.conversation[:16]}: `murmur dm show {sent.conversation[:16]}`")


def _synced(ctx: typer.Context, then: Callable[[Conversations], T]) -> tuple[T, SyncReport, str | None]:
    async def go(talks: Conversations, api: MurmurClient) -> tuple[T, SyncReport, str | None]:
        report = await talks.sync()
        return then(talks), report, talks.identity

    return _run(ctx, go)


@dm_app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Fetch and open new direct messages, then list conversations, the newest first, with unread counts."""
    found, report, me = _synced(ctx, lambda talks: talks.conversations())
    _said_refused(report.refused)
    if as_json:
        rows = [
            {"id": c.id, "with": _with(c, me), "unread": c.unread,
             "last": None if c.last is None else _message_json(c.last)}
            for c in found
        ]  # fmt: skip
        emit_json({"conversations": rows, "refused": _refused_json(report.refused)})
        return
    if not found:
        say('No direct messages yet: `murmur dm @name "hello"` starts a conversation.')
    for c in found:
        who = ", ".join(fingerprint(p) for p in _with(c, me)) or "your own devices"
        unread = f"  {c.unread} unread" if c.unread else ""
        last = f"  {ago(c.last.created_at)}: {one_line(c.last.text, 50)}" if c.last else ""
        say(f"{c.id[:16]}  with {who}{unread}{last}")


@dm_app.command("show")
def show(
    ctx: typer.Context,
    conversation: Annotated[str, typer.Argument(help="A conversation's id (8 or more hex digits) from `dm list`.")],
    as_json: JsonOption = False,
) -> None:
    """Fetch and open new direct messages, then print a conversation, newest last, and mark it read."""

    async def go(talks: Conversations, api: MurmurClient) -> tuple[Any, ...]:
        report = await talks.sync()
        found = talks.find(conversation)
        info = talks.inbox.conversation(found)
        others = _with(info, talks.identity) if info else []
        changes = await talks.device_changes(others)
        held = talks.inbox.held_back(found)
        return found, talks.messages(found), others, changes, report, talks.identity, held

    found, messages, others, changes, report, me, held = _run(ctx, go)
    _said_refused(report.refused)
    if as_json:
        messages_json = [_message_json(m) for m in messages]
        emit_json({"id": found, "with": others, "messages": messages_json, "refused": _refused_json(report.refused),
                   "device_changes": [_change_json(c) for c in changes], "held_back": held})  # fmt: skip
        return
    for code, count in held.items():
        say(held_back_note(code, count), err=True)
    for c in changes:
        say(f"{fingerprint(c.identity)}'s devices changed: {c.name or 'a device'} ({c.device[:16]}) {c.change}"
            f" {ago(c.seen_at)}; compare safety numbers: `murmur dm verify {c.identity[:16]}`", err=True)
    for m in messages:
        who = "you" if m.sender == me else fingerprint(m.sender)
        say(f"{who}, {ago(m.created_at)}{' (new)' if m.unread else ''}:")
        say("  " + m.text.replace("\n", "\n  "))


def _change_json(c: DeviceChange) -> dict[str, Any]:
    return {"identity": c.identity, "device": c.device, "name": c.name, "change": c.change, "seen_at": c.seen_at}


@dm_app.command("verify")
def verify(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(help="An identity, a key or an @name.")],
    as_json: JsonOption = False,
) -> None:
    """Print the safety number of you and WHO: compare it with theirs (in person, or on a call); the same number
    means each of you holds the other's real devices, not ones a server slipped in."""

    typed_person(who)

    async def go(talks: Conversations, api: MurmurClient) -> tuple[str, str]:
        return await talks.safety_number((await talks.named(who)).identity)

    identity, number = _run(ctx, go)
    if as_json:
        emit_json({"identity": identity, "safety_number": number})
        return
    say(f"Safety number with {fingerprint(identity)}:")
    say(f"  {number}")
    say("Ask them to run `murmur dm verify` for you: the two numbers match only if no server changed a device.")


@dm_app.command("forget")
def forget(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="An @name or key prefix you wrote to before.")],
    as_json: JsonOption = False,
) -> None:
    """Forget which identity NAME named when you first wrote to it: the next message to NAME takes your server's
    answer again (and remembers it). Do this only once you know the new identity is the person you mean."""
    key = remembered_as(name)
    talks = _conversations(None, profile_of(ctx).key_path)
    try:
        forgotten = talks.inbox.forget_name(key)
    finally:
        talks.close()
    if as_json:
        emit_json({"name": key, "forgotten": forgotten})
        return
    say(f"Forgot who {key} named." if forgotten else f"{key} was not remembered on this device.")


@dm_app.command("search")
def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Words to find; every word must be there.")],
    as_json: JsonOption = False,
) -> None:
    """Search the direct messages this device opened: here, never on a server."""
    talks = _conversations(None, profile_of(ctx).key_path)
    try:
        found = talks.search(text)
    finally:
        talks.close()
    if as_json:
        emit_json({"messages": [{**_message_json(m), "conversation": m.conversation} for m in found]})
        return
    if not found:
        say("No direct message on this device holds those words.")
    for m in found:
        say(f"{m.conversation[:16]}  {fingerprint(m.sender)}, {ago(m.created_at)}: {one_line(m.text, 80)}")
