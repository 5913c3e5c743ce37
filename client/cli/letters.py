"""``murmur letter ...``: open letters whose signatures anyone can count. A letter, each signature and each
withdrawal are messages signed on this machine.

``create`` prints ``{"id": LETTER_ID}`` with ``--json``; ``--replaces`` makes a new version of one of your letters,
which starts a count of its own (signatures never carry over). ``sign`` signs exactly the version named, checked
here before anything is signed. ``withdraw`` deletes each of your signatures on it, while the deadline allows.
``signers`` prints the server's count and signers; ``verify`` fetches the letter and its signatures as signed,
checks each here, counts them by the same rule (``murmur.client.letter_check``) and prints the server's count
beside the count that holds: a difference is a finding to show (as ``poll results --verify`` does), and the command
succeeds in showing it.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from murmur.client.api import MurmurClient
from murmur.client.cli.common import EXIT_USAGE, emit_json, fail
from murmur.client.cli.session import profile_of, publish_draft, with_api
from murmur.client.cli.social import compose_text
from murmur.client.devices import mine_to_act_for
from murmur.client.editor_files import drafts_folder
from murmur.client.letter_check import Checked, fetch_checked, signed_letter, to_withdraw
from murmur.client.organising import closes_at
from murmur.console import EXIT_REFUSED, checked_argument
from murmur.errors import Refused
from murmur.keys import Identity, fingerprint
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.kinds.letter_count import LetterSpec
from murmur.prefixes import checked_prefix
from murmur.terminal import one_line, say
from murmur.text import left

letter_app = typer.Typer(help="Open letters: create, sign, withdraw, signers, verify.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LetterArg = Annotated[str, typer.Argument(metavar="LETTER_ID", help="The letter (its id, or 8+ hex digits of it).")]


def _wanted(letter_id: str) -> str:
    return checked_argument(lambda: checked_prefix(letter_id, "letter id"))


def _ids(value: Any) -> list[str]:
    """The letter ids in a server's answer (``newer``), leaving out whatever is not one."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@letter_app.command()
def create(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="The title.")],
    to: Annotated[str, typer.Option("--to", help="Whom it is addressed to, e.g. 'the leadership team'.")],
    text: Annotated[str | None, typer.Argument(help="The text; '-' or a pipe reads stdin; none opens $EDITOR.")] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Signing and withdrawing end: 30m, 12h, 7d, or a time.")
    ] = None,
    replaces: Annotated[
        str | None, typer.Option("--replaces", help="Your letter this is a new version of (its count starts again).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write an open letter; signatures are signed, so signers are public. Prints its id."""
    previous_id = _wanted(replaces) if replaces else None
    ends = checked_argument(lambda: closes_at(deadline, int(time.time() * 1000), "--deadline")) if deadline else None
    body = compose_text(text, drafts_folder(profile_of(ctx).key_path))
    if not body.strip():
        fail("a letter has a text; give it as an argument, pipe it in, or write it in $EDITOR.", EXIT_USAGE)

    async def go(api: MurmurClient, identity: Identity) -> dict[str, Any]:
        previous = await signed_letter(api, previous_id) if previous_id else None
        if previous is not None and not mine_to_act_for(api, previous.to_dict()):
            raise Refused("not_author", "Only a letter's author makes a new version of it, from any of their devices.")
        draft = letter_draft(title, to, body, deadline=ends, previous=previous.id if previous else None)
        return await publish_draft(api, identity, draft)

    result = with_api(ctx, go)
    if as_json:
        emit_json({"id": result["id"]})
        return
    say(f"Created letter {one_line(title, 80)}: {result['id']}")
    if previous_id:
        say("This is a new version: signatures of the earlier one do not carry over; its count starts at 0.", err=True)
    say("Signatures are signed, so they are public: everyone who holds them can see who signed.", err=True)


@letter_app.command()
def sign(
    ctx: typer.Context,
    letter_id: LetterArg,
    note: Annotated[str | None, typer.Option("--note", help="A few words shown beside your name.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign exactly this version of a letter; signing again replaces your note (you count once)."""
    wanted = _wanted(letter_id)

    async def go(api: MurmurClient, identity: Identity) -> tuple[dict[str, Any], list[str]]:
        letter = await signed_letter(api, wanted)
        newer = _ids((await api.letter(letter.id)).get("newer"))
        return await publish_draft(api, identity, signature_draft(letter, note)), newer

    result, newer = with_api(ctx, go)
    if newer:
        say(f"Note: a newer version exists ({newer[-1][:12]}); your signature counts for this version only.", err=True)
    if as_json:
        emit_json({"id": result["id"]})
    else:
        say(f"Signed ({result['id'][:12]}). Your signature is public: anyone holding it can see you signed.")


@letter_app.command()
def withdraw(ctx: typer.Context, letter_id: LetterArg, as_json: JsonOption = False) -> None:
    """Withdraw your signature: a delete of each of yours on this letter, before its deadline."""
    wanted = _wanted(letter_id)

    async def go(api: MurmurClient, identity: Identity) -> list[str]:
        letter = await signed_letter(api, wanted)
        held = await fetch_checked(api, letter.id)
        if not held.spec.open_at(int(time.time() * 1000)):
            raise Refused("letter_closed", "The deadline has passed: a withdrawal now would count for nothing.")
        ids = to_withdraw(held, identity.public_key)
        if not ids:
            raise Refused("not_found", "You have no signature on this letter to withdraw.")
        for signature in ids:
            await publish_draft(api, identity, {"kind": "delete", "body": {}, "tags": [["target", signature]]})
        return ids

    deleted = with_api(ctx, go)
    if as_json:
        emit_json({"withdrawn": deleted})
    else:
        say(f"Withdrew your signature ({len(deleted)} signed message{'' if len(deleted) == 1 else 's'}).")


@letter_app.command()
def signers(ctx: typer.Context, letter_id: LetterArg, as_json: JsonOption = False) -> None:
    """The letter, its count and its signers (names with fingerprints), as your server counts them."""
    wanted = _wanted(letter_id)
    found = with_api(ctx, lambda api, identity: api.letter(wanted))
    out = {
        "id": found["id"],
        "title": found["title"],
        "to": found["to"],
        "count": found["count"],
        "closed": bool(found.get("closed")),
        "deadline": found["deadline"] if isinstance(found.get("deadline"), int) else None,
        "previous": found["previous"] if isinstance(found.get("previous"), str) else None,
        "newer": _ids(found.get("newer")),
        "signers": [
            {
                "key": str(s["key"]),
                "name": str(s.get("name", "")),
                "fingerprint": fingerprint(str(s["key"])),
                "note": str(s.get("note", "")),
                "signed_at": s.get("signed_at"),
            }
            for s in found["signers"]
        ],
    }
    if as_json:
        emit_json(out)
    else:
        say("\n".join(render_signers(out)))


def render_signers(out: dict[str, Any]) -> list[str]:
    lines = [f"{one_line(out['title'], 120)}", f"To: {one_line(out['to'], 120)}", ""]
    if out["previous"]:
        lines.append(f"A new version of {out['previous'][:12]}: signatures of earlier versions do not carry over.")
    if out["newer"]:
        lines.append(f"A newer version exists ({out['newer'][-1][:12]}): these signatures do not carry over to it.")
    for s in out["signers"]:
        name = one_line(s["name"], 40) or "(no name)"
        note = f" — {one_line(s['note'], 100)}" if s["note"] else ""
        lines.append(f"  {name} ({s['fingerprint']}){note}")
    deadline = out["deadline"]
    if out["closed"]:
        state = "closed"
    elif isinstance(deadline, int):
        state = f"open, signing ends in {left(deadline)}"
    else:
        state = "open, no deadline"
    count = out["count"]
    lines += ["", f"{count} signature{'' if count == 1 else 's'} · {state} · signers are public (signed)"]
    return lines


@letter_app.command()
def verify(ctx: typer.Context, letter_id: LetterArg, as_json: JsonOption = False) -> None:
    """Check every signature here and count them as the server should, beside the server's count (exit 1 when
    they differ, after printing both)."""
    wanted = _wanted(letter_id)

    async def go(api: MurmurClient, identity: Identity) -> tuple[dict[str, Any], Checked]:
        letter = await signed_letter(api, wanted)
        return await api.letter(letter.id), await fetch_checked(api, letter.id)

    figures, found = with_api(ctx, go)
    out = {"count": int(figures["count"]), "valid": found.count.count, "invalid": found.invalid}
    if as_json:
        emit_json(out)
    else:
        say("\n".join(render_verdict(found.spec, out)))
    if out["count"] != out["valid"]:  # shown in full above; a count that does not hold is a failed check
        raise typer.Exit(EXIT_REFUSED)


def render_verdict(spec: LetterSpec, out: dict[str, int]) -> list[str]:
    agrees = out["count"] == out["valid"]
    verdict = "the check agrees" if agrees else "THE CHECK DIFFERS from the server's count"
    return [
        one_line(spec.title, 120),
        f"server's count: {out['count']} · count that holds: {out['valid']} · signed messages that did not check:"
        f" {out['invalid']}",
        verdict,
    ]
