"""``murmur meetup ...``: meetups with RSVPs. A meetup, each update and each RSVP are messages signed on this
machine.

``create`` prints ``{"id": MEETUP_ID}`` with ``--json``. Times are ISO times (``2026-12-01T18:00``): in the zone
``--tz`` names when they carry no offset, else at their offset; the meetup stores them as UTC ms beside the zone.
``rsvp`` answers going, maybe or no, checked against the signed meetup before anything is signed. ``list``
prints each meetup with how many are going, maybe and waiting; ``ics`` prints one meetup as ``text/calendar``;
``update`` and ``cancel`` publish a new version of the organiser's meetup (changed, or cancelled).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

from murmur.client.api import MurmurClient
from murmur.client.cli.common import EXIT_USAGE, emit_json, fail
from murmur.client.cli.private import group_named
from murmur.client.cli.session import publish_draft, with_api
from murmur.client.devices import mine_to_act_for
from murmur.client.kinds import local_time
from murmur.client.organising import meetup_as_signed, signed_meetup
from murmur.console import checked_argument, emit_exact
from murmur.errors import Refused
from murmur.keys import Identity
from murmur.kinds.meetup import (
    MAX_CAPACITY,
    ONE_LINE,
    as_one_line,
    meetup_body,
    meetup_draft,
    rsvp_draft,
    update_draft,
    zone_names,
    zone_of,
)
from murmur.kinds.meetup_tally import ANSWERS, CANCELLED, MeetupSpec
from murmur.prefixes import checked_prefix
from murmur.terminal import one_line, say

meetup_app = typer.Typer(
    help="Meetups with RSVPs: create, rsvp, list, show, ics, update, cancel.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
MeetupArg = Annotated[str, typer.Argument(metavar="MEETUP_ID", help="The meetup (its id, or 8+ hex digits of it).")]


def at_ms(text: str, zone: str, option: str) -> int:
    """An ISO time as ms since the epoch: in ``zone`` when it carries no offset."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        example = "2026-12-01T18:00, or with an offset: 2026-12-01T18:00+01:00"
        fail(f"{option} {text!r} is not a time ({example}).", EXIT_USAGE)
    return int((when if when.tzinfo else when.replace(tzinfo=zone_of(zone))).timestamp() * 1000)


@meetup_app.command()
def create(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="The title.")],
    start: Annotated[str, typer.Option("--start", help="When it starts: an ISO time.")],
    end: Annotated[str, typer.Option("--end", help="When it ends: an ISO time.")],
    tz: Annotated[str, typer.Option("--tz", help="The IANA time zone of the times (Europe/Paris).")] = "UTC",
    place: Annotated[str, typer.Option("--place", help="Where: an address or a link.")] = "",
    capacity: Annotated[int | None, typer.Option("--capacity", help="How many places (later RSVPs wait).")] = None,
    group: Annotated[str | None, typer.Option("--group", help="Address it to this group.")] = None,
    description: Annotated[str, typer.Option("--description", help="More about it.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a meetup; RSVPs are signed, so they are open: everyone can see who answered what. Prints its id."""
    if tz not in zone_names():
        fail(f"--tz {tz!r} is not an IANA time zone name (Europe/Paris, UTC).", EXIT_USAGE)
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        fail(f"--capacity is 1 to {MAX_CAPACITY} places; got {capacity}.", EXIT_USAGE)
    body = meetup_body(
        title, start=at_ms(start, tz, "--start"), end=at_ms(end, tz, "--end"), tz=tz, place=place, capacity=capacity,
        description=description,
    )  # fmt: skip
    group_id = checked_argument(lambda: checked_prefix(group, "group id")) if group else None

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        grp = (await group_named(ctx, api, group_id))["id"] if group_id else None  # a private one first
        return await publish_draft(api, identity, meetup_draft(body, group=grp))

    result = with_api(ctx, go)
    if as_json:
        emit_json({"id": result["id"]})
    else:
        say(f"Created meetup {one_line(title, 80)}: {result['id']}")


@meetup_app.command()
def rsvp(
    ctx: typer.Context,
    meetup_id: MeetupArg,
    answer: Annotated[str, typer.Argument(metavar="going|maybe|no", help="Your answer.")],
    as_json: JsonOption = False,
) -> None:
    """Answer a meetup; answering again replaces your earlier answer (and "going" again takes a new place)."""
    if answer not in ANSWERS:
        fail(f"answer going, maybe or no; not {answer!r}.", EXIT_USAGE)
    wanted = checked_argument(lambda: checked_prefix(meetup_id, "meetup id"))

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        _, spec = await signed_meetup(api, wanted)
        result = await publish_draft(api, identity, rsvp_draft(spec.id, spec.author, answer))
        answers = (await api.meetup(spec.id))["answers"]
        waiting = identity.public_key in answers.get("waiting", [])
        return {"id": result["id"], "answer": answer, "waiting": waiting}

    result = with_api(ctx, go)
    if as_json:
        emit_json(result)
    elif result["waiting"]:
        say(f"Answered going ({result['id'][:12]}); the meetup is full: you are on the waiting list.")
    else:
        say(f"Answered {answer} ({result['id'][:12]}).")


@meetup_app.command("list")
def list_meetups(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The newest meetups your server holds, with how many are going, maybe and waiting."""

    async def go(api: MurmurClient, identity: Identity) -> list[dict[str, Any]]:
        return await api.meetups()

    found = with_api(ctx, go)
    rows = [
        {
            "id": m["id"], "title": m["title"], "start": m.get("start"), "end": m.get("end"), "tz": m.get("tz"),
            "place": m.get("place", ""), "capacity": m.get("capacity"), "cancelled": bool(m.get("cancelled")),
            "going": int(m.get("going", 0)), "maybe": int(m.get("maybe", 0)), "waiting": int(m.get("waiting", 0)),
        }
        for m in found
    ]  # fmt: skip
    if as_json:
        emit_json(rows)
        return
    if not rows:
        say("No meetups here yet.")
    for row in rows:
        say("\n".join(render_row(row)))


def render_row(row: dict[str, Any]) -> list[str]:
    places = "" if row["capacity"] is None else f" of {row['capacity']}"
    state = "CANCELLED · " if row["cancelled"] else ""
    counts = f"{row['going']}{places} going · {row['maybe']} maybe · {row['waiting']} waiting"
    head = f"{str(row['id'])[:12]}  {one_line(str(row['title']), 80)}"
    place = one_line(str(row["place"]), 60) or "no place given"
    return [head, f"    {state}{local_time(row['start'], row['tz'])} · {place} · {counts}"]


@meetup_app.command()
def show(ctx: typer.Context, meetup_id: MeetupArg, as_json: JsonOption = False) -> None:
    """A meetup, with who has a place and the waiting list in its order."""
    wanted = checked_argument(lambda: checked_prefix(meetup_id, "meetup id"))

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        return await api.meetup(wanted)

    found = with_api(ctx, go)
    if as_json:
        emit_json(found)
        return
    lines = render_row(found)
    for name in ("going", "waiting", "maybe", "no"):
        keys = [str(k)[:12] for k in found["answers"].get(name, [])]
        lines.append(f"    {name}: {', '.join(keys) or '-'}")
    say("\n".join(lines))


@meetup_app.command()
def ics(ctx: typer.Context, meetup_id: MeetupArg) -> None:
    """Print the meetup as an iCalendar (RFC 5545) document, for a calendar program."""
    wanted = checked_argument(lambda: checked_prefix(meetup_id, "meetup id"))

    async def go(api: MurmurClient, identity: Identity) -> str:
        return await api.meetup_ics(wanted)

    document = with_api(ctx, go)  # checked free of control characters by the client (api.calendar_text)
    emit_exact(document[:-1] if document.endswith("\n") else document)


Change = Callable[[dict[str, Any]], dict[str, str]]


def _next_version(ctx: typer.Context, meetup_id: str, change: Change) -> dict[str, Any]:
    """Publish a new version of the organiser's meetup: the current one as the server gives it, changed."""
    wanted = checked_argument(lambda: checked_prefix(meetup_id, "meetup id"))

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        figures, meetup = await meetup_as_signed(api, wanted)
        if not mine_to_act_for(api, meetup.to_dict()):
            raise Refused("not_author", "Only the meetup's organiser may update or cancel it, from any device.")
        spec = MeetupSpec.of(meetup)
        return await publish_draft(api, identity, update_draft(spec, change(carried_over(figures))))

    return with_api(ctx, go)


def carried_over(current: dict[str, Any]) -> dict[str, Any]:
    """The current version's members as a new version repeats them: a title or a place signed on several lines,
    before servers refused that, as one line, so that its organiser can still update or cancel it."""
    return {**current, **{name: as_one_line(str(current[name])) for name in ONE_LINE if current.get(name)}}


def _body(values: dict[str, Any]) -> dict[str, str]:
    """A whole meetup body from the current version's members (an update repeats the whole meetup)."""
    return meetup_body(
        str(values["title"]), start=int(values["start"]), end=int(values["end"]), tz=str(values["tz"]),
        place=str(values.get("place") or ""), capacity=values.get("capacity"),
        description=str(values.get("description") or ""),
    )  # fmt: skip


@meetup_app.command()
def update(
    ctx: typer.Context,
    meetup_id: MeetupArg,
    title: Annotated[str | None, typer.Option("--title", help="A new title.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="A new start: an ISO time.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="A new end: an ISO time.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="The zone of the times (they stay the same instants).")] = None,
    place: Annotated[str | None, typer.Option("--place", help="A new place or link.")] = None,
    capacity: Annotated[int | None, typer.Option("--capacity", help="A new number of places.")] = None,
    description: Annotated[str | None, typer.Option("--description", help="A new description.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Update your meetup: a new version, kept beside the earlier ones, told to everyone who answered."""
    if tz is not None and tz not in zone_names():
        fail(f"--tz {tz!r} is not an IANA time zone name (Europe/Paris, UTC).", EXIT_USAGE)
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        fail(f"--capacity is 1 to {MAX_CAPACITY} places; got {capacity}.", EXIT_USAGE)
    given = {"title": title, "tz": tz, "place": place, "capacity": capacity, "description": description}

    def change(current: dict[str, Any]) -> dict[str, str]:
        values = {**current, **{name: value for name, value in given.items() if value is not None}}
        zone = str(values["tz"])
        times = {"start": start, "end": end}
        values |= {name: at_ms(text, zone, f"--{name}") for name, text in times.items() if text is not None}
        return _body(values)

    result = _next_version(ctx, meetup_id, change)
    if as_json:
        emit_json({"id": result["id"]})
    else:
        say(f"Updated ({result['id'][:12]}); everyone who answered is told.")


@meetup_app.command()
def cancel(ctx: typer.Context, meetup_id: MeetupArg, as_json: JsonOption = False) -> None:
    """Cancel your meetup: a new version saying so, told to everyone who answered."""
    result = _next_version(ctx, meetup_id, lambda current: {**_body(current), "status": CANCELLED})
    if as_json:
        emit_json({"id": result["id"]})
    else:
        say(f"Cancelled ({result['id'][:12]}); everyone who answered is told.")
