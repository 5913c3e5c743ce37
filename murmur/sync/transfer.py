"""Moving bundles in and out of a store: which messages an export takes, and importing through ingest.

An import goes through ``Store.ingest`` like every other way in (origin ``import``), in batches of
``IMPORT_BATCH``, each its own transaction: a bundle cut off half-way, or an import killed half-way, leaves
whole batches and nothing half-written, and running it again stores only what is still missing, because a
message already held is a duplicate. Public messages imported land in the log like any other, so the push
loops relay them to peers.

A bundle imported into a data directory brings no local post in (``local_post``), whoever wrote it; a person
brings their own, local posts included, to their new home server with ``import_own``, through the client API.
Both read the bundle through ``BundleReader``, whose bounds hold whatever the file holds, and report alike.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from murmur.progress import Progress, nothing
from murmur.store import Store
from murmur.store.audience import refuse_local
from murmur.store.export import ExportFilter, count_matching, matching
from murmur.sync.bundle import MAX_LISTED, BundleReader, BundleWriter, Problem

IMPORT_BATCH = 500
OWN_BATCH_BYTES = 32 * 1024  # a request body every server accepts (max_body_bytes is at least 32 KiB)
REFUSED_ALLOWANCE = 10_000  # refused lines read on regardless (forgeries, a damaged stretch) ...
REFUSED_RATIO = 10  # ... and beyond it, up to this many per line that was a message
# Ids of the messages a file held lately. Copies only compress within deflate's 32 KiB window, a few hundred
# messages at most: a copy from further back costs the file its own bytes, as any message does.
RECENT_IDS = 4096
REPEATED = "The bundle already held this message a few lines before; a copy is not read again."


async def export_bundle(store: Store, out: IO[bytes], chosen: ExportFilter, progress: Progress = nothing) -> int:
    """Write a bundle of the matching messages to ``out``; returns how many were written.

    Rows are read in pages of log order; the header's count is taken first, so a message stored by a running
    server during the export may be written without being counted, which a reader reports and ignores.
    """
    count = await count_matching(store, chosen)
    progress(0, count)
    with BundleWriter(out, count, chosen.as_dict()) as writer:
        async for raw in matching(store, chosen):
            if writer.written == count:
                break  # a snapshot of what was counted: later arrivals wait for the next export
            writer.add(raw)
            progress(writer.written, count)
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
    _recent: dict[str, None] = field(default_factory=dict)  # insertion-ordered: the oldest is dropped first

    def add(self, line: int, result: dict[str, Any]) -> None:
        """Count one message's result (``IngestResult.as_dict()`` or a server's answer for it)."""
        status = result.get("status")
        if status in ("stored", "duplicate", "deleted") and self._repeats(result.get("id")):
            # A bundle never holds a message twice: copies of one (a bomb of them compresses like zeros) are
            # refused, so that a file of copies stops as one of junk lines does (hopeless).
            result = {"status": "refused", "code": "repeated", "id": result["id"], "reason": REPEATED}
            status = "refused"
        if status in ("stored", "duplicate", "deleted"):
            setattr(self, status, getattr(self, status) + 1)
            return
        self.refused += 1
        code = str(result.get("code") or "refused") if status == "refused" else "bad_answer"  # a server's odd answer
        self.reasons[code] += 1
        if len(self.refusals) < MAX_LISTED:
            said = {k: result[k] for k in ("id", "reason") if isinstance(result.get(k), str)}
            self.refusals.append(refusal(line, code, **said))

    def _repeats(self, message_id: object) -> bool:
        """Whether the file held this message lately; remembers it either way."""
        if not isinstance(message_id, str):
            return False
        if message_id in self._recent:
            return True
        self._recent[message_id] = None
        if len(self._recent) > RECENT_IDS:
            del self._recent[next(iter(self._recent))]
        return False

    def hopeless(self) -> bool:
        """Refusals so far far outnumber messages: a file of junk lines (a bomb of tiny ones, say) is not read
        to its end, whatever its size."""
        return self.refused > REFUSED_ALLOWANCE + REFUSED_RATIO * (self.stored + self.duplicate + self.deleted)

    def hopeless_reason(self) -> str:
        taken = self.stored + self.duplicate + self.deleted
        return (
            f"{self.refused} lines were refused and {taken} were messages this server could take: the file is"
            " damaged or is not a bundle of messages; reading stopped."
        )

    def finish(self, reader: BundleReader) -> None:
        """Add the lines the reader refused itself (blank, or too long to be messages) and the file's problems."""
        for why, count in reader.unread.items():
            self.refused += count
            self.reasons[why.code] += count
        unread = [refusal(line, why.code, reason=why.reason) for line, why in reader.unread_lines]
        # Each list holds the first refusals of its kind by line: merged, they are the file's first MAX_LISTED.
        self.refusals = sorted([*self.refusals, *unread], key=lambda r: int(r["line"]))[:MAX_LISTED]
        self.problems = [p.as_dict() for p in reader.problems]

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


def refusal(line: int, code: str, **said: str) -> dict[str, Any]:
    """One refused line of a report, as listed in ``refusals``."""
    return {"line": line, "status": "refused", "code": code, **said}


def batches(
    reader: BundleReader, report: ImportReport, size: int, max_bytes: int | None = None
) -> Iterator[list[tuple[int, bytes]]]:
    """A bundle's ``(line, bytes)`` in batches of at most ``size`` lines (and ``max_bytes``, newlines counted),
    until the lines refused so far (``report``) show that the file is not a bundle of messages."""
    pending: list[tuple[int, bytes]] = []
    held = 0
    for line, raw in reader:
        if pending and (len(pending) >= size or (max_bytes is not None and held + len(raw) + 1 > max_bytes)):
            if report.hopeless():
                break
            yield pending
            pending, held = [], 0
        pending.append((line, raw))
        held += len(raw) + 1
    if pending and report.hopeless():
        reader.problems.append(Problem("mostly_refused", report.hopeless_reason(), pending[0][0]))
    elif pending:
        yield pending


async def import_bundle(
    store: Store, stream: IO[bytes], *, batch: int = IMPORT_BATCH, progress: Progress = nothing
) -> ImportReport:
    """Validate and store every message of a bundle; raises ``Refused`` if it is not a bundle at all.

    Local posts are refused (``local_post``), whoever wrote them: a local post comes to a new server only with
    its author, through ``import_own``. What names one stays on this server all the same (murmur.store.audience).
    """
    reader = BundleReader(stream)
    report = ImportReport(header=reader.header)
    lines: deque[list[int]] = deque()  # the bundle line of each message, per batch handed out and not yet stored

    def raws() -> Iterator[list[bytes]]:
        for part in batches(reader, report, batch):
            lines.append([n for n, _ in part])
            yield [r for _, r in part]

    total, done = reader.promised, 0
    progress(done, total)
    # The next batch is read and validated while the last one is written (see Store.ingest_stream).
    async for results in store.ingest_stream(raws(), origin="import", policy=refuse_local("bundle")):
        for line, result in zip(lines.popleft(), results, strict=True):
            report.add(line, result.as_dict())
        done += len(results)
        progress(done, total if total is None else max(total, done))
    report.finish(reader)
    return report


OwnImport = Callable[[list[bytes]], Awaitable[list[dict[str, Any]]]]
"""Hands a batch of a person's own messages to their home server; one result per message, in order."""


async def import_own(stream: IO[bytes], send: OwnImport, progress: Progress = nothing) -> ImportReport:
    """Bring a bundle of one's own messages to one's home server through ``send`` (``POST /api/v1/import``),
    which stores only messages signed by the person asking: their local posts too, and nobody else's."""
    reader = BundleReader(stream)
    report = ImportReport(header=reader.header)
    total, done = reader.promised, 0
    progress(done, total)
    for part in batches(reader, report, IMPORT_BATCH, OWN_BATCH_BYTES):
        results = await send([raw for _, raw in part])
        for (line, _), result in zip(part, results, strict=True):
            report.add(line, result)
        done += len(part)
        progress(done, total if total is None else max(total, done))
    report.finish(reader)
    return report
