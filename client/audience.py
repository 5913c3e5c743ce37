"""Who will receive a post, as the client shows it: the home server's preview (``GET /api/v1/audience``, computed
with the manifest and the rule delivery uses) grouped by label, and the visibility a reply signs.

The CLI (``murmur post --dry-run``) and the TUI's compose screen both show it through these helpers; and, after
a delete, which peers confirmed it (``murmur delete ID --status``, the TUI's delete status screen).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from murmur.message import SCOPE_PREFIX
from murmur.receipts import CONFIRMING, answer_verifies, known_signer
from murmur.terminal import one_line

NO_LABEL = "(no label)"


def narrowed(chosen: str, audience: str) -> str:
    """The visibility to sign: what the person chose, unless the thread's audience (the server's answer for a
    reply, or for a reaction's target) is narrower: ``local`` for a thread kept here; the thread's first scope
    when they chose ``public``. So the signed message says where it may go even on a server that never saw what
    it names. A scope the person chose is never replaced by another: one visibility signs one scope, and the
    thread's in its place would send it to that scope's peers the person left out; servers narrow it by the thread
    all the same (its audience is every scope of both)."""
    if chosen == "local" or audience == "public":
        return chosen
    if audience == "local":
        return audience
    return audience.split("+", 1)[0] if chosen == "public" and audience.startswith(SCOPE_PREFIX) else chosen


Ask = Callable[[str, list[str]], Awaitable[dict[str, Any]]]
"""The home server's preview: ``MurmurClient.audience(visibility, names)``."""


async def signed_preview(ask: Ask, chosen: str, names: list[str]) -> tuple[str, dict[str, Any]]:
    """The visibility a post signs (``chosen``, narrowed to its thread's for a reply naming ``names``) and the
    preview of that very visibility: the audience rule reads what is signed, so a reply previewed as ``public``
    but signed ``scope:inside`` would be shown reaching other servers than it does (a thread whose scoped post
    was deleted here)."""
    answer = await ask(chosen, names)
    signed = narrowed(chosen, str(answer["audience"])) if names else chosen
    if signed != chosen:
        answer = await ask(signed, names)
    return signed, answer


def held_back_line(result: dict[str, Any]) -> str | None:
    """What to tell the author when the server answered a publish with ``held_back`` (it goes to fewer peers than it
    signs: it names a scoped message the server no longer holds), on one inert line; None otherwise."""
    held = result.get("held_back")
    if not isinstance(held, dict):
        return None
    return f"Held back from peers: {one_line(str(held.get('reason', '')), 400)}"


def by_label(servers: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Servers grouped by each label they carry (a server with two labels is under both); unlabelled last."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for server in servers:
        for label in server.get("labels") or [NO_LABEL]:
            groups.setdefault(str(label), []).append(server)
    return dict(sorted(groups.items(), key=lambda item: (item[0] == NO_LABEL, item[0])))


def describe(server: dict[str, Any]) -> str:
    return f"{server.get('name') or '-'} ({str(server['key'])[:16]})"


def preview_lines(answer: dict[str, Any]) -> tuple[list[str], str]:
    """The preview as lines (the audience, then one per label) and the warning about outside servers ('' for
    none)."""
    servers = answer["servers"]
    lines = [f"Audience: {answer['audience']}; {len(servers)} server(s) besides this one will receive it."]
    lines += [f"  {label}: {', '.join(describe(s) for s in members)}" for label, members in by_label(servers).items()]
    outside = [s for s in servers if s.get("outside")]
    warning = (
        f"OUTSIDE: {len(outside)} server(s) outside the firewall will receive it: "
        + ", ".join(describe(s) for s in outside)
        if outside
        else ""
    )
    return lines, warning


def delete_status_lines(answer: dict[str, Any]) -> list[str]:
    """``GET /api/v1/deletes/{id}`` in words: how many peers confirmed, signed, then a line per peer. Each signed
    answer is checked here first (``peer_said``): one that does not hold is ``unverified``, and one signed by a key
    that is not a peer the home server lists ``unknown``: either is counted as no confirmation, with nothing of its
    reason, and an unknown key is shown without a name. Peer names and reasons come from elsewhere: each is made
    inert on one line."""
    peers = [p for p in answer.get("peers", []) if isinstance(p, dict)]
    delete = str(answer.get("delete", ""))
    said = [peer_said(delete, p) for p in peers]
    lines = [f"Delete {one_line(delete, 64)}: {said.count('confirmed')} of {len(peers)} peer(s) confirmed, signed."]
    for p, status in zip(peers, said, strict=True):
        who = f"{one_line(str(p.get('name') or '-'), 40)} ({one_line(str(p.get('key', ''))[:16], 16)})"
        why = ""
        if status == "refused":
            why = f": {one_line(str(p.get('code')), 40)}: {one_line(str(p.get('reason')), 200)}"
        elif status == "unverified":
            why = ": its signed answer does not hold, so it is not shown"
        elif status == "unknown":
            why = ": signed by a key that is not this server nor a peer it lists, so it is not shown"
        lines.append(f"  {one_line(status, 12):9} {who}{why}")
    return lines


def peer_said(delete_id: str, peer: dict[str, Any]) -> str:
    """What a peer said of the delete, as the reader may repeat it: ``confirmed`` or ``refused`` only when its
    signature holds for that answer (``murmur.receipts.answer_verifies``), else ``unverified``, and only from a key
    the reader knows (``murmur.receipts.known_signer``: the home server or a peer it lists), else ``unknown``;
    ``waiting`` (or any other state with no answer) as the server says."""
    status, answered = str(peer.get("status")), peer.get("answer")
    if status == "confirmed":
        ok = answered in CONFIRMING and answer_verifies(delete_id, peer, str(answered))
    elif status == "refused":
        ok = answer_verifies(delete_id, peer, "refused")
    else:
        return status
    if not ok:
        return "unverified"
    return status if known_signer(peer) else "unknown"
