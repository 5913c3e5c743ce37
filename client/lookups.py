"""What one sync (or one command) looks up on the home server: each log at most once, and of the names that
messages give (any stranger can seal a message naming anyone, or any group) at most ``LOOKUPS_PER_SYNC``
(docs/encryption.md §9.4 "Looking up", §16.5). The direct messages' sync and the private groups' commands both
count their look-ups here, one rule for both.

A look-up this sync may not make, or one after an answer failed (a rate limit, a server error: nothing more is
asked this time), is refused ``not_looked_up``: its message is kept with that reason and tried again at a later
sync, so a flood of messages naming strangers can cost at most the budget, never the person's rate limit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from murmur.client.api import ApiError
from murmur.errors import Refused

LOOKUPS_PER_SYNC = 64
NOT_LOOKED_UP = "not_looked_up"
log = logging.getLogger("murmur.client.lookups")
T = TypeVar("T")

__all__ = ["LOOKUPS_PER_SYNC", "NOT_LOOKED_UP", "Lookups", "failing"]


def failing(exc: ApiError) -> bool:
    """Whether an error answer is the server not answering now (a rate limit, a server error), not its word."""
    return exc.status == 429 or exc.status >= 500


class Lookups:
    """The look-ups of one sync or command: each answer kept for the rest of it (``once``), and a budget for the
    names messages give (``budgeted``)."""

    def __init__(self, budget: int = LOOKUPS_PER_SYNC) -> None:
        self.left = budget
        self._held: dict[Hashable, Any] = {}

    async def once(self, key: Hashable, look: Callable[[], Awaitable[T]]) -> T:
        """``look()``, asked once for ``key``: later calls get its first answer. A failure is not kept (asked
        again next time); a 200-member group's post costs each member's log one request, not one per use."""
        if key not in self._held:
            self._held[key] = await look()
        answer: T = self._held[key]
        return answer

    def keep(self, key: Hashable, answer: object) -> None:
        """Keep ``answer`` for ``key`` too (an identity's log, asked for by one of its device keys)."""
        self._held.setdefault(key, answer)

    async def budgeted(self, key: Hashable, look: Callable[[], Awaitable[T]]) -> T:
        """``once``, counted against the budget when not held yet: ``not_looked_up`` when it is spent, or when
        the server fails to answer (``failing``: that spends it, a rate-limited or failing server is asked nothing
        more this time). Any other ``ApiError`` is the server's word on that name, raised as it came."""
        if key in self._held:
            return await self.once(key, look)
        if self.left <= 0:
            raise Refused(NOT_LOOKED_UP, f"Not looked up at this sync: it has looked up {LOOKUPS_PER_SYNC} names"
                          " messages gave, or your server stopped answering; tried again at a later sync.")  # fmt: skip
        self.left -= 1
        try:
            return await self.once(key, look)
        except ApiError as exc:
            if not failing(exc):  # the server's answer on that name (none such, or not of the right shape)
                raise
            log.info("a look-up failed (%s): nothing more is looked up at this sync", exc.code)
            self.left = 0
            raise Refused(NOT_LOOKED_UP, f"Your server did not answer a look-up ({exc.message}); tried again at"
                          " a later sync.") from exc  # fmt: skip
