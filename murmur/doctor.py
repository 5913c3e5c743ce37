"""``murmur doctor``: what needs looking at on a server (or a person's machine), one finding per line.

Each check is a plain function returning ``Finding``s; the command gathers them (``murmur.server.cli.doctor``
for a data directory, ``murmur.client.cli.doctor`` for a person's home). A finding needs action when something is
broken or about to break (a key others can read, a clock too far off for signed requests, a manifest that does
not verify, a peer unreachable with deliveries waiting); it warns when it is worth a look; it is ``ok``
otherwise.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from murmur.httpsig import DEFAULT_WINDOW_S

OK, WARN, ACTION = "ok", "warn", "action"
SKEW_WARN_S = 10  # well past the Date header's one-second resolution and a slow round trip
SKEW_ACTION_S = DEFAULT_WINDOW_S // 2  # signed requests are refused beyond the window: act well before


@dataclass(frozen=True, slots=True)
class Finding:
    level: str  # ok | warn | action
    area: str  # clock | peer | manifest | files | deliveries | members
    subject: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "area": self.area, "subject": self.subject, "message": self.message}

    def line(self) -> str:
        return f"{self.level:6} {self.area:10} {self.subject}: {self.message}"


def needs_action(findings: list[Finding]) -> bool:
    return any(f.level == ACTION for f in findings)


def private_file(path: Path, what: str) -> Finding:
    """A key or database file: present, and readable and writable by its owner only."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return Finding(ACTION, "files", str(path), f"the {what} is missing")
    except OSError as exc:
        return Finding(ACTION, "files", str(path), f"the {what} cannot be read: {exc.strerror}")
    if mode & 0o077:
        return Finding(ACTION, "files", str(path), f"the {what} is open to other users (mode {mode:04o}); chmod 600 it")
    return Finding(OK, "files", str(path), f"the {what} is private (mode {mode:04o})")


def private_folder(path: Path, what: str) -> Finding:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        return Finding(ACTION, "files", str(path), f"the {what} cannot be read: {exc.strerror}")
    if mode & 0o022:
        return Finding(
            ACTION, "files", str(path), f"other users can write to the {what} (mode {mode:04o}); chmod 700 it"
        )
    return Finding(OK, "files", str(path), f"the {what} is writable by its owner only (mode {mode:04o})")


def clock_skew(subject: str, date_header: str | None, sent_at: float, received_at: float) -> Finding:
    """How far the other side's clock (its HTTP ``Date``, one-second resolution) is from ours, taking the
    request's midpoint as the moment it was written."""
    if not date_header:
        return Finding(WARN, "clock", subject, "answered without a Date header; its clock cannot be compared")
    try:
        theirs = parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return Finding(WARN, "clock", subject, f"answered with an unreadable Date header {date_header[:40]!r}")
    skew = theirs - (sent_at + received_at) / 2
    slack = 1 + (received_at - sent_at) / 2  # the header's resolution and the round trip
    size = max(0.0, abs(skew) - slack)
    direction = "ahead of" if skew > 0 else "behind"
    if size > SKEW_ACTION_S:
        return Finding(
            ACTION, "clock", subject,
            f"its clock is {abs(skew):.0f} s {direction} this one: signed requests fail beyond {DEFAULT_WINDOW_S} s",
        )  # fmt: skip
    if size > SKEW_WARN_S:
        return Finding(WARN, "clock", subject, f"its clock is {abs(skew):.0f} s {direction} this one")
    return Finding(OK, "clock", subject, f"clocks agree within {slack + size:.0f} s")
