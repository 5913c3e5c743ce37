"""How posts, notifications and profiles look: plain functions from server JSON to Textual ``Content``.

Everything another person wrote (text, names, bios, emoji, content warnings) goes through ``inert`` and
into ``Content`` as plain text, never as markup: ``[bold]`` stays six visible characters, escape sequences
and bidi overrides become visible stand-ins. A name shows its invisible characters, and is flagged when
another key on the server uses it too. A message that failed verification on this machine is never drawn as
a post; a warning stands in its place. A content warning folds the text (in notifications too), and a long
post shows its first lines and how much more there is until it is expanded. An edited post shows its newest
version and says when it was edited (H lists every version).
"""

from __future__ import annotations

import re
from typing import Any

from textual.content import Content

from murmur.client.kinds import card, is_full, notice_verb, shows_counts, summary
from murmur.client.mentions import show_mentions
from murmur.client.render import identity_lines, item_id
from murmur.client.versions import edited_at, shown_body
from murmur.keys import fingerprint
from murmur.receipts import withheld_notes
from murmur.terminal import inert, one_line, visible_name
from murmur.text import ago, arrived_from, fold

# Printable ASCII only: a link with a bidi override or a control character in it is not offered for opening.
URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+")

NAME_STYLE = "bold $accent"
DIM = "$text-muted"
WARN = "bold $warning"


SHARED_NAME = " ⚠ name also used by another key"

Keys = set[str] | frozenset[str]


def author_parts(
    key: str, names: dict[str, str], shared: Keys = frozenset(), *, speaks_for: str | None = None
) -> list[tuple[str, str] | str]:
    """Display name (if known, invisible characters shown) and the short fingerprint, which a look-alike name
    cannot copy; a flag when another key uses the same name. For a device speaking for an identity, the
    identity's fingerprint: readers see one person whatever device signed (docs/protocol.md §13.5)."""
    name = names.get(key, "") or names.get(speaks_for or key, "")
    parts: list[tuple[str, str] | str] = []
    if name:
        parts += [(visible_name(name), NAME_STYLE), " "]
    parts.append((fingerprint(speaks_for or key), DIM))
    if name and key in shared:
        parts.append((SHARED_NAME, WARN))
    return parts


def tag_value(message: dict[str, Any], name: str) -> str | None:
    return next((v for n, v in message.get("tags", []) if n == name), None)


def unverified(item: dict[str, Any]) -> Content:
    return Content.assemble(
        ("⚠ hidden: ", WARN),
        (f"a message (seq {item.get('seq')}) failed signature verification on this machine", DIM),
    )


def text_lines(body: dict[str, Any], names: dict[str, str], *, cw_open: bool, expanded: bool) -> list[Content]:
    """A post's content warning and text: folded under the warning until opened (c), and a long text cut to
    its first lines with how much more there is until expanded (m)."""
    lines: list[Content] = []
    cw = body.get("cw")
    if cw and not cw_open:
        return [Content.assemble(("CW ", WARN), one_line(str(cw), 200), ("  (c: show)", DIM))]
    if cw:
        lines.append(Content.assemble(("CW ", WARN), one_line(str(cw), 200)))
    text = inert(show_mentions(str(body.get("text", "")), names))
    head, more = fold(text)
    if not more:
        lines.append(Content(text))
    elif expanded:
        lines += [Content(text), Content.styled("m: fold", DIM)]
    else:
        lines += [Content(head), Content.assemble(("… ", DIM), (more, WARN), ("  m: show more", DIM))]
    return lines


def post_content(
    item: dict[str, Any],
    names: dict[str, str],
    now_ms: int,
    *,
    cw_open: bool = False,
    unread: bool = False,
    expanded: bool = False,
    shared: Keys = frozenset(),
) -> Content:
    """A timeline item: who, when, where from, the text (or its folded content warning) and its counts."""
    if "missing" in item:
        return Content.styled(f"(a post this server does not hold: {str(item['missing'])[:12]})", DIM)
    if not item.get("verified", False):
        return unverified(item)
    message = item["message"]
    body = shown_body(item)
    lines: list[Content] = []
    if item.get("boosted_by"):
        via = arrived_from(item.get("boost_origin"))
        via_part = [(f" · ↗ {via}", "$secondary")] if via else []
        booster = author_parts(item["boosted_by"], names, shared)
        lines.append(Content.assemble(("⟳ boosted by ", DIM), *booster, *via_part))
    head: list[tuple[str, str] | str] = [("● ", "bold $warning")] if unread else []
    who = author_parts(message["author"], names, shared, speaks_for=tag_value(message, "identity"))
    head += [*who, (f" · {ago(message['created_at'], now_ms)}", DIM)]
    if (when := edited_at(item)) is not None:
        head.append((f" · edited {ago(when, now_ms)}", DIM))
    if via := arrived_from(item.get("origin")):  # where the post itself came from, not a boost of it
        head.append((f" · ↗ {via}", "$secondary"))
    if body.get("visibility") == "local":
        head.append((" · local only", DIM))
    if tag_value(message, "reply"):
        head.append((" · reply", DIM))
    lines.append(Content.assemble(*head))
    # What peers refused of it, signed: said under the author line, whatever folds below (inert, never markup).
    lines += withheld_content(item)
    if item.get("hidden"):
        # A group's moderator hid it: said with who and why, never dropped; folded until opened (c).
        by = item.get("hidden_by")
        who = author_parts(by, names, shared) if isinstance(by, str) else ["a moderator"]
        reason = one_line(str(item.get("reason") or ""), 200)
        lines.append(
            Content.assemble(("⊘ hidden by ", WARN), *who, f": {reason}", ("" if cw_open else "  (c: show)", DIM))
        )
        if not cw_open:
            return Content("\n").join(lines)
    counts = item.get("counts") or {}
    if (shown := card(message, now_ms)) is not None:  # a poll, a meetup: enter opens its figures
        lines.append(Content.styled(shown[0], "bold"))
        lines += [Content(line) for line in shown[1:-1]]
        lines.append(Content.assemble((shown[-1], DIM), ("  (enter: open)", DIM)))
        if shows_counts(message, counts):  # people discuss a poll, "+1" a meetup
            lines.append(Content.styled(count_line(counts), DIM))
        return Content("\n").join(lines)
    if not is_full(message):
        lines.append(Content.styled(summary(message), DIM))
        return Content("\n").join(lines)
    lines += text_lines(body, names, cw_open=cw_open, expanded=expanded)
    lines.append(Content.styled(count_line(counts), DIM))
    return Content("\n").join(lines)


def withheld_content(item: dict[str, Any]) -> list[Content]:
    """What peers refused of the item's message, signed (``murmur.receipts.withheld_notes``): inert, never markup."""
    return [Content.styled(f"⊘ {note}", WARN) for note in withheld_notes(item_id(item), item.get("withheld"))]


def count_line(counts: dict[str, Any]) -> str:
    return f"↩ {counts.get('replies', 0)}   ★ {counts.get('reactions', 0)}   ⟳ {counts.get('boosts', 0)}"


def notification_content(
    item: dict[str, Any],
    names: dict[str, str],
    now_ms: int,
    *,
    unread: bool = False,
    cw_open: bool = False,
    shared: Keys = frozenset(),
) -> Content:
    if not item.get("verified", False):
        return unverified(item)
    message = item["message"]
    body = shown_body(item)
    verb = notice_verb(str(item.get("kind", "")), body)
    head: list[tuple[str, str] | str] = [("● ", "bold $warning")] if unread else []
    who = author_parts(item["actor"], names, shared, speaks_for=tag_value(message, "identity"))
    head += [*who, f" {verb}", (f" · {ago(message['created_at'], now_ms)}", DIM)]
    lines = [Content.assemble(*head), *withheld_content(item)]
    if body.get("cw"):
        hint = "" if cw_open else "  (c: show)"
        lines.append(Content.assemble(("CW ", WARN), one_line(str(body["cw"]), 200), (hint, DIM)))
    if body.get("text") and (cw_open or not body.get("cw")):
        lines.append(Content(one_line(show_mentions(str(body["text"]), names), 300)))
    return Content("\n").join(lines)


def person_content(person: dict[str, Any], shared: Keys = frozenset()) -> Content:
    """A person found: name, and the fingerprint of the identity this device checked their key speaks for
    (``checked_identity``, murmur.client.identity_check.with_checked_identity), never the server's claim; "identity
    unverified" when the log could not be checked."""
    name = visible_name(str(person.get("name") or ""), 48) or "(no name)"
    flag = SHARED_NAME if person.get("name") and person["key"] in shared else ""
    checked = person.get("checked_identity")
    shown = fingerprint(checked) if isinstance(checked, str) else "identity unverified"
    lines = [Content.assemble((name, NAME_STYLE), " ", (shown, DIM), (flag, WARN))]
    if person.get("bio"):
        lines.append(Content(one_line(str(person["bio"]), 200)))
    return Content("\n").join(lines)


def profile_content(profile: dict[str, Any], server: str, *, mine: bool = False) -> Content:
    """The profile header: name, fingerprint and full key, bio, home server, follow state and counts.

    ``mine`` is the reader's own profile: it says so instead of a follow state nobody can change."""
    key = profile["key"]
    name = visible_name(str(profile.get("name") or ""), 64) or "(no name)"
    state = ["this is you"] if mine else []
    if profile.get("following") and not mine:
        state.append("you follow them")
    if profile.get("follows_you") and not mine:
        state.append("follows you")
    home = f"member of {one_line(server, 60)}" if profile.get("member") else "lives on another server"
    lines = [
        Content.assemble(
            (name, "bold $accent"),
            "  ",
            (fingerprint(key), "bold"),
            (SHARED_NAME if profile.get("name_shared") else "", WARN),
        ),
        Content.styled(key, DIM),
    ]
    for line in identity_lines(profile.get("identity")):
        lines.append(Content.styled(line, WARN if line.startswith("FORK") else DIM))
    if profile.get("bio"):
        lines.append(Content(inert(str(profile["bio"]))))
    lines.append(Content.assemble(("home: ", DIM), home))
    lines.append(
        Content.assemble(
            (f"{profile.get('followers', 0)} followers · {profile.get('following_count', 0)} following", DIM),
            (f" · {', '.join(state)}" if state else " · not following", "$success" if state else DIM),
        )
    )
    return Content("\n").join(lines)


def post_text(item: dict[str, Any]) -> str:
    """The text a person would copy: content warning and body, as written (the clipboard is not a terminal)."""
    body = shown_body(item)
    cw = f"CW: {body['cw']}\n" if body.get("cw") else ""
    return cw + str(body.get("text", ""))


def links_in(item: dict[str, Any]) -> list[str]:
    if not item.get("verified", False):
        return []
    text = str(shown_body(item).get("text", ""))
    seen: list[str] = []
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)]")
        if url not in seen:
            seen.append(url)
    return seen
