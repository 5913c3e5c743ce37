"""What the audience rule reads of a message row: the ids it names, the scopes it is in, whether it stays here.

Every fragment takes the alias of a row: a stored ``messages`` row, or with ``stored=False`` an ``UNSENT`` row,
the message as it would be stored (the compose preview and ``held_back`` judge a message before it is). The store
keeps, for every stored message, the scopes and the confinement of what it names (``murmur.store.audience.
narrowing``, at ingest, from both ends), so a stored row is judged by its own rows and an unsent row by what it
names: the same answer, tested so (tests/store/test_preview_agrees.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from murmur.message import SCOPE_PREFIX, Message

# The messages columns that hold a message id named by a tag (reply, root, target: murmur.message.TAG_NAMES).
REFERENCES = ("reply_to", "root", "target")


def named_ids(message: Message) -> list[str]:
    """The ids ``message`` names in its reference tags, in the order of ``REFERENCES``."""
    return [v for tag in ("reply", "root", "target") if (v := message.tag(tag))]


def scope_of(visibility: str) -> str | None:
    """The label a ``scope:LABEL`` visibility names; None for ``public`` and ``local``."""
    return visibility[len(SCOPE_PREFIX) :] if visibility.startswith(SCOPE_PREFIX) else None


def carries(scopes: str, peer: str) -> str:
    """SQL: the peer whose key is the SQL expression ``peer`` carries every label among ``scopes`` (a SELECT of
    one column named ``scope``)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM ({scopes}) s WHERE NOT EXISTS"
        f" (SELECT 1 FROM peer_labels l WHERE l.peer = {peer} AND l.label = s.scope))"
    )


def named(alias: str) -> str:
    """SQL: the ids the row ``alias`` names, a list for ``IN (...)``."""
    return ", ".join(f"{alias}.{column}" for column in REFERENCES)


def names(alias: str, other: str) -> str:
    """SQL: the row ``alias`` names the id ``other`` in one of its references."""
    return "(" + " OR ".join(f"{alias}.{column} = {other}" for column in REFERENCES) + ")"


def held(msg_id: str) -> str:
    """SQL: the message whose id is the SQL expression ``msg_id`` is held here (not deleted, not still to come)."""
    return f"EXISTS (SELECT 1 FROM messages q WHERE q.id = {msg_id})"


# A message as it would be stored, for the rule to judge before it is (the compose preview, ``held_back``): its
# signed visibility and the ids it names (``b''`` for none: no message has that id).
UNSENT = "(SELECT :visibility AS visibility, :reply_to AS reply_to, :root AS root, :target AS target)"


def unsent(visibility: str, ids: Sequence[str]) -> dict[str, object]:
    """The parameters of ``UNSENT`` for a message of ``visibility`` naming the ids ``ids`` (at most three)."""
    if len(ids) > len(REFERENCES):
        raise ValueError(f"a message names at most {len(REFERENCES)} ids (reply, root, target)")
    raw = [bytes.fromhex(n) for n in ids] + [b""] * (len(REFERENCES) - len(ids))
    return {"visibility": visibility, **dict(zip(REFERENCES, raw, strict=True))}


def scopes_of(alias: str, stored: bool) -> str:
    """SQL: a SELECT of the scopes (column ``scope``) of the row ``alias``: its ``scoped`` rows when stored; its
    signed scope and those of what it names when not (what ingest would give it)."""
    if stored:
        return f"SELECT x.scope FROM scoped x WHERE x.id = {alias}.id"
    return (
        f"SELECT x.scope FROM scoped x WHERE x.id IN ({named(alias)}) UNION SELECT"
        f" substr({alias}.visibility, {len(SCOPE_PREFIX) + 1}) WHERE {alias}.visibility LIKE '{SCOPE_PREFIX}%'"
    )


def kept_here(alias: str, stored: bool = True) -> str:
    """SQL: the row ``alias`` stays on this server: local, or naming (transitively) what is."""
    confined = f"c.id = {alias}.id" if stored else f"c.id IN ({named(alias)})"
    return f"({alias}.visibility = 'local' OR EXISTS (SELECT 1 FROM confined c WHERE {confined}))"


def seen_by(alias: str, peer: str, stored: bool) -> str:
    """SQL: the trusted peer whose key is the SQL expression ``peer`` may see the row ``alias`` by its audience
    as this server knows it: not kept here, and every scope of it carried by the peer."""
    return f"NOT {kept_here(alias, stored)} AND " + carries(scopes_of(alias, stored), peer)


def signs_its_scopes(alias: str, stored: bool = True) -> str:
    """SQL: the row ``alias`` is in no scope its own signed visibility does not name."""
    wider = f"{alias}.visibility <> ('{SCOPE_PREFIX}' || z.scope)"
    if stored:  # one index probe, asked of every message a page of the log holds
        return f"NOT EXISTS (SELECT 1 FROM scoped z WHERE z.id = {alias}.id AND {wider})"
    return f"NOT EXISTS (SELECT 1 FROM ({scopes_of(alias, stored)}) z WHERE {wider})"
