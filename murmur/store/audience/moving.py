"""What may leave this server in a selection rather than to a trusted peer: a member moving to another server
(``GET /api/v1/export?local=1``), a filtered export. A message narrowed only by what it names leaves only with
what narrows it, since the server it lands on learns its audience from nothing else.
"""

from __future__ import annotations

from murmur.message import SCOPE_PREFIX
from murmur.store.audience.scopes import named


def narrowed_alone(alias: str) -> str:
    """SQL: the row ``alias`` is narrowed by nothing its own signed visibility does not say: a local post, a
    scoped post in no other scope and not confined, a public message neither confined nor scoped. Such a
    message keeps its audience wherever it lands, whatever travels with it."""
    return (
        f"({alias}.visibility = 'local' OR (NOT EXISTS (SELECT 1 FROM confined c WHERE c.id = {alias}.id)"
        f" AND NOT EXISTS (SELECT 1 FROM scoped x WHERE x.id = {alias}.id"
        f" AND {alias}.visibility <> ('{SCOPE_PREFIX}' || x.scope))))"
    )


NARROWERS = ("confined", "scoped")  # the tables of what narrows a message: kept here, or scoped


def travels_with(alias: str, chosen: str) -> str:
    """SQL: the row ``alias`` may leave this server in a selection (a member moving, a filtered export) of which
    ``chosen`` (an SQL condition on the messages row ``p``) holds. A message narrowed only by what it names (a
    public-signed reply, reaction or boost about a local or scoped post) leaves only with every narrowed message
    it names, held, chosen and narrowed alone: without them it would land public on the server it is taken
    to, which learns its audience from nothing else. A message whose narrowing parent cannot travel (deleted,
    never held, not chosen, narrowed in turn by another) stays."""
    reaches = f"EXISTS (SELECT 1 FROM messages p WHERE p.id = n.id AND {chosen} AND {narrowed_alone('p')})"
    each = (f"NOT EXISTS (SELECT 1 FROM {t} n WHERE n.id IN ({named(alias)}) AND NOT {reaches})" for t in NARROWERS)
    return f"({narrowed_alone(alias)} OR {' AND '.join(each)})"


def moves_with_author(alias: str = "m", chosen: str = "TRUE") -> str:
    """The SQL condition under which the ``messages`` row ``alias`` may leave with its author for a new server
    (``GET /api/v1/export?local=1``): what is narrowed by nothing, the author's own local posts (written for
    their home, they keep that audience on the new one), and what they wrote about those (``travels_with``).
    Not their scoped posts, nor what leans on them: a scope is a label of this server's manifest, and the new
    home's scope of that name is whoever it labels so (``doors.moved_in`` refuses them too). Not what they wrote
    about someone else's local or scoped post: signed as public, and without the post it names, it would be
    public wherever it landed. ``chosen`` narrows the selection further (a condition on the named row ``p``, as
    for ``travels_with``)."""
    own = f"p.author = {alias}.author AND {_unscoped('p')} AND ({chosen})"
    return f"({_unscoped(alias)} AND {travels_with(alias, own)})"


def _unscoped(alias: str) -> str:
    return f"{alias}.visibility NOT LIKE '{SCOPE_PREFIX}%'"
