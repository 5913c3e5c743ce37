"""Who is in a group: join (or ask to), leave, and the moderators' approve and remove; the owner's mod and unmod.

Each names its group with a ``group`` tag; those about someone else name them with a ``subject`` tag. What
each does, and who may, is the fold's (murmur/kinds/group_fold.py): a message by someone without the authority
at its time is stored and relayed like any valid message, and changes nothing. The state is kept by the
``group`` kind, which watches the ``group`` tag.
"""

from __future__ import annotations

from murmur.kinds.base import Kind
from murmur.kinds.group_state import person_sql

# Who hears of it (the rules run over every batch, whatever kinds it holds; each is listed under one kind):
# the subject of an approval, a removal or an appointment that counted (the fold already ran in this
# transaction, so the subject's current place, their identity's for a device's key, says whether it did), and the
# owner and moderators of a group someone asked to join. CROSS JOIN keeps the batch's seq range first, as the
# other notice rules do; the kinds are named beside the range too, or SQLite read every approval, removal and
# appointment of the log per batch (one index search a kind, for the OR below).
_ABOUT_SUBJECT = (
    "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT m.subject, m.seq, m.kind FROM messages m"
    " CROSS JOIN groups_log l ON l.seq = m.seq"
    f" CROSS JOIN groups_people p ON p.grp = l.grp AND p.key IN {person_sql('m.subject')}"
    " WHERE m.seq BETWEEN :lo AND :hi AND m.kind IN ('group_approve', 'group_remove', 'group_mod')"
    " AND m.subject != m.author AND ("
    "(m.kind = 'group_approve' AND p.status = 'member') OR (m.kind = 'group_remove' AND p.status = 'removed')"
    " OR (m.kind = 'group_mod' AND p.role = 'moderator'))"
)
_ASKED = (
    "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT q.key, m.seq, 'group_join' FROM messages m"
    " CROSS JOIN groups_log l ON l.seq = m.seq"
    f" CROSS JOIN groups_people p ON p.grp = l.grp AND p.key IN {person_sql('m.author')} AND p.status = 'pending'"
    " CROSS JOIN groups_people q ON q.grp = l.grp AND q.status = 'member' AND q.role IN ('owner', 'moderator')"
    " WHERE m.seq BETWEEN :lo AND :hi AND m.kind = 'group_join'"
)

_SELF = {"group": (1, 1)}
_ABOUT = {"group": (1, 1), "subject": (1, 1)}

KINDS = (
    Kind(name="group_join", tags=_SELF, notices=(_ASKED,)),  # join an open group; ask to join one needing approval
    Kind(name="group_leave", tags=_SELF),  # leave, or take back a request
    Kind(name="group_approve", tags=_ABOUT, notices=(_ABOUT_SUBJECT,)),  # a moderator lets in someone who asked
    Kind(name="group_remove", tags=_ABOUT),  # a moderator removes a member or turns down a request
    Kind(name="group_mod", tags=_ABOUT),  # the owner appoints a moderator
    Kind(name="group_unmod", tags=_ABOUT),  # the owner dismisses a moderator
)
