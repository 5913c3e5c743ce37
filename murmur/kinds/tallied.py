"""What reactions and boosts share: each counts, and is told, once per person, however many identical signed
messages they sent (table ``tallies``; the first of the twins is the one with the lowest seq)."""

from __future__ import annotations

from murmur.kinds.batch import batch

FIRST_TALLY = (
    "NOT EXISTS (SELECT 1 FROM tallies u WHERE u.target = a.target AND u.kind = a.kind AND u.author = a.author"
    " AND u.emoji = a.emoji AND u.seq < a.seq)"
)


TARGET_HELD = "EXISTS (SELECT 1 FROM messages t WHERE t.id = m.target)"
"""A reaction or boost is told while what it is about is held: a deleted post takes them out of view."""


def tally_notices(kind: str) -> tuple[str, ...]:
    """Tell the target's author of the first tally of each person, looked at from both ends (the target can
    arrive after the reaction).

    From the target's end, each message of the batch (``murmur.kinds.batch``) is looked up in ``tallies`` by its
    key (target, kind), which holds all the rule reads: work in proportion to the batch, not the log. Through
    ``messages`` (its target index, then each reaction's row) PostgreSQL's plan read every reaction of the log at
    each batch (docs/performance.md).
    """
    return (
        "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT t.author, r.seq, r.kind FROM messages r"
        " CROSS JOIN messages t ON t.id = r.target CROSS JOIN tallies a ON a.seq = r.seq"
        f" WHERE r.seq BETWEEN :lo AND :hi AND r.kind = '{kind}' AND t.author != r.author AND {FIRST_TALLY}",
        f"INSERT OR IGNORE INTO notices (key, seq, kind) SELECT t.author, a.seq, a.kind FROM {batch('id', 'author')} t"
        f" CROSS JOIN tallies a ON a.target = t.id WHERE a.kind = '{kind}' AND t.author != a.author AND {FIRST_TALLY}",
    )
