"""Moving bundles in and out of a store: which messages an export takes, and importing through ingest.

An import goes through ``Store.ingest`` like every other way in (origin ``import``), in batches of
``IMPORT_BATCH``, each its own transaction: a bundle cut off half-way, or an import killed half-way, leaves
whole batches and nothing half-written, and running it again stores only what is still missing, because a
message already held is a duplicate. Public messages imported land in the log like any other, so the push
loops relay them to peers.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from murmur.store import Store
from murmur.store.audience import for_peers
from murmur.sync.bundle import MAX_LINE, BundleReader, BundleWriter

IMPORT_BATCH = 500
EXPORT_PAGE = 1000
MAX_LISTED = 100  # refusals listed one by one in a report; the counts always cover all of them


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """What an export takes: what a peer may see (``murmur.store.audience``); ``include_local`` adds local posts
    and what is about them (an admin's copy, or a person's own messages moving with them)."""

    since: int | None = None
    authors: tuple[str, ...] = ()
    tag: str | None = None
    include_local: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.since is not None:
            out["since"] = self.since
        if self.authors:
            out["authors"] = list(self.authors)
        if self.tag:
            out["tag"] = self.tag
        out["visibility"] = "all" if self.include_local else "public"
        return out

    def where(self) -> tuple[str, list[Any]]:
        """The query for matching rows as ``(sql, params)``; rows are ``(seq, raw)``."""
        sql = "SELECT m.seq, m.raw FROM messages m WHERE " + ("1" if self.include_local else for_peers("m"))
        params: list[Any] = []
        if self.since is not None:
            sql += " AND m.created_at >= ?"
            params.append(self.since)
        if self.authors:
            sql += f" AND m.author IN ({','.join('?' * len(self.authors))})"
            params.extend(bytes.fromhex(a) for a in self.authors)
        if self.tag:
            sql += " AND m.seq IN (SELECT seq FROM hashtags WHERE tag = ?)"
            params.append(self.tag)
        return sql, params


async def _matching(store: Store, chosen: ExportFilter) -> AsyncIterator[bytes]:
    sql, params = chosen.where()
    after = 0
    while True:
        async with store.conn.execute(
            f"{sql} AND m.seq > ? ORDER BY m.seq LIMIT ?", (*params, after, EXPORT_PAGE)
        ) as c:
            rows = await c.fetchall()
        for seq, raw in rows:
            after = int(seq)
            yield bytes(raw)
        if len(rows) < EXPORT_PAGE:
            return


async def export_bundle(store: Store, out: IO[bytes], chosen: ExportFilter) -> int:
    """Write a bundle of the matching messages to ``out``; returns how many were written.

    Rows are read in pages of log order; the header's count is taken first, so a message stored by a running
    server during the export may be written without being counted, which a reader reports and ignores.
    """
    sql, params = chosen.where()
    async with store.conn.execute(f"SELECT count(*) FROM ({sql})", params) as cursor:
        row = await cursor.fetchone()
    count = int(row[0]) if row else 0
    with BundleWriter(out, count, chosen.as_dict()) as writer:
        async for raw in _matching(store, chosen):
            if writer.written == count:
                break  # a snapshot of what was counted: later arrivals wait for the next export
            writer.add(raw)
        return writer.written


@dataclass
class ImportReport:
    stored: int = 0
    duplicate: int = 0
    deleted: int = 0
    refused: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.refused and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicate": self.duplicate,
            "deleted": self.deleted,
            "refused": self.refused,
            "reasons": dict(self.reasons),
            "refusals": self.refusals,
            "problems": self.problems,
            "bundle": self.header,
        }


async def import_bundle(store: Store, stream: IO[bytes], *, batch: int = IMPORT_BATCH) -> ImportReport:
    """Validate and store every message of a bundle; raises ``Refused`` if it is not a bundle at all."""
    reader = BundleReader(stream)
    report = ImportReport(header=reader.header)
    lines: deque[list[int]] = deque()  # the bundle line of each message, per batch handed out and not yet stored

    def batches() -> Iterator[list[bytes]]:
        pending: list[tuple[int, bytes]] = []
        for line, raw in reader:
            pending.append((line, raw))
            if len(pending) >= batch:
                lines.append([n for n, _ in pending])
                yield [r for _, r in pending]
                pending = []
        if pending:
            lines.append([n for n, _ in pending])
            yield [r for _, r in pending]

    # The next batch is read and validated while the last one is written (see Store.ingest_stream).
    async for results in store.ingest_stream(batches(), origin="import"):
        for line, result in zip(lines.popleft(), results, strict=True):
            setattr(report, result.status, getattr(report, result.status) + 1)
            if result.status == "refused":
                report.reasons[result.code or "refused"] += 1
                if len(report.refusals) < MAX_LISTED:
                    report.refusals.append({"line": line, **result.as_dict()})
    if reader.overlong:
        report.refused += reader.overlong
        report.reasons["too_large"] += reader.overlong
        reason = f"The line is over {MAX_LINE} bytes, longer than any message; it was skipped unread."
        for line in reader.overlong_lines[: max(0, MAX_LISTED - len(report.refusals))]:
            report.refusals.append({"line": line, "status": "refused", "code": "too_large", "reason": reason})
    report.problems = [p.as_dict() for p in reader.problems]
    return report
