"""What a server says it lacks of people's public messages (a profile's or a thread's ``missing``, docs/api.md
"Missing messages"), said in a sentence for the CLI and the TUI alike.

A hostile server may send anything here: an entry of the wrong shape is skipped, and every name passes through
``visible_name`` (so nothing in it acts on a terminal or passes for something else).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from murmur.keys import KEY_HEX, fingerprint
from murmur.terminal import one_line, visible_name


@dataclass(frozen=True, slots=True)
class Missing:
    device: str
    device_name: str
    count: int
    ranges: tuple[tuple[int, int], ...]
    removed: tuple[str, ...] = ()  # the reasons of those a moderator of this server removed, one each


def _removed(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(r["reason"]) for r in value if isinstance(r, dict) and isinstance(r.get("reason"), str))


def _ranges(value: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list):
        return ()
    pairs = [r for r in value if isinstance(r, list) and len(r) == 2 and all(type(n) is int for n in r)]
    return tuple((int(r[0]), int(r[1])) for r in pairs)


def missing_of(answer: Mapping[str, Any]) -> list[Missing]:
    """The well-formed entries of an answer's ``missing``."""
    entries = answer.get("missing")
    out: list[Missing] = []
    for e in entries if isinstance(entries, list) else []:
        if not isinstance(e, dict) or not isinstance(e.get("device"), str) or not KEY_HEX.fullmatch(e["device"]):
            continue
        count = e.get("count")
        if type(count) is not int or count < 1:
            continue
        name = e.get("device_name") if isinstance(e.get("device_name"), str) else ""
        out.append(Missing(e["device"], name, count, _ranges(e.get("ranges")), _removed(e.get("removed"))))
    return out


def whose(entry: Missing, person: str) -> str:
    """``Ada's laptop``; ``Ada's device 403b-…`` for a device without a name; the fingerprint alone for nobody."""
    device = visible_name(entry.device_name, 32) if entry.device_name else f"device {fingerprint(entry.device)}"
    return f"{visible_name(person, 64)}'s {device}" if person else device


def sentence(entry: Missing, person: str) -> str:
    """"3 public messages from Ada's laptop are not on this server", and of those a moderator here removed:
    "(1 removed here: off topic)", each reason on the one line."""
    many = entry.count != 1
    said = (
        f"{entry.count} public message{'s' if many else ''} from {whose(entry, person)}"
        f" {'are' if many else 'is'} not on this server"
    )
    if entry.removed:
        reasons = "; ".join(one_line(r, 100) for r in entry.removed[:3]) + ("; ..." if len(entry.removed) > 3 else "")
        said += f" ({len(entry.removed)} removed here: {reasons})"
    return said


def missing_lines(answer: Mapping[str, Any], names: Mapping[str, str], person: str = "") -> list[str]:
    """One sentence per device with a gap: named by ``person`` (a profile's name), else by ``names`` (an
    answer's display names, by device key)."""
    return [sentence(e, person or str(names.get(e.device, ""))) for e in missing_of(answer)]


def absent_ids(root: Mapping[str, Any]) -> list[str]:
    """The ids of a thread's messages (``GET /api/v1/threads/{id}``'s ``root``) the server names but does not hold:
    a parent or root it never received. Walked without recursion, however deep the thread."""
    found: list[str] = []
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        if node.get("item") is None and isinstance(node.get("id"), str) and KEY_HEX.fullmatch(node["id"]):
            found.append(node["id"])
        children = node.get("children")
        stack.extend(reversed(children) if isinstance(children, list) else [])
    return found


def absent_line(count: int) -> str:
    """"2 messages this thread names are not on this server"."""
    many = count != 1
    return f"{count} message{'s' if many else ''} this thread names {'are' if many else 'is'} not on this server"


def repair_lines(answer: Mapping[str, Any], person: str = "") -> list[str]:
    """What a repair did (``POST /api/v1/repairs``): a line per peer asked, then what is still missing."""
    lines = peer_lines(answer)
    still = missing_lines(answer, {}, person)
    absent = answer.get("absent")
    if isinstance(absent, list) and absent:
        still.append(absent_line(len(absent)))
    if not lines and still:
        lines.append("No peer of this server could be asked.")
    return lines + (still or ["Nothing of theirs is known to be missing here."])


def peer_lines(answer: Mapping[str, Any]) -> list[str]:
    """A repair's line per peer asked: what it sent, or why it could not be asked."""
    lines: list[str] = []
    peers = answer.get("peers")
    for p in peers if isinstance(peers, list) else []:
        if not isinstance(p, dict) or not isinstance(p.get("key"), str):
            continue
        if not KEY_HEX.fullmatch(p["key"]):
            continue
        label = visible_name(str(p.get("name") or ""), 40) or fingerprint(p["key"])
        if p.get("error"):
            lines.append(f"{label}: could not be asked: {one_line(str(p['error']), 100)}")
        else:
            counts = [p.get(n) if type(p.get(n)) is int else 0 for n in ("fetched", "stored", "refused")]
            lines.append(f"{label}: sent {counts[0]}, stored {counts[1]}, refused {counts[2]}")
    return lines
