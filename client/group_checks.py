"""What a private group's device judges of the group beyond its sealing (docs/encryption.md §16.3, §16.5): whether
a message's sender was a member when it was written and still when it reached the home server, whether its epoch
is one whose keys this device deleted, who the members are now, and each group's signed state folded once a sync.
Pure rules over what ``murmur.client.group_authority`` folds; ``murmur.client.private_groups`` applies them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from murmur.client.api import ApiError
from murmur.client.group_acts import ACT_UNWITNESSED
from murmur.client.group_authority import Folding
from murmur.client.lookups import NOT_LOOKED_UP, failing
from murmur.errors import Refused
from murmur.kinds.group_fold import MEMBER, GroupState, covers
from murmur.kinds.sealed import group_message_of
from murmur.message import Message
from murmur.store.group_inbox import NO_KEY, NO_KEY_KEPT, Unread

GROUP_UNKNOWN = "group_unknown"  # an epoch key for a group whose public messages have not reached the server yet
IDENTITY_UNVERIFIED = "identity_unverified"
# Why an epoch about to be sealed waits for a later sync rather than leaving anyone out: a member's or
# moderator's key log that does not resolve now, an act only a later epoch can witness.
EPOCH_WAITS = (IDENTITY_UNVERIFIED, ACT_UNWITNESSED)
NOT_ANSWERED = "not_answered"  # a chunk whose group's (or a person's) look-up its server failed to answer
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
    """Each group's signed state, folded once for one sync (``PrivateGroups._folding``)."""

    def __init__(self, fold: Callable[[str], Awaitable[Folding]]) -> None:
        self._fold = fold
        self._held: dict[str, Folding] = {}

    async def of(self, group: str) -> GroupState:
        return (await self.folding(group)).state

    async def folding(self, group: str) -> Folding:
        if group not in self._held:
            self._held[group] = await self._fold(group)
        return self._held[group]

    def forget(self, group: str) -> None:
        """Fold the group again when next asked (an epoch witnessed how some of its acts count)."""
        self._held.pop(group, None)


@dataclass(frozen=True)
class Held:
    """Why an epoch chunk is kept unread when its group, or a person of it, could not be judged (``held_back``)."""

    refusal: Refused  # what the chunk is kept with
    behind: bool  # the group's own failure, not the chunk's: said (``GroupSync.failed``), as a held group's is
    counted: bool  # its server answered (a try counted: tried less and less often); else due at the next sync


def held_back(exc: ApiError | Refused) -> Held:
    """How a chunk waits when judging it failed with ``exc``. Its server not answering now for the group's log or
    a person's (a rate limit, a server error: ``not_answered``) leaves the group behind: said, and tried at every
    later sync, after the chunks that wait for anything else, so one group whose look-up keeps failing never
    stops the others' (a failed answer ends the sync's look-ups: ``murmur.client.lookups``). A look-up the sync
    never made (its budget spent) waits for the next sync, unsaid, since a stranger may name any number of
    made-up groups; so does a group the server does not know yet (its public messages have not come), tried
    less and less often. A log or an identity the server gives that does not resolve here is said, and tried
    less and less often. Anything else is the chunk's own refusal."""
    if isinstance(exc, ApiError):
        if exc.code == "not_found":
            return Held(Refused(GROUP_UNKNOWN, f"The group is not known to your server yet: {exc.message}"),
                        behind=False, counted=True)  # fmt: skip
        if failing(exc):
            return Held(not_answered(exc), behind=True, counted=False)
        said = f"Your server's answer about the group cannot be read here: {exc.message}"
        return Held(Refused(GROUP_UNKNOWN, said), behind=True, counted=True)
    if exc.code == NOT_LOOKED_UP:  # asked and failed (``Lookups.budgeted`` gives the answer as its cause), or not
        cause = exc.__cause__
        if isinstance(cause, ApiError):
            return Held(not_answered(cause), behind=True, counted=False)
        return Held(exc, behind=False, counted=False)
    return Held(exc, behind=exc.code == IDENTITY_UNVERIFIED, counted=True)


def not_answered(exc: ApiError) -> Refused:
    return Refused(NOT_ANSWERED, f"Your server did not answer a look-up the group needs ({exc.message}); tried again"
                   " at the next sync.")  # fmt: skip
