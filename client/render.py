"""Plain-text rendering of timelines, threads, notifications and profiles for the CLI.

Everything from other people passes through ``inert`` first. A message that failed verification on this
machine is never shown as genuine: it is replaced by a warning line.
"""

from __future__ import annotations

from typing import Any

from murmur.keys import fingerprint
from murmur.text import ago, inert, one_line


def author_label(key: str, names: dict[str, str] | None = None) -> str:
    name = (names or {}).get(key, "")
    return f"{one_line(name, 32)} ({fingerprint(key)})" if name else f"({fingerprint(key)})"


def render_message(message: dict[str, Any], *, indent: str = "", names: dict[str, str] | None = None) -> list[str]:
    head = f"{indent}{author_label(message['author'], names)} · {ago(message['created_at'])} · {message['id'][:12]}"
    body = message.get("body", {})
    kind = message["kind"]
    if kind != "post":
        target = next((v for n, v in message.get("tags", []) if n in ("target", "subject")), "")
        detail = f" {inert(body.get('emoji', ''))}" if kind == "reaction" else ""
        return [f"{head}", f"{indent}  [{kind}{detail}] {target[:12]}"]
    lines = [head + ("  [local]" if body.get("visibility") == "local" else "")]
    if body.get("cw"):
        lines.append(f"{indent}  CW: {one_line(body['cw'], 100)}")
    lines.extend(f"{indent}  {line}" for line in inert(body.get("text", "")).split("\n"))
    return lines


def render_item(item: dict[str, Any], *, indent: str = "", names: dict[str, str] | None = None) -> list[str]:
    if not item.get("verified", False):
        return [f"{indent}!! a message that failed verification was hidden (seq {item.get('seq')})"]
    lines: list[str] = []
    if item.get("boosted_by"):
        lines.append(f"{indent}⟳ boosted by {author_label(item['boosted_by'], names)}")
    lines.extend(render_message(item["message"], indent=indent, names=names))
    counts = item.get("counts") or {}
    if item["message"]["kind"] == "post":
        origin = "" if item.get("origin", "local") == "local" else "  · from a peer"
        tally = f"↩ {counts.get('replies', 0)}  ★ {counts.get('reactions', 0)}  ⟳ {counts.get('boosts', 0)}"
        lines.append(f"{indent}  {tally}{origin}")
    return lines


def render_page(page: dict[str, Any]) -> str:
    names = page.get("names") or {}
    blocks = ["\n".join(render_item(item, names=names)) for item in page.get("items", [])]
    if not blocks:
        return "Nothing here yet."
    text = "\n\n".join(blocks)
    if page.get("next_cursor"):
        text += f"\n\n-- older: --before {page['next_cursor']}"
    return text


def render_thread(root: dict[str, Any], names: dict[str, str] | None = None) -> list[str]:
    """The tree, indented; built without recursion (the server caps nesting, not length)."""
    lines: list[str] = []
    stack: list[tuple[dict[str, Any], int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        indent = "    " * min(depth, 12)
        if node.get("item"):
            lines.extend(render_item(node["item"], indent=indent, names=names))
        else:
            lines.append(f"{indent}(not here: {node['id'][:12]})")
        stack.extend((child, depth + 1) for child in reversed(node.get("children", [])))
    return lines


def render_notification(item: dict[str, Any], names: dict[str, str] | None = None) -> str:
    if not item.get("verified", False):
        return "!! a notification whose message failed verification was hidden"
    message = item["message"]
    what = {
        "mention": "mentioned you",
        "reply": "replied",
        "reaction": f"reacted {inert(message.get('body', {}).get('emoji', ''))}",
        "boost": "boosted your post",
        "follow": "followed you",
    }.get(item["kind"], item["kind"])
    text = message.get("body", {}).get("text")
    tail = f": {one_line(text, 60)}" if text else ""
    return f"{author_label(item['actor'], names)} {what} · {ago(message['created_at'])}{tail}"


def render_profile(profile: dict[str, Any]) -> str:
    lines = [f"{one_line(profile.get('name') or '(no name)', 64)}  {fingerprint(profile['key'])}", profile["key"]]
    if profile.get("bio"):
        lines.append(inert(profile["bio"]))
    state = []
    if profile.get("following"):
        state.append("you follow them")
    if profile.get("follows_you"):
        state.append("follows you")
    followers = profile.get("followers", 0)
    lines.append(
        f"{followers} follower{'' if followers == 1 else 's'} · {profile.get('following_count', 0)} following"
        + (f" · {', '.join(state)}" if state else "")
        + (" · member here" if profile.get("member") else "")
    )
    return "\n".join(lines)
