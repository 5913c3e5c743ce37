"""Offline bundles: signed messages in a file, carried by hand from one server to another.

A bundle is gzip-compressed UTF-8 text, one JSON document a line::

    {"murmur_bundle": 1, "created_at": <ms>, "count": <messages>, "filter": {...}, "generator": "murmur X"}
    <signed message, exactly as its author signed it (canonical JSON)>
    ...

The first line is the header: ``murmur_bundle`` is the format version (a reader refuses a newer one rather
than guess), ``count`` lets a reader notice missing lines, ``filter`` records what was asked for. Messages
follow in the order the exporting server stored them, so a message mostly precedes what refers to it. There is
nothing else: no server key, no member list, no signature of the server; each message proves itself, and
the importing server checks every one exactly as if a peer had sent it.

Reading is forgiving on purpose: a bundle cut short, or with damaged bytes, yields every line that could be
read, and records what went wrong (``problems``) so the import can report it. Every line after the header is
accounted for: it is handed on as a message, or refused here by its number (``unread``: a blank line, which is
no message, and a line longer than any message), so a reader's count of lines is the header's ``count`` unless
lines were lost or added (``count_mismatch``). It is bounded too, whatever the file holds: inflating goes 64 KiB
at a time, a line longer than any message is dropped as it streams by, and reading stops (problem ``filler``)
once the bytes that cannot be messages (blank and overlong lines) pass 1 MiB more than the bytes that can: a
gzip bomb is refused after a few MiB of zeros.
Plain (uncompressed) JSON Lines with the same header are accepted too, so a bundle can be unpacked, filtered
with ordinary tools and imported.
"""

from __future__ import annotations

import gzip
import json
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from murmur import __version__
from murmur.errors import Refused
from murmur.lines import Lines
from murmur.validate import MAX_MESSAGE_BYTES, parse_json

FORMAT_VERSION = 1
HEADER_KEY = "murmur_bundle"
GZIP_MAGIC = b"\x1f\x8b"
READ_CHUNK = 64 * 1024
INFLATE_SLICE = 512  # compressed bytes fed at a time
INFLATE_OUT = 64 * 1024  # inflated bytes produced at a time, whatever the compression ratio
MAX_LINE = MAX_MESSAGE_BYTES  # no message is longer: a longer line is dropped as it streams by, never held
FILLER_ALLOWANCE = 1024 * 1024  # bytes that are not messages tolerated beyond as many as the messages hold
MAX_LISTED = 100  # lines listed one by one in a report; the counts always cover all of them


def _long_header() -> Refused:
    return Refused("not_a_bundle", f"The first line is over {MAX_LINE} bytes: not a bundle header.")


def header_line(count: int, filters: dict[str, Any], created_at: int | None = None) -> bytes:
    header = {
        HEADER_KEY: FORMAT_VERSION,
        "created_at": int(time.time() * 1000) if created_at is None else created_at,
        "count": count,
        "filter": filters,
        "generator": f"murmur {__version__}",
    }
    return json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


class BundleWriter:
    """Writes a bundle to a binary stream: ``with BundleWriter(out, count, filters) as w: w.add(raw)``."""

    def __init__(self, out: IO[bytes], count: int, filters: dict[str, Any]) -> None:
        # mtime 0: the same messages make the same bytes; the header carries the time that matters
        self._gzip = gzip.GzipFile(fileobj=out, mode="wb", mtime=0)
        self._gzip.write(header_line(count, filters))
        self.written = 0

    def add(self, raw: bytes) -> None:
        if b"\n" in raw:
            raise ValueError("a stored message is canonical JSON and never holds a raw newline")
        self._gzip.write(raw + b"\n")
        self.written += 1

    def close(self) -> None:
        self._gzip.close()

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with the bundle as a whole (not with one message): ``line`` is where it was seen."""

    code: str
    reason: str
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "reason": self.reason}
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass(frozen=True, slots=True)
class Unread:
    """Why the reader refuses a line itself, never handing it on; ``code`` is one of docs/protocol.md's."""

    code: str
    reason: str


TOO_LONG = Unread("too_large", f"The line is over {MAX_LINE} bytes, longer than any message; it was skipped unread.")
# A blank line is not JSON text; skipped silently, it would only show as a count that does not add up, with no
# line to look at (a message cut out by hand, say, or a line break added by an editor).
BLANK = Unread("invalid_json", "The line is blank: a bundle holds one message a line and no empty lines.")


@dataclass
class BundleReader:
    """Reads a bundle from a binary stream. ``header`` is read at once; iterate for ``(line number, bytes)``."""

    stream: IO[bytes]
    header: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    lines_read: int = 0  # lines handed on as messages
    record_bytes: int = 0  # bytes of the lines that may be messages (the header's too)
    unread: Counter[Unread] = field(default_factory=Counter)
    unread_lines: list[tuple[int, Unread]] = field(default_factory=list)  # the first MAX_LISTED, by number
    _lines: Lines = field(default_factory=lambda: Lines(MAX_LINE))
    _reader: Iterator[bytes | None] | None = None

    def __post_init__(self) -> None:
        self._reader = self._split()
        first = next(self._reader, b"")
        if first is None:
            raise _long_header()
        if not first and not self._lines.number:
            raise Refused("not_a_bundle", "The file is empty or unreadable: not a murmur bundle.")
        try:
            header = parse_json(first, limit=None, strict=False)
        except Refused:
            header = None
        if not isinstance(header, dict) or HEADER_KEY not in header:
            raise Refused("not_a_bundle", 'The first line is not a bundle header ({"murmur_bundle": 1, ...}).')
        if header[HEADER_KEY] != FORMAT_VERSION:
            raise Refused(
                "unsupported_bundle",
                f"Bundle format {header[HEADER_KEY]!r} is not supported; this murmur reads format {FORMAT_VERSION}.",
            )
        self.header = header

    def _decompressed(self) -> Iterator[bytes]:
        first = self.stream.read(READ_CHUNK)
        if not first.startswith(GZIP_MAGIC):
            while first:
                yield first
                first = self.stream.read(READ_CHUNK)
            return
        inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        chunk = first
        while chunk:
            # Fed in small slices: when damage stops inflating, everything before it has already been yielded.
            for at in range(0, len(chunk), INFLATE_SLICE):
                data, out = chunk[at : at + INFLATE_SLICE], b""
                while data or len(out) == INFLATE_OUT:  # never more than INFLATE_OUT bytes inflated at once
                    try:
                        out = inflate.decompress(data, INFLATE_OUT)
                    except zlib.error as exc:
                        self.problems.append(
                            Problem("corrupt", f"The compressed data is damaged ({exc}); reading stopped.")
                        )
                        return
                    if out:
                        yield out
                    if inflate.eof:
                        if inflate.unused_data.strip(b"\0") or chunk[at + INFLATE_SLICE :].strip(b"\0"):
                            self.problems.append(
                                Problem("trailing_data", "Bytes after the end of the bundle were ignored.")
                            )
                        return
                    data = inflate.unconsumed_tail
            chunk = self.stream.read(READ_CHUNK)
        tail = inflate.flush()
        if tail:
            yield tail
        self.problems.append(Problem("truncated", "The bundle ends early (it was cut short); reading stopped."))

    def _split(self) -> Iterator[bytes | None]:
        """Lines of at most MAX_LINE bytes (``None`` for a longer one), until the file is mostly filler."""
        lines = self._lines
        for chunk in self._decompressed():
            for line in lines.feed(chunk):
                if line is not None and line.strip():
                    self.record_bytes += len(line) + 1
                yield line
            if lines.number == 0 and lines.overflowing:  # a header is short: do not read on to the end of this line
                raise _long_header()
            if lines.filler > FILLER_ALLOWANCE + self.record_bytes:
                self.problems.append(
                    Problem(
                        "filler",
                        f"After {self.record_bytes} bytes of lines that could be messages, the bundle holds"
                        f" {lines.filler} bytes that cannot (blank lines, or lines over {MAX_LINE} bytes):"
                        " it is damaged or was not written by murmur; reading stopped.",
                        lines.number + 1,
                    )
                )
                return
        yield from lines.end()

    @property
    def promised(self) -> int | None:
        """How many messages the header says follow, if it says so plainly; never trusted beyond a report."""
        count = self.header.get("count")
        return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """``(line number, bytes)`` of every line that may be a message; the others (blank, or too long to be a
        message: never held whole) are counted in ``unread``, the first MAX_LISTED by number in ``unread_lines``."""
        assert self._reader is not None
        for number, line in enumerate(self._reader, 2):  # the header was line 1
            if line is None or not line.strip():
                self._refuse(number, TOO_LONG if line is None else BLANK)
            else:
                self.lines_read += 1
                yield number, line
        if not any(p.code == "filler" for p in self.problems):  # stopped there: the lines not read are not lost
            self._check_count(self.lines_read + self.unread.total())

    def _check_count(self, found: int) -> None:
        expected, follow = self.promised, f"{found} {'line follows' if found == 1 else 'lines follow'} it"
        if expected is None:
            shown = json.dumps(self.header.get("count"))[:40]
            reason = f"The header's count ({shown}) is not a number of messages, so lost lines go unnoticed; {follow}."
        elif expected != found:
            lost = "lost" if found < expected else "added"
            reason = f"The header promises {expected} messages, but {follow}: lines were {lost} since it was made."
        else:
            return
        self.problems.append(Problem("count_mismatch", reason))

    def _refuse(self, number: int, why: Unread) -> None:
        self.unread[why] += 1
        if len(self.unread_lines) < MAX_LISTED:
            self.unread_lines.append((number, why))
