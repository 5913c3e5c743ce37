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
read, and records what went wrong (``problems``) so the import can report it. Plain (uncompressed) JSON Lines
with the same header are accepted too, so a bundle can be unpacked, filtered with ordinary tools and imported.
"""

from __future__ import annotations

import gzip
import json
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from murmur import __version__
from murmur.errors import Refused

FORMAT_VERSION = 1
HEADER_KEY = "murmur_bundle"
GZIP_MAGIC = b"\x1f\x8b"
READ_CHUNK = 64 * 1024
INFLATE_SLICE = 512
MAX_LINE = 1024 * 1024  # far above any valid message; a longer "line" is damage, not a message


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


@dataclass
class BundleReader:
    """Reads a bundle from a binary stream. ``header`` is read at once; iterate for ``(line number, bytes)``."""

    stream: IO[bytes]
    header: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    lines_read: int = 0
    _lines: Iterator[bytes] | None = None

    def __post_init__(self) -> None:
        self._lines = self._split()
        first = next(self._lines, None)
        if first is None:
            raise Refused("not_a_bundle", "The file is empty or unreadable: not a murmur bundle.")
        try:
            header = json.loads(first)
        except ValueError:
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
                try:
                    data = inflate.decompress(chunk[at : at + INFLATE_SLICE])
                except zlib.error as exc:
                    self.problems.append(
                        Problem("corrupt", f"The compressed data is damaged ({exc}); reading stopped.")
                    )
                    return
                if data:
                    yield data
                if inflate.eof:
                    if inflate.unused_data.strip(b"\0") or chunk[at + INFLATE_SLICE :].strip(b"\0"):
                        self.problems.append(
                            Problem("trailing_data", "Bytes after the end of the bundle were ignored.")
                        )
                    return
            chunk = self.stream.read(READ_CHUNK)
        tail = inflate.flush()
        if tail:
            yield tail
        self.problems.append(Problem("truncated", "The bundle ends early (it was cut short); reading stopped."))

    def _split(self) -> Iterator[bytes]:
        buffer = b""
        for chunk in self._decompressed():
            *complete, buffer = (buffer + chunk).split(b"\n")
            yield from complete
            if len(buffer) > MAX_LINE:  # no message is this long: hand it on to be refused, keep going
                yield buffer
                buffer = b""
        if buffer:
            yield buffer

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        assert self._lines is not None
        for number, line in enumerate(self._lines, 2):  # the header was line 1
            if line.strip():
                self.lines_read += 1
                yield number, line
        expected = self.header.get("count")
        if isinstance(expected, int) and expected != self.lines_read:
            self.problems.append(
                Problem("count_mismatch", f"The header promises {expected} messages; {self.lines_read} were found.")
            )
