"""A delete: its author takes back one of their own messages, whichever of the two arrives first.

The store keeps a tombstone per (target, author); a target whose kind is removable goes, with everything the
store derived from it, and a copy that arrives later is not kept. A delete aimed at a kind that is replaced
rather than removed (a profile, a follow) is kept as a valid signed message but removes nothing.
"""

from __future__ import annotations

from murmur.kinds.base import VISIBILITY_FIELD, Kind, visibility_rule

# A delete of a local or scoped message signs that audience (the client does), so it travels only where the
# message could, and a server that never held the message still narrows it.
KIND = Kind(
    name="delete", body=VISIBILITY_FIELD, rules=(visibility_rule,), tags={"target": (1, 1)}, own_target=True
)
