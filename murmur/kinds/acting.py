"""Whether the signer of one message may act for the author of another: a person's devices act for each other.

A delete, an edit, a meetup's update and a letter's new version are about their author's own message. Its author
is a person (an identity, docs/protocol.md §13), not one key: any device of theirs may delete, edit or update what
another posted. A device speaks for the identity while the identity's log counts it, at the time of each message
it signs (its claim is valid: ``murmur.kinds.key_store.speakers`` for a batch, ``identity_claims`` for the held);
a removed device's message dated after its removal speaks for no one (the log's ``admit`` refused it already), and
a key no log lists speaks for itself alone. So a message acts for the author of another when the same key signed
both, or both speak for the same identity.

Every kind that checks authorship asks here: ingest for what is handed in (``acts_for``), the kinds' reads for
what is held (``acts_for_sql``): the version of a post readers see, its history, a meetup's current version, a
letter's newer versions, and who is told of them.
"""

from __future__ import annotations


def acts_for(signer: str, signer_person: str | None, author: str, author_person: str | None) -> bool:
    """Whether a message signed by ``signer``, speaking for ``signer_person`` (None: for no identity), may act for
    the author of a message signed by ``author``, speaking for ``author_person``."""
    return signer == author or (signer_person is not None and signer_person == author_person)


def acts_for_sql(signer: str, author: str) -> str:
    """SQL: true when the held message ``signer`` (a ``messages`` row) may act for the author of the held message
    ``author``: one key signed both, or both speak for one identity (NULL, for no one, equals nothing)."""
    return f"({signer}.author = {author}.author OR {_speaker(signer)} = {_speaker(author)})"


def _speaker(row: str) -> str:
    """SQL: the identity the held message ``row`` speaks for, NULL for none; its own alias, named after ``row``, so
    that it never takes the place of a row of the query around it."""
    claim = f"{row}_speaks"
    return (
        f"(SELECT {claim}.identity FROM identity_claims {claim}"
        f" WHERE {claim}.seq = {row}.seq AND {claim}.status = 'valid')"
    )
