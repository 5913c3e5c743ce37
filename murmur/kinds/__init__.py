"""Every kind of message murmur knows, one module each, and the registry the rest of murmur consults.

Validation (``murmur.validate``), the store (``murmur.store.ingest``, ``murmur.store.db``) and the notices read
a kind's rules from here and name no kind themselves. Adding a kind is its module, a line in ``MODULES`` (and its
tag names in ``TAG_FORMS`` when it brings new ones), its tests, the screens that show it and the docs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from types import MappingProxyType, ModuleType

import aiosqlite

from murmur.kinds import (
    boost,
    delete,
    edit,
    follow,
    group,
    group_members,
    group_moderation,
    key_events,
    letter,
    meetup,
    poll,
    post,
    profile,
    reaction,
    sealed,
    unknown,
)
from murmur.kinds.base import Field, Kind

__all__ = [
    "EVERY_KIND_TAGS", "REGISTRY", "TAG_FORMS", "Field", "Kind", "admitters", "derive_rules",
    "forget", "kind", "kind_or_unknown", "notice_about", "notice_holds", "notice_rules", "register", "reshown",
    "shown_fingerprint", "shown_join", "shown_late", "shown_sql", "watchers",
]  # fmt: skip

MODULES: tuple[ModuleType, ...] = (
    profile, post, reaction, boost, delete, follow, edit, group, group_members, group_moderation,
    poll, meetup, letter, key_events, sealed,
)

# Tag names and what their value is: a message id, a public key, or a hashtag name.
_TAG_FORMS: dict[str, str] = {
    "reply": "id",  # the post this one answers
    "root": "id",  # the first post of the thread
    "target": "id",  # what a reaction, boost, delete or edit is about
    "mention": "key",  # a person named in a message
    "subject": "key",  # whom a follow or unfollow is about
    "hashtag": "hashtag",  # a topic, lowercase ASCII letters, digits and underscore
    "group": "id",  # the group a post or a group message is about (its creation message's id)
    "identity": "id",  # the identity a device-signed message speaks for (its inception event's id)
    "prior": "id",  # the key event a key event follows in its identity's log
    "counter": "number",  # the place of a public message among its device's public messages, from 1
    "previous": "id",  # the device's public message before it (with a counter above 1)
}
# Tags any kind may carry, at most this many times, unless the kind's own table says otherwise.
EVERY_KIND_TAGS: MappingProxyType[str, tuple[int, int]] = MappingProxyType(
    {"identity": (0, 1), "counter": (0, 1), "previous": (0, 1)}
)
TAG_FORMS: MappingProxyType[str, str] = MappingProxyType(_TAG_FORMS)


def _kinds_of(module: ModuleType) -> tuple[Kind, ...]:
    return tuple(getattr(module, "KINDS", ())) or (module.KIND,)


_KINDS: dict[str, Kind] = {k.name: k for module in MODULES for k in _kinds_of(module)}
REGISTRY: MappingProxyType[str, Kind] = MappingProxyType(_KINDS)
_WATCHERS: dict[str, tuple[str, ...]] = {}  # tag name -> the kinds watching it (Kind.watches)


def _index_watchers() -> None:
    _WATCHERS.clear()
    for k in _KINDS.values():
        for tag in k.watches:
            _WATCHERS[tag] = (*_WATCHERS.get(tag, ()), k.name)


_index_watchers()


def kind(name: str) -> Kind | None:
    """The kind called ``name``, None when this version does not know it."""
    return REGISTRY.get(name)


def kind_or_unknown(name: str) -> Kind:
    """The kind called ``name``, or what the store does with a kind it does not know (``murmur.kinds.unknown``)."""
    return REGISTRY.get(name, unknown.KIND)


def admitters() -> tuple[Kind, ...]:
    """The kinds that check each batch against the store before it is stored (``Kind.admit``)."""
    return tuple(k for k in REGISTRY.values() if k.admit is not None)


def derive_rules() -> tuple[str, ...]:
    """State the kinds derive for the messages whose seq is in [:lo, :hi]; ingest runs them before the notices."""
    return tuple(rule for k in REGISTRY.values() for rule in k.derive)


def watchers(tag: str) -> tuple[str, ...]:
    """The kinds whose ``apply`` also gets the stored messages, of any kind, that carry ``tag`` (``Kind.watches``)."""
    return _WATCHERS.get(tag, ())


# No kind here shows a post otherwise than as signed: the join yields no row, and the version's columns are NULL.
_AS_SIGNED = "LEFT JOIN (SELECT NULL AS seq, NULL AS id, NULL AS created_at, NULL AS raw) {alias} ON 0"


def shown_join(post: str, alias: str = "v") -> str:
    """SQL: ``LEFT JOIN`` as ``alias`` the version readers see of the ``messages`` row ``post``, when a kind
    makes versions (``Kind.shown_join``: an edit's newest); no row when it has none, or when no kind here does."""
    joins = [k.shown_join for k in REGISTRY.values() if k.shown_join is not None]
    if len(joins) > 1:
        raise ValueError("two kinds make the version of a post readers see; only one may")
    return joins[0](post, alias) if joins else _AS_SIGNED.format(alias=alias)


def shown_sql(row: str) -> str:
    """SQL: true when the held message ``row`` (a ``messages`` row, or any row with its ``seq``) may be shown to
    readers: no kind withholds it (``Kind.withheld``)."""
    withheld = [f"NOT ({k.withheld(row)})" for k in REGISTRY.values() if k.withheld is not None]
    return " AND ".join(withheld) or "1 = 1"


async def reshown(conn: aiosqlite.Connection, seqs: Sequence[int]) -> None:
    """Tell the kinds that keep state from held messages (``Kind.reshow``) that whether readers are shown the
    messages ``seqs`` changed, or that they were taken away: what they keep follows ``shown_sql`` again."""
    if not seqs:
        return
    for k in REGISTRY.values():
        if k.reshow is not None:
            await k.reshow(conn, seqs)


def shown_fingerprint(row: str) -> str:
    """SQL: aggregate columns over the held messages ``row`` (a ``messages`` row, or any row with its ``seq``) that
    move whenever which of them readers are shown changes, for a figure counted from them and remembered
    (``murmur.kinds.remembered``): how many are shown, and the latest position any is shown from
    (``Kind.shown_from``). One hidden lowers the first; one shown again raises the second past all before."""
    since = [f"max({k.shown_from(row)})" for k in REGISTRY.values() if k.shown_from is not None]
    return ", ".join([f"sum(CASE WHEN {shown_sql(row)} THEN 1 ELSE 0 END)", *since])


def shown_late() -> str | None:
    """SQL selecting ``seq, at`` of the held messages shown late that the live stream reads over (:after, :upto]
    (``Kind.shown_late``); None when no kind here shows any late."""
    parts = [k.shown_late for k in REGISTRY.values() if k.shown_late is not None]
    return " UNION ".join(parts) or None


def notice_rules() -> tuple[str, ...]:
    """How notices are derived from the messages whose seq is in [:lo, :hi]; ingest runs them on each batch."""
    return tuple(rule for k in REGISTRY.values() for rule in k.notices)


def notice_about(notice: str) -> str | None:
    """The tag naming the notified member's message a notice of kind ``notice`` is about, if any."""
    return next((k.notice_about[notice] for k in REGISTRY.values() if notice in k.notice_about), None)


def notice_holds() -> dict[str, str]:
    """For each kind of notice that can stop being true, the SQL condition under which it still stands."""
    return {notice: sql for k in REGISTRY.values() for notice, sql in k.notice_holds.items()}


def register(module: ModuleType) -> None:
    """Add a kind module that is not in ``MODULES``, before anything is validated or stored.

    murmur's own kinds are listed in ``MODULES``; this is for a program that extends them (the tests stand in for
    a newer version with it: tests/e2e/newer.py). Its tag names must already be in ``TAG_FORMS``.
    """
    for k in _kinds_of(module):
        if k.name in _KINDS or not unknown.NAME.fullmatch(k.name):
            raise ValueError(f"cannot register the kind {k.name!r}: taken, or not a kind name")
        if set(k.tags) - set(TAG_FORMS):
            raise ValueError(f"the kind {k.name!r} carries tags TAG_FORMS does not name")
        _KINDS[k.name] = k
    _index_watchers()


def forget(modules: Iterable[ModuleType], tag_names: Iterable[str] = ()) -> None:
    """Drop kind modules, and tag names, from what this program knows, before anything is validated or stored (or
    ``murmur.store`` imported: its queries are built from the registry then): the mirror of ``register``.

    What is left is what a version that never had them would do: their messages are carried as kinds it does not
    know, and the tag names, on any kind, as tags a later version added (docs/protocol.md §7.3). The tests stand
    in for an older version with it (tests/e2e/older.py).
    """
    names, tags = {k.name for module in modules for k in _kinds_of(module)}, set(tag_names)
    if strange := sorted((names - set(_KINDS)) | (tags - set(_TAG_FORMS))):
        raise ValueError(f"cannot forget {', '.join(strange)}: not a kind or tag name this program knows")
    for name in names:
        del _KINDS[name]
    for tag in tags:
        del _TAG_FORMS[tag]
    for k in list(_KINDS.values()):
        if tags & {*k.tags, *k.watches}:
            kept = {name: bounds for name, bounds in k.tags.items() if name not in tags}
            _KINDS[k.name] = dataclasses.replace(k, tags=kept, watches=tuple(w for w in k.watches if w not in tags))
    _index_watchers()
