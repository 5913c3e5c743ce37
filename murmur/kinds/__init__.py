"""Every kind of message murmur knows, one module each, and the registry the rest of murmur consults.

Validation (``murmur.validate``), the store (``murmur.store.ingest``, ``murmur.store.db``) and the notices read
a kind's rules from here and name no kind themselves. Adding a kind is its module, a line in ``MODULES`` (and its
tag names in ``TAG_FORMS`` when it brings new ones), its tests, the screens that show it and the docs.
"""

from __future__ import annotations

from types import MappingProxyType, ModuleType

from murmur.kinds import boost, delete, edit, follow, post, profile, reaction
from murmur.kinds.base import Field, Kind

__all__ = ["DERIVE_RULES", "NOTICE_RULES", "REGISTRY", "TAG_FORMS", "Field", "Kind", "kind"]

MODULES: tuple[ModuleType, ...] = (profile, post, reaction, boost, delete, follow, edit)

# Tag names and what their value is: a message id, a public key, or a hashtag name.
TAG_FORMS = MappingProxyType(
    {
        "reply": "id",  # the post this one answers
        "root": "id",  # the first post of the thread
        "target": "id",  # what a reaction, boost, delete or edit is about
        "mention": "key",  # a person named in a message
        "subject": "key",  # whom a follow or unfollow is about
        "hashtag": "hashtag",  # a topic, lowercase ASCII letters, digits and underscore
    }
)


def _kinds_of(module: ModuleType) -> tuple[Kind, ...]:
    return tuple(getattr(module, "KINDS", ())) or (module.KIND,)


REGISTRY: MappingProxyType[str, Kind] = MappingProxyType(
    {k.name: k for module in MODULES for k in _kinds_of(module)}
)

NOTICE_RULES: tuple[str, ...] = tuple(rule for k in REGISTRY.values() for rule in k.notices)
"""How notices are derived from the messages whose seq is in [:lo, :hi]; ingest runs them on each batch."""

DERIVE_RULES: tuple[str, ...] = tuple(rule for k in REGISTRY.values() for rule in k.derive)
"""State the kinds derive for the messages whose seq is in [:lo, :hi]; ingest runs them before the notices."""


def kind(name: str) -> Kind | None:
    """The kind called ``name``, None when this version does not know it."""
    return REGISTRY.get(name)
