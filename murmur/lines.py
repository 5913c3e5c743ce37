"""Lines read from elsewhere (a bundle, a server's event stream), with a bound on what one line may hold.

A line reader that joins bytes until it sees a newline holds a whole "line" of any length in memory: a gzip
bomb of a million zeros after a bundle header, or a server that never ends a line, takes all of it. ``Lines``
holds at most ``cap`` bytes of one line: a longer line is dropped as it streams by, and reported by its number
(``overlong``), and the bytes that were not lines of a message (overlong and blank lines) are counted
(``filler``) so that the reader can stop a file that is mostly not messages.

Compressed input is inflated in bounded steps by its reader (``murmur.sync.bundle``); over HTTP, murmur asks
for and accepts only uncompressed answers (``compressed``), so nothing from elsewhere is inflated unseen.
"""

from __future__ import annotations

from collections.abc import Iterator

IDENTITY = "identity"


class Lines:
    """Split a stream of byte chunks at ``\\n``: ``for line in lines.feed(chunk)``, then ``lines.end()``.

    Yields each line (without its newline) of at most ``cap`` bytes, and ``None`` in place of a longer one.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.number = 0  # lines ended so far
        self.overlong = 0
        self.filler = 0  # bytes of blank and overlong lines
        self._line = bytearray()
        self._dropping = False

    @property
    def overflowing(self) -> bool:
        """The line being read is already over the cap (it will end as ``None``): a reader may stop now."""
        return self._dropping

    def feed(self, chunk: bytes) -> Iterator[bytes | None]:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            self._take(chunk[start:] if end < 0 else chunk[start:end])
            if end < 0:
                return
            yield self._finish()
            start = end + 1

    def end(self) -> Iterator[bytes | None]:
        """The last line, if the stream does not end with a newline."""
        if self._line or self._dropping:
            yield self._finish()

    def _take(self, piece: bytes) -> None:
        if self._dropping:
            self.filler += len(piece)
            return
        self._line += piece
        if len(self._line) > self.cap:  # dropped from here on, never held whole
            self.filler += len(self._line)
            self._line.clear()
            self._dropping = True

    def _finish(self) -> bytes | None:
        self.number += 1
        if self._dropping:
            self._dropping = False
            self.overlong += 1
            self.filler += 1  # its newline
            return None
        line = bytes(self._line)
        self._line.clear()
        if not line.strip():
            self.filler += len(line) + 1
        return line


ACCEPT_IDENTITY = {"Accept-Encoding": IDENTITY}
"""Request header for every murmur HTTP client: answers are read as sent, never inflated."""


def compressed(content_encoding: str | None, what: str) -> str | None:
    """Why an HTTP body (``what``: "The answer of X", "The request body") is refused when it is compressed, or
    None. Ask before the body is read: an HTTP client would otherwise inflate it whole, however large it grows."""
    if content_encoding and content_encoding.strip().lower() != IDENTITY:
        shown = content_encoding[:40].encode("ascii", "backslashreplace").decode()
        return f"{what} is compressed (Content-Encoding {shown!r}); murmur reads only uncompressed bodies."
    return None
