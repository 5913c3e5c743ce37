"""``murmur poll ...``: polls anyone can recount. A poll and each ballot are messages signed on this machine.

``create`` prints ``{"id": POLL_ID}`` with ``--json``. ``vote`` takes options by number (from 1) or by text,
checked against the signed poll before anything is signed. ``results`` prints the server's figures; with
``--verify`` it also fetches the poll and its ballots as signed, checks each here, recounts them by the same rule
(``murmur.client.recount``) and prints the recount beside the server's figure, with whether they agree.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from murmur.client.api import MurmurClient
from murmur.client.cli.common import EXIT_USAGE, emit_json, fail
from murmur.client.cli.private import group_named
from murmur.client.cli.session import publish_draft, with_api
from murmur.client.group_authority import group_speakers, voices
from murmur.client.organising import closes_at, signed_poll
from murmur.client.recount import checked_messages, recount
from murmur.console import EXIT_REFUSED, checked_argument
from murmur.keys import Identity
from murmur.kinds.group_speakers import KEYS, Speakers
from murmur.kinds.poll import MAX_OPTIONS, MIN_OPTIONS, ballot_draft, poll_draft
from murmur.kinds.poll_tally import is_closed
from murmur.prefixes import checked_prefix
from murmur.terminal import one_line, say
from murmur.text import left

poll_app = typer.Typer(help="Polls anyone can recount: create, vote, results.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
PollArg = Annotated[str, typer.Argument(metavar="POLL_ID", help="The poll (its id, or 8+ hex digits of it).")]

DEFAULT_CLOSES = "1d"


@poll_app.command()
def create(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question.")],
    option: Annotated[list[str], typer.Option("--option", help="An option (2 to 10; give --option for each).")],
    multiple: Annotated[bool, typer.Option("--multiple", help="People may choose several options.")] = False,
    closes: Annotated[str, typer.Option("--closes", help="When it closes: 30m, 12h, 7d, or a time.")] = DEFAULT_CLOSES,
    group: Annotated[str | None, typer.Option("--group", help="Only this group's members' ballots count.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a poll; ballots are signed, so they are open: everyone can see who chose what. Prints its id."""
    if not MIN_OPTIONS <= len(option) <= MAX_OPTIONS:
        fail(f"a poll has {MIN_OPTIONS} to {MAX_OPTIONS} options; got {len(option)}.", EXIT_USAGE)
    group_id = checked_argument(lambda: checked_prefix(group, "group id")) if group else None
    at = checked_argument(lambda: closes_at(closes, int(time.time() * 1000)))

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        grp = (await group_named(ctx, api, group_id))["id"] if group_id else None  # a private one first
        draft = poll_draft(question, option, closes_at=at, multiple=multiple, group=grp)
        return await publish_draft(api, identity, draft)

    result = with_api(ctx, go)
    if as_json:
        emit_json({"id": result["id"]})
    else:
        say(f"Created poll {one_line(question, 80)}: {result['id']}")
        say("Ballots are signed, so they are open: everyone who holds them can see who chose what.", err=True)


@poll_app.command()
def vote(
    ctx: typer.Context,
    poll_id: PollArg,
    options: Annotated[list[str], typer.Argument(metavar="OPTION...", help="Options by number (from 1) or text.")],
    as_json: JsonOption = False,
) -> None:
    """Vote in a poll; voting again replaces your earlier ballot (the last one before the close counts)."""
    wanted = checked_argument(lambda: checked_prefix(poll_id, "poll id"))

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        poll = await signed_poll(api, wanted)
        draft = checked_argument(lambda: ballot_draft(poll, options))
        return await publish_draft(api, identity, draft)

    result = with_api(ctx, go)
    if as_json:
        emit_json({"id": result["id"]})
    else:
        say(f"Voted ({result['id'][:12]}). Your ballot is open: anyone holding it can see your choice.")


def _figures(options: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(str(o.get("text")), int(o.get("votes", 0))) for o in options]


@poll_app.command()
def results(
    ctx: typer.Context,
    poll_id: PollArg,
    verify: Annotated[bool, typer.Option("--verify", help="Recount here from the signed ballots.")] = False,
    as_json: JsonOption = False,
) -> None:
    """A poll's figures as your server counts them; with --verify, also a recount from the signed ballots (exit 1
    when the recount differs from the server's figures, after printing both)."""
    wanted = checked_argument(lambda: checked_prefix(poll_id, "poll id"))

    async def go(api: MurmurClient, identity: Identity) -> tuple[dict[str, Any], dict[str, Any] | None, Speakers]:
        figures = await api.poll(wanted)
        if not verify:
            return figures, None, KEYS
        signed = await api.poll_signed(str(figures["id"]))
        group, _ = checked_messages(list(signed.get("group") or []))
        # a role and a place are their identity's, as servers fold them; a ballot is its voter's person's
        ballots, _ = checked_messages(list(signed.get("ballots") or []))
        return figures, signed, await group_speakers(api, group, voices(ballots))

    figures, signed, speakers = with_api(ctx, go)
    out: dict[str, Any] = {
        "options": [{"text": t, "votes": v} for t, v in _figures(figures["options"])],
        "voters": int(figures.get("voters", 0)),
        "closed": bool(figures.get("closed")),
    }
    if signed is not None:
        found = recount(signed, str(figures["id"]), speakers)
        closed = is_closed(found.spec, int(time.time() * 1000))
        out["recount"] = found.tally.as_dict(closed)
        out["agrees"] = (out["recount"]["options"], out["recount"]["voters"]) == (out["options"], out["voters"])
        out["invalid"] = found.invalid
    if as_json:
        emit_json(out)
    else:
        say("\n".join(render_results(figures, out)))
    if out.get("agrees") is False:  # shown in full above; a recount that differs is a failed check, as `verify`'s
        raise typer.Exit(EXIT_REFUSED)


def render_results(figures: dict[str, Any], out: dict[str, Any]) -> list[str]:
    lines = [one_line(str(figures.get("question", "")), 200), ""]
    recounted = out.get("recount")
    for n, option in enumerate(out["options"]):
        line = f"  {n + 1}. {one_line(option['text'], 100)}: {option['votes']}"
        if recounted is not None:
            again = recounted["options"][n]["votes"] if n < len(recounted["options"]) else "-"
            line += f"   (recount: {again})" + ("" if again == option["votes"] else "  DIFFERS")
        lines.append(line)
    closes = figures.get("closes_at")
    if out["closed"]:
        state = "closed"
    elif isinstance(closes, int):
        state = f"open, closes in {left(closes)}"
    else:
        state = "open"
    voters = f"{out['voters']} voter{'' if out['voters'] == 1 else 's'}"
    lines += ["", f"{voters} · {state} · ballots are open (signed): who chose what is public"]
    if recounted is not None:
        verdict = "the recount agrees" if out["agrees"] else "THE RECOUNT DIFFERS from the server's figures"
        lines.append(f"{verdict}; recount voters {recounted['voters']}; messages that did not check: {out['invalid']}")
    return lines
