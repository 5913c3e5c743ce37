"""Who signs a group's acts: a group role (owner, moderator) belongs to a person, not to the one key it was given to.

A person with an identity signs with any of its devices, so an act counts with the role of the identity its
signing device spoke for at the act's time, by the identity's key-event log in force (the rule authorship uses):
a moderator's act from any of their current devices counts, and one signed by a device removed (or disputed by
a fork) before the act's time counts for nothing. A role given to a device's key is its identity's. A key no log
lists as a device (a bare key, an identity) speaks for itself, as it did before it was ever added to one.

Pure: the store reads the device spans from ``identity_devices`` (murmur/kinds/group_state.py), a member's device
from the logs it resolves itself (murmur/client/group_authority.py); both hand them to the fold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

PersonOf = Callable[[str, int], str | None]
"""Whom a message signed with the key at the time (ms) counts for (``Speakers.person``); None: no one."""


@dataclass(frozen=True, slots=True)
class DeviceSpan:
    """A key listed as a device of ``identity``, from ``added_at`` until its removal or dispute (None: neither)."""

    identity: str
    added_at: int
    removed_at: int | None = None
    disputed_at: int | None = None

    def ended_by(self, at: int) -> bool:
        ends = [t for t in (self.removed_at, self.disputed_at) if t is not None]
        return bool(ends) and at >= min(ends)


class Speakers:
    """Whom each key speaks for, from the device spans of the identity logs in force, by key."""

    def __init__(self, devices: Mapping[str, DeviceSpan] | None = None) -> None:
        self._devices = dict(devices or {})

    def acting(self, key: str, at: int) -> str | None:
        """Who signs with ``key`` at ``at``: its identity while it is a current device of one; None once its
        identity removed it (or a fork disputes it), so what it signs then holds no role; else the key itself."""
        span = self._devices.get(key)
        if span is None or at < span.added_at:
            return key
        return None if span.ended_by(at) else span.identity

    def person(self, key: str, at: int) -> str | None:
        """Whom a message signed with ``key`` at ``at`` counts for, where each person counts once (a poll's voters,
        a letter's signers, a meetup's answers): the identity that lists ``key`` as a device, also before it was
        added (a place in a group is its holder's whenever the key was added, so its voice is too: a key cannot
        count once bare and again as the identity it joins); no one once its identity removed it (or a fork
        disputes it), since its place is still its identity's and a lost device must not speak in it; else the key
        itself."""
        span = self._devices.get(key)
        if span is None:
            return key
        return None if span.ended_by(at) else span.identity

    def holder(self, key: str) -> str:
        """Whom a role given to ``key`` belongs to: the identity it is (or was) a device of, else the key."""
        span = self._devices.get(key)
        return key if span is None else span.identity


KEYS = Speakers()
"""No log known: every key speaks for itself (a group whose people have no identities, or a fold's tests)."""
