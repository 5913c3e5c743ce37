"""Messages several widgets and screens send up to the app (one definition, many senders).

Per-widget messages live with their widget; these are shared because every list and screen that talks to
the server can report the same things: the network failed or recovered, names are needed, an action on a
post was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class NetworkTrouble(Message):
    """A request failed; ``reason`` is safe to show. ``offline`` when the server could not be reached."""

    reason: str
    offline: bool = True


@dataclass
class NetworkOk(Message):
    """A request succeeded: whatever said "offline" may say "online" again."""


@dataclass
class NamesWanted(Message):
    """Display names are needed for these keys."""

    keys: set[str]


@dataclass
class PostAction(Message):
    """The person asked for ``action`` (open, reply, react, boost, delete, author, raw, links) on ``item``."""

    action: str
    item: dict[str, Any]
    """A timeline item (``message``, ``counts``, ...) or a notification item."""
