"""What moderators do to a group's posts: hide one (saying why) or show it again, pin one as an announcement or
take it down.

Each names its group (tag ``group``) and the post (tag ``target``). A hidden post stays in the group's timeline,
marked with who hid it and why, never dropped. Authority is the fold's (murmur/kinds/group_fold.py): only
what a moderator or the owner signed while they held the role counts. The state is kept by the ``group`` kind.
"""

from __future__ import annotations

from murmur.kinds.base import Field, Kind

_ABOUT_POST = {"group": (1, 1), "target": (1, 1)}

KINDS = (
    Kind(name="group_hide", body={"reason": Field(True, 500)}, tags=_ABOUT_POST),
    Kind(name="group_unhide", tags=_ABOUT_POST),
    Kind(name="group_pin", tags=_ABOUT_POST),
    Kind(name="group_unpin", tags=_ABOUT_POST),
)
