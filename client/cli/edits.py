"""Editing a post and reading its history: ``murmur edit`` and ``murmur history``.

An edit is a signed message of its own that names the post; the post keeps its id (replies, threads and links
still point at it) and readers see the newest version. Every version is kept, and ``history`` lists them, each
checked here against the post and its author, so a server cannot put words in anyone's mouth.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from murmur.client.api import MurmurClient
from murmur.client.cli.common import emit_json, fail
from murmur.client.cli.session import profile_of, publish_draft, with_api
from murmur.client.cli.social import checked_message, compose_text, say_left_out
from murmur.client.devices import mine_to_act_for
from murmur.client.editor_files import drafts_folder
from murmur.client.mentions import resolve_text
from murmur.client.tui.drafts import edit_draft
from murmur.client.versions import version_rows
from murmur.console import checked_argument
from murmur.keys import Identity
from murmur.message import text_tags
from murmur.prefixes import checked_prefix
from murmur.terminal import inert, one_line, say
from murmur.text import ago

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


async def versions(api: MurmurClient, msg_id: str) -> list[dict[str, Any]]:
    """The post's versions, oldest first and the post itself first, each checked here; refused if none checks."""
    rows = version_rows(await api.history(msg_id), msg_id, api.proven_edits)
    if not rows:
        fail(f"the server's history of {msg_id!r} does not check out against the post; nothing is shown.")
    return rows


def edit(
    ctx: typer.Context,
    msg_id: Annotated[str, typer.Argument(metavar="ID", help="Your post to edit (id, or its first 8+ hex digits).")],
    text: Annotated[
        str | None, typer.Argument(help="The new text; '-' or a pipe reads stdin; none opens $EDITOR on the current.")
    ] = None,
    cw: Annotated[
        str | None, typer.Option("--cw", help="A new content warning ('' takes it away); the current one otherwise.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Edit one of your posts: readers see the new text, marked edited; every version is kept."""
    typed = checked_argument(lambda: checked_prefix(msg_id, "message id"))

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        post = await checked_message(api, typed)
        if post["kind"] != "post":
            fail(f"that is a {one_line(str(post['kind']), 20)}, not a post; only posts can be edited.")
        if not mine_to_act_for(api, post):
            fail("that post is someone else's; you can only edit your own (from any of your devices).")
        current = (await versions(api, post["id"]))[-1]
        new_text = compose_text(text, drafts_folder(profile_of(ctx).key_path), current=str(current["text"]))
        if not new_text.strip():
            fail("the edit is empty; nothing was published.")
        new_text = await resolve_text(api, new_text)  # @handle -> @<key>, or refused with the candidates
        say_left_out(text_tags(new_text).left_out)
        draft = edit_draft(post, new_text, cw=str(current.get("cw", "")) if cw is None else cw)
        return await publish_draft(api, identity, draft)

    result = with_api(ctx, go)
    if as_json:
        emit_json(result)
    elif result.get("status") == "duplicate":
        say(f"That edit was already stored: {result['id']}")
    else:
        say(f"Edited with {result['id']}")


def _when(created_at: int) -> str:
    return f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(created_at / 1000))} ({ago(created_at)})"


def history(
    ctx: typer.Context,
    msg_id: Annotated[str, typer.Argument(metavar="ID", help="The post (id, or its first 8+ hex digits).")],
    as_json: JsonOption = False,
) -> None:
    """Every version of a post, oldest first: the post as first written, then each edit."""
    typed = checked_argument(lambda: checked_prefix(msg_id, "message id"))

    async def go(api: MurmurClient, identity: Identity) -> list[dict[str, Any]]:
        return await versions(api, typed)

    rows = with_api(ctx, go)
    if as_json:
        emit_json({"versions": rows})
        return
    blocks = []
    for number, row in enumerate(rows):
        what = "original" if number == 0 else f"edit {number}"
        lines = [f"{what} · {_when(row['created_at'])} · {row['id'][:12]}"]
        if row.get("cw"):
            lines.append(f"  CW: {one_line(str(row['cw']), 100)}")
        lines.extend(f"  {line}" for line in inert(str(row["text"])).split("\n"))
        blocks.append("\n".join(lines))
    say("\n\n".join(blocks))
