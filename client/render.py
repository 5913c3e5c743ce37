"""Plain-text rendering of timelines, threads, notifications and profiles for the CLI.

Everything from other people passes through ``inert`` first (and the CLI's printer applies it again to the
whole output). A message that failed verification on this machine is never shown as genuine: it is replaced
by a warning line. A content warning folds its post until ``--show-cw``; a long post folds to its first lines
until ``--full``; a reply says what it answers, and a reply whose parent this server does not have says so. An
edited post shows its newest text and says when it was edited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from murmur.client.kinds import card, is_full, notice_verb, shows_counts, summary
from murmur.client.mentions import show_mentions
from murmur.client.missing import missing_lines
from murmur.client.versions import shown_body, shown_edit
from murmur.keys import fingerprint
from murmur.message import now_ms
from murmur.receipts import withheld_notes
from murmur.terminal import inert, one_line, visible_name
from murmur.text import ago, arrived_from, fold

SHARED_NAME = "⚠ name also used by another key"


@dataclass
class Context:
    """What rendering needs besides the items: names, what to unfold, and who wrote each replied-to post.

    ``parents`` maps a replied-to post's id to its author's key, or to None when this server does not have it;
    an id absent from it is simply not known (the reply is marked with the short id alone)."""

    names: dict[str, str] = field(default_factory=dict)
    shared: frozenset[str] = frozenset()
    """Keys whose display name another key on this server also uses (the server's ``shared_names``)."""
    parents: dict[str, str | None] = field(default_factory=dict)
    show_cw: bool = False
    full: bool = False
    show_hidden: bool = False
    withheld: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Per message id, the peers that refused it, signed, with their reasons (a thread answer's ``withheld``)."""

    @classmethod
    def of(cls, answer: dict[str, Any], **options: Any) -> Context:
        """A context for one server answer: its ``names`` map and ``shared_names`` list."""
        # A server's answer of the wrong shape costs the names, not the listing.
        names = answer.get("names") if isinstance(answer.get("names"), dict) else {}
        shared = answer.get("shared_names") if isinstance(answer.get("shared_names"), list) else []
        withheld = answer.get("withheld") if isinstance(answer.get("withheld"), dict) else {}
        return cls(
            names={k: v for k, v in names.items() if isinstance(k, str) and isinstance(v, str)},
            shared=frozenset(k for k in shared if isinstance(k, str)),
            withheld={k: [x for x in v if isinstance(x, dict)] for k, v in withheld.items() if isinstance(v, list)},
            **options,
        )


def item_id(item: dict[str, Any]) -> str:
    """The id of the post an item shows (for a boost, the boosted post): what notices speak of."""
    message = item.get("message")
    return str(message.get("id", "")) if isinstance(message, dict) else ""


def page_items(page: dict[str, Any], listed: str = "items") -> list[dict[str, Any]]:
    """A page's items (``listed``: where the answer lists them, ``posts`` for a search), each carrying its own
    ``withheld`` notices from the page's map, for views that draw an item alone (the TUI's entries)."""
    held = page.get("withheld") if isinstance(page.get("withheld"), dict) else {}
    items = [i for i in page[listed] if isinstance(i, dict)] if isinstance(page.get(listed), list) else []
    return [{**item, "withheld": held[item_id(item)]} if item_id(item) in held else item for item in items]


def withheld_lines(item: dict[str, Any], ctx: Context, indent: str = "") -> list[str]:
    """The notices of what peers withheld of the item, indented under it (``murmur.receipts.withheld_notes``)."""
    return [f"{indent}  {note}" for note in withheld_notes(item_id(item), ctx.withheld.get(item_id(item), []))]


def author_label(key: str, ctx: Context, *, speaks_for: str | None = None) -> str:
    """Name and fingerprint; for a device speaking for an identity, the identity's fingerprint (readers see one
    person whatever device signed: docs/protocol.md §13.5), the name still the signer's."""
    return labelled(key, fingerprint(speaks_for or key), ctx, speaks_for=speaks_for)


def labelled(key: str, shown: str, ctx: Context, *, speaks_for: str | None = None) -> str:
    """``key``'s name (or ``speaks_for``'s) with ``shown`` (a fingerprint, or why there is none) in brackets."""
    name = ctx.names.get(key, "") or ctx.names.get(speaks_for or key, "")
    if not name:
        return f"({shown})"
    flag = f" {SHARED_NAME}" if key in ctx.shared else ""
    return f"{visible_name(name)} ({shown}){flag}"


def speaks_for(message: dict[str, Any]) -> str | None:
    """The identity a message's device named, None for a bare key's message."""
    return tag_value(message, "identity")


def tag_value(message: dict[str, Any], name: str) -> str | None:
    value = next((v for n, v in message.get("tags", []) if n == name), None)
    return value if isinstance(value, str) else None


def reply_line(message: dict[str, Any], ctx: Context) -> str | None:
    """``↳ in reply to NAME (fingerprint) · short id``, or that the parent is not on this server."""
    parent = tag_value(message, "reply")
    if parent is None:
        return None
    short = inert(parent[:12], keep_newlines=False)
    if parent in ctx.parents and ctx.parents[parent] is None:
        return f"↳ in reply to a post this server does not have ({short})"
    author = ctx.parents.get(parent)
    return f"↳ in reply to {author_label(author, ctx)} · {short}" if author else f"↳ in reply to {short}"


def body_lines(body: dict[str, Any], ctx: Context) -> list[str]:
    """A post's content warning and text: the text folded under a warning, and cut when long."""
    lines: list[str] = []
    cw = body.get("cw")
    if cw:
        lines.append(f"CW: {one_line(str(cw), 100)}")
        if not ctx.show_cw:
            return [*lines, "(text folded under the content warning; --show-cw shows it)"]
    text = inert(show_mentions(str(body.get("text", "")), ctx.names))
    if not ctx.full:
        text, more = fold(text)
        if more:
            text += f"\n… {more} (--full shows all)"
    return [*lines, *text.split("\n")]


def render_message(
    message: dict[str, Any], ctx: Context, *, indent: str = "", edit: dict[str, Any] | None = None
) -> list[str]:
    """A message; for a post shown edited, ``edit`` is its newest edit, whose text is shown and said when."""
    identity = speaks_for(message)
    label = author_label(message["author"], ctx, speaks_for=identity)
    head = f"{indent}{label} · {ago(message['created_at'])} · {message['id'][:12]}"
    body = message.get("body", {})
    if (lines := card(message, now_ms())) is not None:  # a poll, a meetup: its own command shows the figures
        return [head, *(f"{indent}  {line}" for line in lines)]
    if not is_full(message):
        return [f"{head}", f"{indent}  {summary(message)}"]
    edited = f" · edited {ago(edit['created_at'])}" if edit else ""
    lines = [head + edited + ("  [local]" if body.get("visibility") == "local" else "")]
    if identity is not None and ctx.full:  # the raw view says which device signed
        lines.append(f"{indent}  signed by device {fingerprint(message['author'])}")
    replying = reply_line(message, ctx)
    if replying:
        lines.append(f"{indent}  {replying}")
    lines.extend(f"{indent}  {line}" for line in body_lines(shown_body({"message": message, "edit": edit}), ctx))
    return lines


def render_item(item: dict[str, Any], ctx: Context, *, indent: str = "") -> list[str]:
    if not item.get("verified", False):
        return [f"{indent}!! a message that failed verification was hidden (seq {item.get('seq')})"]
    lines: list[str] = []
    if item.get("boosted_by"):
        via = arrived_from(item.get("boost_origin"))
        lines.append(f"{indent}⟳ boosted by {author_label(item['boosted_by'], ctx)}{f'  · {via}' if via else ''}")
    shown = render_message(item["message"], ctx, indent=indent, edit=shown_edit(item))
    if item.get("hidden"):
        # A moderator hid it in a group: said, with who and why, never dropped; the text stays folded.
        note = f"{indent}  ⊘ {hidden_line(item, ctx)}"
        if not ctx.show_hidden:
            return [*lines, shown[0], f"{note} (--show-hidden shows it)", *withheld_lines(item, ctx, indent)]
        shown.insert(1, note)
    lines.extend(shown)
    counts = item.get("counts") or {}
    if shows_counts(item["message"], counts):
        via = arrived_from(item.get("origin"))
        tally = f"↩ {counts.get('replies', 0)}  ★ {counts.get('reactions', 0)}  ⟳ {counts.get('boosts', 0)}"
        lines.append(f"{indent}  {tally}{f'  · {via}' if via else ''}")
    return [*lines, *withheld_lines(item, ctx, indent)]


def hidden_line(item: dict[str, Any], ctx: Context) -> str:
    """``hidden by NAME (fingerprint): REASON`` for a post a group's moderator hid."""
    by = item.get("hidden_by")
    who = author_label(by, ctx) if isinstance(by, str) else "a moderator"
    return f"hidden by {who}: {one_line(str(item.get('reason') or ''), 200)}"


def page_parents(items: list[dict[str, Any]]) -> dict[str, str | None]:
    """Who wrote each verified post on a page, by id: the replies on it that answer each other."""
    return {
        item["message"]["id"]: item["message"]["author"]
        for item in items
        if item.get("verified") and isinstance(item.get("message"), dict)
    }


def render_page(page: dict[str, Any], ctx: Context) -> str:
    blocks = ["\n".join(render_item(item, ctx)) for item in page.get("items", [])]
    if not blocks:
        return "Nothing here yet."
    text = "\n\n".join(blocks)
    if page.get("next_cursor"):
        text += f"\n\n-- older: --before {page['next_cursor']}"
    return text


def thread_parents(root: dict[str, Any]) -> dict[str, str | None]:
    """Every node of a thread by id: its author, or None for a post this server does not have."""
    parents: dict[str, str | None] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        item = node.get("item")
        if item is None:
            parents[str(node.get("id"))] = None
        elif item.get("verified"):
            parents[str(node.get("id"))] = item["message"]["author"]
        stack.extend(node.get("children", []))
    return parents


def render_thread(root: dict[str, Any], ctx: Context) -> list[str]:
    """The tree, indented; built without recursion (the server caps nesting, not length)."""
    lines: list[str] = []
    stack: list[tuple[dict[str, Any], int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        indent = "    " * min(depth, 12)
        if node.get("item"):
            lines.extend(render_item(node["item"], ctx, indent=indent))
        else:
            lines.append(f"{indent}(a post this server does not have: {inert(str(node['id'])[:12])})")
        stack.extend((child, depth + 1) for child in reversed(node.get("children", [])))
    return lines


def render_notification(item: dict[str, Any], ctx: Context) -> str:
    if not item.get("verified", False):
        return "!! a notification whose message failed verification was hidden"
    message = item["message"]
    body = shown_body(item)
    what = notice_verb(str(item["kind"]), body)
    if body.get("cw") and not ctx.show_cw:
        tail = f": CW {one_line(str(body['cw']), 60)} (--show-cw shows the text)"
    else:
        text = body.get("text")
        tail = f": {one_line(show_mentions(str(text), ctx.names), 60)}" if text else ""
    head = f"{author_label(item['actor'], ctx)} {what} · {ago(message['created_at'])}{tail}"
    return "\n".join([head, *withheld_lines(item, ctx)])  # what peers withheld of the reply, mention, reaction


def render_person(person: dict[str, Any], ctx: Context) -> str:
    """A search hit for a person: name, the fingerprint of the identity this device checked its key speaks for
    (``checked_identity``: murmur.client.identity_check.with_checked_identity), or "identity unverified" when its
    log could not be checked (the server's claim is never shown as the fingerprint), the start of the bio."""
    key, checked = str(person["key"]), person.get("checked_identity")
    shown = fingerprint(checked) if isinstance(checked, str) else "identity unverified"
    label = labelled(key, shown, Context(names={key: str(person.get("name") or "")}, shared=ctx.shared))
    return f"@ {label}  {one_line(str(person.get('bio') or ''), 60)}"


def identity_lines(identity: dict[str, Any] | None) -> list[str]:
    """What a profile says of an identity beyond a key: its devices, its home server, and a fork above all (a
    device key or the rotation key was copied: docs/protocol.md §13.4)."""
    if not identity:
        return []
    devices = [d for d in identity.get("devices", []) if d.get("removed_at") is None and d.get("disputed_at") is None]
    lines = []
    if (fork := identity.get("fork")) and fork.get("backdated"):
        lines.append(
            f"FORK: a device's removal after {str(fork.get('place'))[:12]} is dated before what this server had"
            " accepted from the device it removes; a key of this identity was copied, and neither device is trusted"
        )
    elif fork:
        lines.append(
            f"FORK: {len(fork.get('branches', []))} key events claim the same place after"
            f" {str(fork.get('place'))[:12]}; a key of this identity was copied, and no branch is trusted"
        )
    lines.append(f"identity with {len(devices)} device{'' if len(devices) == 1 else 's'}")
    disputed = [str(d.get("name") or "") for d in identity.get("devices", [])
                if d.get("removed_at") is None and d.get("disputed_at") is not None]  # fmt: skip
    if disputed:
        names = ", ".join(one_line(name, 40) for name in disputed)
        lines.append(f"disputed by the fork: {names} (what they sign waits until the rotation key settles it)")
    if home := identity.get("home"):
        shown, trust = one_line(str(home), 200), identity.get("home_trust")
        lines.append(
            "home server: this one" if trust == "here"
            else f"home server: {shown} (a peer of this server)" if trust == "peer"
            else f"moved to {shown}, not a peer of this server; ask your admin to add it" if trust == "not_peer"
            else f"home server, as its log says: {shown}"
        )  # fmt: skip
    return lines


def render_profile(profile: dict[str, Any]) -> str:
    name = visible_name(str(profile.get("name") or ""), 64) or "(no name)"
    flag = f"  {SHARED_NAME}" if profile.get("name_shared") else ""
    lines = [f"{name}  {fingerprint(profile['key'])}{flag}", profile["key"]]
    lines += identity_lines(profile.get("identity"))
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
    lines += missing_lines(profile, {}, str(profile.get("name") or ""))
    return "\n".join(lines)
