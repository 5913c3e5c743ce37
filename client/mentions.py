"""Mentions on the person's side: ``@handle`` resolved to a key when a post is written, and keys shown as names.

The rule for what a handle is lives in ``murmur.mentions``; the home server finds who has it. A handle that is
nobody's, or several people's, stops the post with the reason and the candidates: a mention is addressed to
someone, and a guess would notify the wrong person.
"""

from __future__ import annotations

from typing import Any

from murmur.client.api import MurmurClient
from murmur.errors import MurmurError
from murmur.keys import fingerprint
from murmur.mentions import KEY_PREFIX, handle_of, typed_mentions, with_keys
from murmur.message import MENTION_IN_TEXT, tags_from_text
from murmur.terminal import visible_name


class MentionRefused(MurmurError):
    """A typed ``@handle`` names nobody this server knows, or more than one person."""

    exit_code = 1


def _who(person: dict[str, Any]) -> str:
    return f"{visible_name(str(person.get('name', '')))} ({fingerprint(person['key'])})"


async def key_for(api: MurmurClient, token: str) -> str:
    """The key of the one person ``token`` (a handle, or 8+ hex digits of a key) names; refused otherwise."""
    if KEY_PREFIX.fullmatch(token):  # 8+ hex digits: a key prefix, checked against what was typed
        key = str((await api.profile(token))["key"])
        if not key.startswith(token.lower()):
            raise MentionRefused(f"The server answered @{token} with a key that does not start with it.")
        return key
    people = await api.people(name=token)
    if not people:
        raise MentionRefused(
            f"Nobody called @{token} is known to your server; check the name (`murmur search {token} --type people`)"
            " or mention them by key (8 or more hex digits)."
        )
    if len(people) > 1:
        shown = ", ".join(f"{_who(p)} as @{p['key'][:12]}" for p in people[:5])
        raise MentionRefused(f"@{token} could be {shown}; mention the one you mean by key.")
    return str(people[0]["key"])


async def resolve_text(api: MurmurClient, text: str) -> str:
    """``text`` with every typed ``@handle`` or ``@keyprefix`` written as the ``@<key>`` it names."""
    keys = {token: await key_for(api, token) for token in typed_mentions(text)}
    return with_keys(text, keys) if keys else text


async def resolve_draft(api: MurmurClient, draft: dict[str, Any]) -> dict[str, Any]:
    """A post (or edit) draft whose typed mentions are resolved: its text rewritten and its mention tags made to
    match."""
    body = draft.get("body") or {}
    text = body.get("text")
    if draft.get("kind", "post") not in ("post", "edit") or not isinstance(text, str):
        return draft
    resolved = await resolve_text(api, text)
    if resolved == text:
        return draft
    # Tags derived from the old text are replaced by those of the new; the others (reply, root, the parent's
    # author) are kept.
    old = tags_from_text(text)
    kept = [tag for tag in draft.get("tags", []) if tag not in old]
    tags = kept + [tag for tag in tags_from_text(resolved) if tag not in kept]
    return {**draft, "body": {**body, "text": resolved}, "tags": tags}


def completion(person: dict[str, Any], among: list[dict[str, Any]]) -> str:
    """What completing a mention of ``person`` writes: ``@handle``, or ``@<16 hex>`` when another of the people
    offered has the same handle (the handle would be refused as ambiguous when sent)."""
    handle = handle_of(str(person["name"]))
    twins = [p for p in among if handle_of(str(p["name"])) == handle and p["key"] != person["key"]]
    return f"@{str(person['key'])[:16]}" if twins or not handle else f"@{handle}"


def show_mentions(text: str, names: dict[str, str]) -> str:
    """``@<64 hex>`` shown as ``@Name (fingerprint)``, or ``@fingerprint`` for a key with no name held."""

    def label(match: Any) -> str:
        key = match.group(1)
        name = names.get(key, "")
        return f"@{visible_name(name)} ({fingerprint(key)})" if name else f"@{fingerprint(key)}"

    return MENTION_IN_TEXT.sub(label, text)
