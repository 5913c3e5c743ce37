"""Stands in for an older murmur in the mixed-version tests: today's program without edits and groups.

``python -m tests.e2e.older serve ...`` takes the ``edit`` kind and every group kind out of ``murmur.kinds``, and
the ``group`` tag name with them, before anything validates or stores a message, then runs the ordinary CLI.
That is the version before edits and groups, forward compatibility included: it carries edits and group
messages as kinds it does not know, and a post's ``group`` tag as a tag a later version added
(docs/protocol.md §7.3); it keeps no versions and no group state, and has no history or group routes.
"""

from __future__ import annotations

from murmur import kinds
from murmur.kinds import edit, group, group_members, group_moderation

FORGOTTEN = (edit, group, group_members, group_moderation)
FORGOTTEN_TAGS = ("group",)

if __name__ == "__main__":
    kinds.forget(FORGOTTEN, FORGOTTEN_TAGS)
    from murmur.client.cli.main import main

    main()
