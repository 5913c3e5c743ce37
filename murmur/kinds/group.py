"""A group around a cause: created by a signed message whose id is the group's id; its author is its owner.

The body holds the group's name, description, rules, and how people join (``open``: at once; ``approval``: a
moderator approves each request). A group never changes after it is made (there is no edit of it yet); what
changes is who is in it and what its moderators did, each a signed message of its own
(murmur/kinds/group_members.py, murmur/kinds/group_moderation.py) naming the group with a ``group`` tag.

This kind keeps the state of every group: its ``apply`` watches the ``group`` tag, so it gets the group's
membership and moderation messages and the entries (posts, polls, meetups) addressed to a group along with
creation messages, and folds each group they touch again (murmur/kinds/group_state.py), from the messages
readers are shown: a join signed by a device counts once its identity's log says the device speaks for it
(``reshow``), as every other count does. Groups are public: their
messages go wherever public messages go, under the one audience rule. A private group (``join`` ``invite``) is a
public group too, its name and members in the clear; only what its members write is sealed.
"""

from __future__ import annotations

from murmur.kinds.base import Field, Kind
from murmur.kinds.group_private import plain_in_private, refuse_plain
from murmur.kinds.group_state import ENTRIES_BACKFILL, FOLDED, SCHEMA, record, reshow

# ``invite``: a private group (docs/encryption.md §16): its moderators invite people (an approval of someone
# who did not ask), and what its members write is sealed for them (sealed messages naming the group).
JOIN_MODES = ("open", "approval", "invite")

KIND = Kind(
    name="group",
    body={
        "name": Field(True, 100),
        "description": Field(False, 2000),
        "rules": Field(False, 2000),
        "join": Field(True, 8, JOIN_MODES),
    },
    apply=record,
    watches=("group",),
    migrations=(SCHEMA, FOLDED, ENTRIES_BACKFILL),
    admit=refuse_plain,
    withheld=plain_in_private,
    reshow=reshow,
)
