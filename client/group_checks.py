"""What a private group's device judges of the group beyond its sealing (docs/encryption.md §16.3, §16.5): whether
a message's sender was a member when it was written and still when it reached the home server, whether its epoch
is one whose keys this device deleted, who the members are now, and each group's signed state folded once a sync.
Pure rules over what ``murmur.client.group_authority`` folds; ``murmur.client.private_groups`` applies them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from murmur.errors import Refused
from murmur.kinds.group_fold import MEMBER, GroupState, covers
from murmur.kinds.sealed import group_message_of
from murmur.message import Message
from murmur.store.group_inbox import NO_KEY, NO_KEY_KEPT, Unread

# A device keeps the keys of the newest epoch it holds and of the one before, so late messages written before a
# change still read; older epochs' keys are deleted at the end of the sync that read what came for them.
KEPT_EPOCHS = 2


def was_member(spans: list[tuple[int, int | None]], at: int, arrived: int | None) -> None:
    """Refuse a group message its sender dated ``at`` that reached the home server at ``arrived`` (None: not
    said) unless its sender was a member then and still when it arrived: a removed member still holds the keys
    of the epochs it was in, and could date a message before its removal (``covers``, as an epoch key's sealer)."""
    if any(covers(start, end, at, at + 1, arrived) for start, end in spans):
        return
    if any(start <= at and (end is None or at < end) for start, end in spans):
        raise Refused("not_member", "It reached your server after its sender stopped being a member of the group"
                      " (removed, or left): one dated before that cannot be told from one backdated.")  # fmt: skip
    raise Refused("not_member", "It was written when its sender was not a member of the group.")


def not_forgotten(epoch: int | None, forgotten: int) -> None:
    if epoch is not None and epoch < forgotten:
        raise Refused("too_old", f"It is in epoch {epoch} of the group; this device deleted the keys of every epoch"
                      f" before {forgotten} once the group had moved on (it keeps the newest two), so it cannot be"
                      " read here.")  # fmt: skip


def epoch_named(outer: Message) -> int | None:
    """The epoch number a group message names in the clear (None: not a group message; its reading says why)."""
    try:
        return int(group_message_of(outer.body)["epoch"])
    except Refused:
        return None


def one_by_one(waiting: list[Unread]) -> list[Unread]:
    """What a group could not read that is shown one row each: all but those naming an epoch this device holds no
    key for, which anyone can send any number of (``no_key_note`` counts them in one line)."""
    return [u for u in waiting if u.code not in NO_KEY]


def no_key_note(kept: int, dropped: int) -> str | None:
    """The one line saying how many of a group's messages name an epoch this device holds no key for (``kept``,
    ``dropped`` past the bound): None when there are none."""
    if not kept and not dropped:
        return None
    line = (f"{kept} message{'s' * (kept != 1)} in an epoch this device holds no key for (one whose key has not"
            " come, one it was not in, or one whose keys it deleted; anyone can send these): read if its key comes")
    if dropped:
        line += f"; {dropped} more dropped, as a group keeps at most {NO_KEY_KEPT}"
    return line


def member_roles(state: GroupState) -> dict[str, str]:
    """The group's members now, by key, with their role (``member`` for one with none)."""
    return {p.key: p.role or MEMBER for p in state.people if p.status == MEMBER}


class Folded:
    """Each group's signed state, folded once for one sync (``PrivateGroups._state``)."""

    def __init__(self, fold: Callable[[str], Awaitable[GroupState]]) -> None:
        self._fold = fold
        self._held: dict[str, GroupState] = {}

    async def of(self, group: str) -> GroupState:
        if group not in self._held:
            self._held[group] = await self._fold(group)
        return self._held[group]
