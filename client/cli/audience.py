"""What the author can know of where a post goes: ``murmur post --audience NAME --dry-run [--json]`` (the preview
printed, and the visibility a reply signs) and ``murmur delete ID --status`` (which peers confirmed a delete)."""

from __future__ import annotations

from typing import Any

from murmur.client.api import MurmurClient
from murmur.client.audience import delete_status_lines, narrowed, preview_lines, signed_preview
from murmur.console import emit_json
from murmur.terminal import say


async def signed_visibility(api: MurmurClient, chosen: str | None, names: list[str]) -> str:
    """What a post signs: the audience chosen (public by default), narrowed to its thread's for a reply."""
    visibility = chosen or "public"
    if not names:
        return visibility
    return narrowed(visibility, str((await api.audience(visibility, names))["audience"]))


async def print_signed_preview(api: MurmurClient, chosen: str | None, names: list[str], as_json: bool) -> None:
    """``--dry-run``: who the post would reach, signed as it would be (``signed_preview``)."""
    print_preview((await signed_preview(api.audience, chosen or "public", names))[1], as_json)


def print_preview(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json({"audience": answer["audience"], "servers": answer["servers"]})
        return
    lines, warning = preview_lines(answer)
    for line in lines:
        say(line)
    if warning:
        say(warning)
    say("Nothing was sent (--dry-run).")


def print_delete_status(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(answer)
        return
    for line in delete_status_lines(answer):
        say(line)
