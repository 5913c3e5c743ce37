"""Who will receive a post: the audience a person picks, the thread's that narrows it, and the preview.

The preview comes from the home server (``GET /api/v1/audience``), which computes it with the manifest and the
rule delivery uses; this module only picks what to ask and prints the answer, grouped by label, saying plainly
when a server is outside (labelled ``outside``, or not labelled at all).
"""

from __future__ import annotations

from typing import Any

from murmur.client.api import MurmurClient
from murmur.console import emit_json
from murmur.message import SCOPE_PREFIX
from murmur.terminal import say

NO_LABEL = "(no label)"


async def thread_visibility(api: MurmurClient, names: list[str]) -> str:
    """The visibility a reply signs when its author picks none: the thread's own (``local``, one scope), so the
    signed reply says where it may go even on a server that never saw its parent."""
    answer = await api.audience("public", names)
    audience = str(answer["audience"])
    return audience.split("+", 1)[0] if audience.startswith((SCOPE_PREFIX, "local")) else "public"


def by_label(servers: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Servers grouped by each label they carry (a server with two labels is under both); unlabelled last."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for server in servers:
        for label in server.get("labels") or [NO_LABEL]:
            groups.setdefault(str(label), []).append(server)
    return dict(sorted(groups.items(), key=lambda item: (item[0] == NO_LABEL, item[0])))


def describe(server: dict[str, Any]) -> str:
    return f"{server.get('name') or '-'} ({str(server['key'])[:16]})"


def print_preview(answer: dict[str, Any], as_json: bool) -> None:
    servers = answer["servers"]
    if as_json:
        emit_json({"audience": answer["audience"], "servers": servers})
        return
    say(f"Audience: {answer['audience']}; {len(servers)} server(s) besides this one will receive it.")
    for label, members in by_label(servers).items():
        say(f"  {label}: {', '.join(describe(s) for s in members)}")
    outside = [s for s in servers if s.get("outside")]
    if outside:
        say(f"OUTSIDE: {len(outside)} server(s) outside the firewall will receive it: "
            + ", ".join(describe(s) for s in outside))  # fmt: skip
    say("Nothing was sent (--dry-run).")
