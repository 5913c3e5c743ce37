"""The batch a rule runs over, in SQL: the messages whose seq is in [:lo, :hi].

Ingest runs every kind's ``derive`` and ``notices`` rules over each batch it stores (``murmur.store.ingest``).
On PostgreSQL the write connection plans each rule once, without its values (a generic plan:
``murmur.store.postgres``), and takes ``seq BETWEEN :lo AND :hi`` for 0.5 % of the log: 5,000 messages at
1,000,000. For a rule that looks up what points at the batch's messages (replies to them, edits, signatures,
tallies) that many probes of an index looked dearer than reading the whole index or table, so each batch read
all of it (docs/performance.md, "The batch's rules at 1,000,000 messages").

``batch`` gives those rules the batch as a subquery under ``LIMIT :hi - :lo + 1``: a LIMIT whose value the plan
does not know, PostgreSQL counts as a tenth of the rows under it, and the probes win. The LIMIT is the range's
width and seqs are unique, so every message of the range is kept. SQLite runs the subquery as a co-routine and
probes from it as before. The guess still grows with the log (0.05 % of it): at 10,000,000 messages it is back
to 5,000 rows.
"""

from __future__ import annotations


def batch(*columns: str) -> str:
    """SQL: the batch's ``messages`` rows with ``columns``, as a parenthesised subquery to alias in a FROM."""
    return f"(SELECT {', '.join(columns)} FROM messages WHERE seq BETWEEN :lo AND :hi LIMIT :hi - :lo + 1)"
