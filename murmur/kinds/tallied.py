"""What reactions and boosts share: each counts, and is told, once per person, however many identical signed
messages they sent (table ``tallies``; the first of the twins is the one with the lowest seq)."""

from __future__ import annotations

FIRST_TALLY = (
    "NOT EXISTS (SELECT 1 FROM tallies u WHERE u.target = a.target AND u.kind = a.kind AND u.author = a.author"
    " AND u.emoji = a.emoji AND u.seq < a.seq)"
)


TARGET_HELD = "EXISTS (SELECT 1 FROM messages t WHERE t.id = m.target)"
"""A reaction or boost is told while what it is about is held: a deleted post takes them out of view."""


def tally_notices(kind: str) -> tuple[str, ...]:
    """Tell the target's author of the first tally of each person, looked at from both ends (the target can
    arrive after the reaction).

    From the target's end, the batch's messages are looked up in ``tallies`` alone, whose key starts with
    (target, kind) and holds all the rule reads: one index probe per message of the batch, read from the index
    alone. Through ``messages`` (its target index, then each reaction's row), PostgreSQL's planner found a full
    read of every reaction cheaper than the probes, so each batch cost grew with the log (docs/performance.md).
    """
    return (
        "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT t.author, r.seq, r.kind FROM messages r"
        " CROSS JOIN messages t ON t.id = r.target CROSS JOIN tallies a ON a.seq = r.seq"
        f" WHERE r.seq BETWEEN :lo AND :hi AND r.kind = '{kind}' AND t.author != r.author AND {FIRST_TALLY}",
        "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT t.author, a.seq, a.kind FROM messages t"
        " CROSS JOIN tallies a ON a.target = t.id"
        f" WHERE t.seq BETWEEN :lo AND :hi AND a.kind = '{kind}' AND t.author != a.author AND {FIRST_TALLY}",
    )
